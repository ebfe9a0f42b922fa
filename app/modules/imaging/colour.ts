// Colour maths shared by the mask, the light match and the fidelity check.
// Everything is scalar-in/scalar-out or writes into caller-owned typed arrays:
// these run per pixel on multi-megapixel images, so no objects per call.

/** An 8-bit sRGB colour. */
export type Rgb = readonly [number, number, number]

/** sRGB 8-bit code value → linear light 0..1 (IEC 61966-2-1), one entry per code. */
export const SRGB_TO_LINEAR: Float64Array = (() => {
  const lut = new Float64Array(256)
  for (let i = 0; i < 256; i++) {
    const c = i / 255
    lut[i] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }
  return lut
})()

/** Linear light 0..1 → sRGB 8-bit code value, rounded and clamped. */
export function linearToSrgb8(v: number): number {
  if (v <= 0) return 0
  if (v >= 1) return 255
  const c = v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055
  return Math.round(c * 255)
}

// D65 reference white, the white point of sRGB.
const XN = 0.95047
const YN = 1.0
const ZN = 1.08883
const EPSILON = 216 / 24389 // (6/29)^3
const KAPPA_F = 24389 / 27 / 116 // slope of the linear segment of f(t), already divided by 116

function labF(t: number): number {
  return t > EPSILON ? Math.cbrt(t) : KAPPA_F * t + 16 / 116
}

/**
 * sRGB 8-bit → CIELAB (D65) written into `out[offset..offset+2]`.
 * why the out-parameter: called per pixel; returning a tuple would allocate.
 */
export function srgbToLab(r: number, g: number, b: number, out: Float64Array | Float32Array, offset = 0): void {
  const rl = SRGB_TO_LINEAR[r]
  const gl = SRGB_TO_LINEAR[g]
  const bl = SRGB_TO_LINEAR[b]
  const fx = labF((0.4124564 * rl + 0.3575761 * gl + 0.1804375 * bl) / XN)
  const fy = labF((0.2126729 * rl + 0.7151522 * gl + 0.072175 * bl) / YN)
  const fz = labF((0.0193339 * rl + 0.119192 * gl + 0.9503041 * bl) / ZN)
  out[offset] = 116 * fy - 16
  out[offset + 1] = 500 * (fx - fy)
  out[offset + 2] = 200 * (fy - fz)
}

/** Steps of the table labFTabulated reads, over 0 … LAB_TOP (X/Xn and Z/Zn of an sRGB colour stay below 1.09). */
const LAB_STEPS = 4096
const LAB_TOP = 1.1
const LAB_F = ((): Float64Array => {
  const table = new Float64Array(LAB_STEPS + 2)
  for (let i = 0; i < table.length; i++) table[i] = labF((i / LAB_STEPS) * LAB_TOP)
  return table
})()

function labFTabulated(t: number): number {
  const x = (t < 0 ? 0 : t > LAB_TOP ? LAB_TOP : t) * (LAB_STEPS / LAB_TOP)
  const i = x | 0
  return LAB_F[i] + (x - i) * (LAB_F[i + 1] - LAB_F[i])
}

/**
 * srgbToLab with f(t) read from a table, linearly interpolated: within 0.003
 * of it in L*, a* and b*. why: for whole planes (the fidelity check's local change), where
 * three cube roots a pixel were most of the cost.
 */
export function srgbToLabTabulated(r: number, g: number, b: number, out: Float64Array | Float32Array, offset = 0): void {
  const rl = SRGB_TO_LINEAR[r]
  const gl = SRGB_TO_LINEAR[g]
  const bl = SRGB_TO_LINEAR[b]
  const fx = labFTabulated((0.4124564 * rl + 0.3575761 * gl + 0.1804375 * bl) / XN)
  const fy = labFTabulated((0.2126729 * rl + 0.7151522 * gl + 0.072175 * bl) / YN)
  const fz = labFTabulated((0.0193339 * rl + 0.119192 * gl + 0.9503041 * bl) / ZN)
  out[offset] = 116 * fy - 16
  out[offset + 1] = 500 * (fx - fy)
  out[offset + 2] = 200 * (fy - fz)
}

const DEG = Math.PI / 180
const POW25_7 = 25 ** 7

/** x^7 by multiplication: `**` goes through the generic pow and dominates ΔE2000's cost. */
function pow7(x: number): number {
  const x2 = x * x
  return x2 * x2 * x2 * x
}

/**
 * CIEDE2000 colour difference, exactly as in Sharma, Wu & Dalal (2005),
 * "The CIEDE2000 Color-Difference Formula: Implementation Notes,
 * Supplementary Test Data, and Mathematical Observations", with kL = kC = kH = 1.
 */
export function deltaE2000(L1: number, a1: number, b1: number, L2: number, a2: number, b2: number): number {
  // Step 1: a' rescaled by G so that near-neutral hues are judged fairly.
  const C1 = Math.sqrt(a1 * a1 + b1 * b1)
  const C2 = Math.sqrt(a2 * a2 + b2 * b2)
  const Cbar7 = pow7((C1 + C2) / 2)
  const G = 0.5 * (1 - Math.sqrt(Cbar7 / (Cbar7 + POW25_7)))
  const a1p = (1 + G) * a1
  const a2p = (1 + G) * a2
  const C1p = Math.sqrt(a1p * a1p + b1 * b1)
  const C2p = Math.sqrt(a2p * a2p + b2 * b2)
  // Hue angles in degrees, 0 when the colour is achromatic (eq. 7).
  let h1p = a1p === 0 && b1 === 0 ? 0 : Math.atan2(b1, a1p) / DEG
  if (h1p < 0) h1p += 360
  let h2p = a2p === 0 && b2 === 0 ? 0 : Math.atan2(b2, a2p) / DEG
  if (h2p < 0) h2p += 360

  // Step 2: differences.
  const dLp = L2 - L1
  const dCp = C2p - C1p
  const C12 = C1p * C2p
  let dhp = 0
  if (C12 !== 0) {
    dhp = h2p - h1p
    if (dhp > 180) dhp -= 360
    else if (dhp < -180) dhp += 360
  }
  const dHp = 2 * Math.sqrt(C12) * Math.sin((dhp / 2) * DEG)

  // Step 3: weighting functions.
  const Lbarp = (L1 + L2) / 2
  const Cbarp = (C1p + C2p) / 2
  let hbarp = h1p + h2p
  if (C12 !== 0) {
    if (Math.abs(h1p - h2p) <= 180) hbarp /= 2
    else hbarp = hbarp < 360 ? (hbarp + 360) / 2 : (hbarp - 360) / 2
  }
  const T =
    1 -
    0.17 * Math.cos((hbarp - 30) * DEG) +
    0.24 * Math.cos(2 * hbarp * DEG) +
    0.32 * Math.cos((3 * hbarp + 6) * DEG) -
    0.2 * Math.cos((4 * hbarp - 63) * DEG)
  const hd = (hbarp - 275) / 25
  const dTheta = 30 * Math.exp(-hd * hd)
  const Cbarp7 = pow7(Cbarp)
  const RC = 2 * Math.sqrt(Cbarp7 / (Cbarp7 + POW25_7))
  const Lm50sq = (Lbarp - 50) * (Lbarp - 50)
  const SL = 1 + (0.015 * Lm50sq) / Math.sqrt(20 + Lm50sq)
  const SC = 1 + 0.045 * Cbarp
  const SH = 1 + 0.015 * Cbarp * T
  const RT = -Math.sin(2 * dTheta * DEG) * RC

  const tL = dLp / SL
  const tC = dCp / SC
  const tH = dHp / SH
  return Math.sqrt(tL * tL + tC * tC + tH * tH + RT * tC * tH)
}

/** ΔE2000 between two 8-bit sRGB colours (convenience for tests and one-off checks). */
export function deltaE2000Rgb(c1: Rgb, c2: Rgb): number {
  const lab = new Float64Array(6)
  srgbToLab(c1[0], c1[1], c1[2], lab, 0)
  srgbToLab(c2[0], c2[1], c2[2], lab, 3)
  return deltaE2000(lab[0], lab[1], lab[2], lab[3], lab[4], lab[5])
}
