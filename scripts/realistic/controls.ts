// Clean controls: changes to the whole frame that leave the product as it
// is (a shift, a zoom, relit scene, sharpening, a tighter crop). Each
// returns the frame and, where the product moved, its new placement.
import sharp from 'sharp'
import type { Placement } from '#app/modules/backends/types.ts'
import { clamp8, decodeRgb, encodeJpeg, meanDeltaE, RESULT_JPEG, sampleCubic, type Rgb8 } from '../golden/pixels.ts'

/** The whole frame moved by (dx, dy) px; the edge rows and columns fill what opens up. */
export function frameShifted(image: Rgb8, p: Placement, dx: number, dy: number): { image: Rgb8; placement: Placement } {
  const { width, height } = image
  const out = new Uint8Array(image.data.length)
  for (let y = 0; y < height; y++) {
    const sy = Math.min(height - 1, Math.max(0, y - dy))
    for (let x = 0; x < width; x++) {
      const sx = Math.min(width - 1, Math.max(0, x - dx))
      out.set(image.data.subarray((sy * width + sx) * 3, (sy * width + sx) * 3 + 3), (y * width + x) * 3)
    }
  }
  return { image: { data: out, width, height }, placement: { ...p, x: p.x + dx, y: p.y + dy } }
}

/** The whole frame zoomed by `percent` about (cx, cy), bicubic; the placement scales with it. */
export function frameZoomed(
  image: Rgb8,
  p: Placement,
  percent: number,
  cx: number,
  cy: number,
): { image: Rgb8; placement: Placement } {
  const s = 1 + percent / 100
  const { width, height } = image
  const out = new Uint8Array(image.data.length)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++)
        out[(y * width + x) * 3 + c] = clamp8(sampleCubic(image, cx + (x - cx) / s, cy + (y - cy) / s, c))
    }
  }
  // why whole pixels: the placement's x and y address pixels; the scale absorbs the rest.
  const x = Math.round(cx + (p.x - cx) * s)
  const y = Math.round(cy + (p.y - cy) * s)
  return { image: { data: out, width, height }, placement: { ...p, scale: p.scale * s, x, y } }
}

/**
 * The scene relit: a luminance gradient of ±12 % across the frame along
 * `angle` and a warmer (+1) or cooler (−1) cast. On the product the change
 * is held to the share that keeps its mean ΔE2000 at most 1.2 on the stored
 * file, found by bisection, as a relight that respects the product would.
 */
export async function relit(
  image: Rgb8,
  alpha: Float32Array,
  light: { angle: number; warmth: number },
): Promise<{ file: Buffer; achieved: number }> {
  const { width, height } = image
  const ca = Math.cos((light.angle * Math.PI) / 180)
  const sa = Math.sin((light.angle * Math.PI) / 180)
  const half = Math.hypot(width, height) / 2
  const apply = (onProduct: number): Rgb8 => {
    const out = new Uint8Array(image.data.length)
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x
        const along = ((x - width / 2) * ca + (y - height / 2) * sa) / half
        const k = 1 - (1 - onProduct) * Math.min(1, alpha[i])
        const gain = 1 + 0.12 * along * k
        const warm = 0.05 * light.warmth * k
        out[i * 3] = clamp8(image.data[i * 3] * gain * (1 + warm))
        out[i * 3 + 1] = clamp8(image.data[i * 3 + 1] * gain)
        out[i * 3 + 2] = clamp8(image.data[i * 3 + 2] * gain * (1 - warm))
      }
    }
    return { data: out, width, height }
  }
  // why measured on the stored JPEG: its own error on a grainy product is a few tenths of a ΔE.
  const measure = async (onProduct: number) => {
    const file = await encodeJpeg(apply(onProduct))
    return { file, achieved: meanDeltaE(image.data, (await decodeRgb(file)).data, alpha) }
  }
  let best = await measure(0)
  let lo = 0
  let hi = 1
  for (let k = 0; k < 10; k++) {
    const mid = (lo + hi) / 2
    const tried = await measure(mid)
    if (tried.achieved <= 1.2) {
      lo = mid
      best = tried
    } else hi = mid
  }
  return best
}

/** Mild unsharp masking of the whole frame, as an export preset applies it. */
export function sharpened(cleanFile: Buffer, sigma: number): Promise<Buffer> {
  return sharp(cleanFile).sharpen({ sigma }).jpeg(RESULT_JPEG).toBuffer()
}

/** The frame cut to `margin` px of scene round the product; the placement moves with the frame. */
export async function marginCropped(
  cleanFile: Buffer,
  p: Placement,
  frame: { width: number; height: number },
  margin: number,
): Promise<{ file: Buffer; placement: Placement; note: string }> {
  const left = Math.max(0, Math.floor(p.x) - margin)
  const top = Math.max(0, Math.floor(p.y) - margin)
  const right = Math.min(frame.width, Math.ceil(p.x + p.crop.width * p.scale) + margin)
  const bottom = Math.min(frame.height, Math.ceil(p.y + p.crop.height * p.scale) + margin)
  const file = await sharp(cleanFile)
    .extract({ left, top, width: right - left, height: bottom - top })
    .jpeg(RESULT_JPEG)
    .toBuffer()
  return { file, placement: { ...p, x: p.x - left, y: p.y - top }, note: `frame cut to ${left},${top}–${right},${bottom}` }
}
