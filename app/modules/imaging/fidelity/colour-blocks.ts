// Colour: ΔE2000 between the mean colours of small interior blocks, each
// matched to the best of its one-pixel neighbours.
import { deltaE2000 } from '../colour.ts'
import { i32 } from './scratch.ts'
import { INTERIOR } from './grid.ts'
import type { DetailReference } from './types.ts'

/** Side of the blocks colour is compared over, grid px. */
export const BLOCK = 4

/** Summed-area tables of the three channels of an RGB image, (width + 1) × (height + 1) each. */
function rgbTables(rgb: Uint8Array, width: number, height: number): Int32Array[] {
  const stride = width + 1
  const tables = [0, 1, 2].map((c) => i32(`rgbTables${c}`, stride * (height + 1)))
  for (let c = 0; c < 3; c++) {
    const t = tables[c]
    for (let y = 0; y < height; y++) {
      let row = 0
      for (let x = 0; x < width; x++) {
        row += rgb[3 * (y * width + x) + c]
        t[(y + 1) * stride + x + 1] = t[y * stride + x + 1] + row
      }
    }
  }
  return tables
}

/** Mean of a BLOCK² square at (x, y) from the tables, written as Lab into out[0..2]. */
function blockLabAt(tables: Int32Array[], width: number, x: number, y: number, out: Float64Array): void {
  const stride = width + 1
  const a = y * stride + x
  const b = (y + BLOCK) * stride + x
  const n = BLOCK * BLOCK
  const [tr, tg, tb] = tables
  floatSrgbToLab(
    (tr[b + BLOCK] - tr[b] - tr[a + BLOCK] + tr[a]) / n,
    (tg[b + BLOCK] - tg[b] - tg[a + BLOCK] + tg[a]) / n,
    (tb[b + BLOCK] - tb[b] - tb[a + BLOCK] + tb[a]) / n,
    out,
  )
}

function srgbToLinear(v: number): number {
  const c = v / 255
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
}

function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 / 116) * t + 16 / 116
}

/**
 * srgbToLinear at every 1/BLOCK² of a code value, which is every value a
 * block mean can take, made once. why: three powers a block were a tenth
 * of the colour comparison.
 */
const blockLinear = ((): Float64Array => {
  const steps = BLOCK * BLOCK
  const table = new Float64Array(255 * steps + 1)
  for (let i = 0; i < table.length; i++) table[i] = srgbToLinear(i / steps)
  return table
})()

function linearOf(v: number): number {
  // why exact: v is a sum of BLOCK² code values divided by BLOCK², a power of two.
  const i = v * BLOCK * BLOCK
  return Number.isInteger(i) && i >= 0 && i < blockLinear.length ? blockLinear[i] : srgbToLinear(v)
}

/** srgbToLab (colour.ts) for non-integer code values (block means). */
export function floatSrgbToLab(r: number, g: number, b: number, out: Float64Array): void {
  const rl = linearOf(r)
  const gl = linearOf(g)
  const bl = linearOf(b)
  const fx = labF((0.4124564 * rl + 0.3575761 * gl + 0.1804375 * bl) / 0.95047)
  const fy = labF(0.2126729 * rl + 0.7151522 * gl + 0.072175 * bl)
  const fz = labF((0.0193339 * rl + 0.119192 * gl + 0.9503041 * bl) / 1.08883)
  out[0] = 116 * fy - 16
  out[1] = 500 * (fx - fy)
  out[2] = 200 * (fy - fz)
}

/** BLOCK² squares tiling the interior (every pixel at least INTERIOR inside), with the source's mean Lab. */
export function interiorBlocks(
  src: Uint8Array,
  signed: Float32Array,
  width: number,
  height: number,
): { blocks: Int32Array; blockLab: Float32Array; blockRgb: Float32Array } {
  const tables = rgbTables(src, width, height)
  const found: number[] = []
  const labs: number[] = []
  const rgbs: number[] = []
  const lab = new Float64Array(3)
  const stride = width + 1
  for (let y = 1; y + BLOCK < height; y += BLOCK) {
    for (let x = 1; x + BLOCK < width; x += BLOCK) {
      let inside = true
      for (let j = 0; j < BLOCK && inside; j++)
        for (let i = 0; i < BLOCK; i++) if (signed[(y + j) * width + x + i] < INTERIOR) inside = false
      if (!inside) continue
      blockLabAt(tables, width, x, y, lab)
      found.push(y * width + x)
      labs.push(lab[0], lab[1], lab[2])
      const a = y * stride + x
      const b = a + BLOCK * stride
      for (const t of tables) rgbs.push((t[b + BLOCK] - t[b] - t[a + BLOCK] + t[a]) / (BLOCK * BLOCK))
    }
  }
  return { blocks: Int32Array.from(found), blockLab: Float32Array.from(labs), blockRgb: Float32Array.from(rgbs) }
}

/**
 * ΔE2000 between the source's and the aligned result's mean colour over
 * each interior block, the result's block taken at the best of 3×3 one-pixel
 * offsets. why blocks: a print edge resampled twice mixes its two colours a
 * little differently on each side; over a block the mix is the same, while a
 * tint or a recoloured logo moves every block it touches.
 */
export function matchedDeltaE(ref: DetailReference, aligned: Uint8Array): { mean: number; p95: number; perBlock: Float64Array } {
  const { width, blocks, blockLab, blockRgb } = ref
  if (blocks.length === 0) return { mean: 0, p95: 0, perBlock: new Float64Array(0) }
  const [tr, tg, tb] = rgbTables(aligned, width, ref.height)
  const stride = width + 1
  const n = BLOCK * BLOCK
  const values = new Float64Array(blocks.length)
  const lab = new Float64Array(3)
  let sum = 0
  for (let k = 0; k < blocks.length; k++) {
    const x = blocks[k] % width
    const y = (blocks[k] - x) / width
    const R = blockRgb[3 * k]
    const G = blockRgb[3 * k + 1]
    const B = blockRgb[3 * k + 2]
    // why the search in RGB: the nearest block is the same one in any colour space near a match,
    // and only the chosen one then pays for the Lab conversion and ΔE2000.
    let best = Infinity
    let br = 0
    let bg = 0
    let bb = 0
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const a = (y + dy) * stride + x + dx
        const b = a + BLOCK * stride
        const r = (tr[b + BLOCK] - tr[b] - tr[a + BLOCK] + tr[a]) / n
        const g = (tg[b + BLOCK] - tg[b] - tg[a + BLOCK] + tg[a]) / n
        const bl = (tb[b + BLOCK] - tb[b] - tb[a + BLOCK] + tb[a]) / n
        const d = (r - R) ** 2 + (g - G) ** 2 + (bl - B) ** 2
        if (d < best) {
          best = d
          br = r
          bg = g
          bb = bl
        }
      }
    }
    floatSrgbToLab(br, bg, bb, lab)
    values[k] = deltaE2000(blockLab[3 * k], blockLab[3 * k + 1], blockLab[3 * k + 2], lab[0], lab[1], lab[2])
    sum += values[k]
  }
  const perBlock = values.slice()
  values.sort()
  return { mean: sum / blocks.length, p95: values[Math.min(blocks.length - 1, Math.floor(0.95 * blocks.length))], perBlock }
}
