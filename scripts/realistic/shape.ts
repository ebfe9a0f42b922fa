// Shape defects on a render: a neckline cut deeper, a hem shortened, a
// sleeve narrowed, straps thickened. Where the product gives way, the scene
// plate (the scene painted alone) shows instead. All in result px.
import { clamp01, clamp8, clipBox, gauss, smoothstep, type Box, type Rgb8 } from '../golden/pixels.ts'
import { rng } from '#test/fixtures/product-images.ts'

/**
 * The front neckline cut `depth` px deeper at `cx`, tapering to nothing
 * `halfWidth` either side: the collar band and what is below it move down,
 * and the opening shows the garment's back from inside, in shadow.
 */
export function necklineDeeper(
  image: Rgb8,
  alpha: Float32Array,
  cut: { cx: number; halfWidth: number; from: number; band: number; depth: number },
  seed: number,
): Rgb8 {
  const { width, height } = image
  const random = rng(seed)
  const out = Uint8Array.from(image.data)
  const tops = new Map<number, number>()
  for (let x = Math.ceil(cut.cx - cut.halfWidth); x <= Math.floor(cut.cx + cut.halfWidth); x++) {
    for (let y = Math.max(0, Math.round(cut.from)); y < height; y++) {
      if (alpha[y * width + x] >= 0.5) {
        tops.set(x, y)
        break
      }
    }
  }
  const inside = insideShade(image, tops, 0.72)
  const grain = 2.5
  for (const [x, top] of tops) {
    const bell = Math.cos(((x - cut.cx) / cut.halfWidth) * (Math.PI / 2)) ** 2
    const drop = cut.depth * bell
    if (drop < 0.3) continue
    const end = top + cut.band + drop + 3 * cut.depth
    for (let y = top; y < Math.min(height, end); y++) {
      const v = 1 - smoothstep(top + cut.band + drop, end, y)
      const sy = y - drop * v
      const i = y * width + x
      const noise = grain * gauss(random)
      if (sy < top + 0.5) {
        for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.max(0, Math.min(255, Math.round(inside[c] + noise)))
        continue
      }
      const y0 = Math.floor(sy)
      const f = sy - y0
      for (let c = 0; c < 3; c++) {
        const a = image.data[(y0 * width + x) * 3 + c]
        const b = image.data[(Math.min(height - 1, y0 + 1) * width + x) * 3 + c]
        out[i * 3 + c] = Math.round(a + f * (b - a))
      }
    }
  }
  return { data: out, width, height }
}

/** The mean colour just below the neckline, darkened: the inside of the garment's back. */
function insideShade(image: Rgb8, tops: Map<number, number>, shade: number): number[] {
  const sum = [0, 0, 0]
  let n = 0
  for (const [x, top] of tops) {
    for (let y = top + 2; y < top + 8; y++) {
      for (let c = 0; c < 3; c++) sum[c] += image.data[(y * image.width + x) * 3 + c]
      n++
    }
  }
  return sum.map((s) => (shade * s) / Math.max(1, n))
}

/**
 * The hem raised by `by` px inside the box: the bottom of the product is
 * pulled up (the stretch above it taken up over 3 × by px), and the strip it
 * uncovers shows the scene with the contact shadow from under the old hem.
 * The box's sides must lie in the scene; the pull fades out over 8 px there.
 */
export function hemShortened(image: Rgb8, alpha: Float32Array, plate: Rgb8, box: Box, by: number): Rgb8 {
  const { width, height } = image
  const b = clipBox(box, width, height)
  const ramp = Math.min(3 * by, (b.y1 - b.y0) / 2)
  const out = Uint8Array.from(image.data)
  const pulled = (row: number, x: number, c: number): number => {
    const s = Math.min(height - 1, row) * width + x
    // why the plate difference: the product and its shadow move, the scene's own texture stays put.
    return image.data[s * 3 + c] - (1 - Math.min(1, alpha[s])) * plate.data[s * 3 + c]
  }
  for (let x = b.x0; x < b.x1; x++) {
    const taper = clamp01(Math.min(x - b.x0, b.x1 - 1 - x) / 8)
    for (let y = b.y0; y < b.y1; y++) {
      const sy = y + by * taper * smoothstep(b.y0, b.y0 + ramp, y)
      const y0 = Math.floor(sy)
      const f = sy - y0
      const i = y * width + x
      const a = Math.min(
        1,
        (1 - f) * alpha[Math.min(height - 1, y0) * width + x] + f * alpha[Math.min(height - 1, y0 + 1) * width + x],
      )
      // why: scene that stays scene keeps its own pixels, shadow included; only the uncovered strip takes the pulled one.
      if (a <= 0.01 && alpha[i] <= 0.01) continue
      for (let c = 0; c < 3; c++) {
        const v = (1 - f) * pulled(y0, x, c) + f * pulled(y0 + 1, x, c)
        out[i * 3 + c] = clamp8(v + (1 - a) * plate.data[i * 3 + c])
      }
    }
  }
  return { data: out, width, height }
}

/**
 * The product's outline pulled in by `px` inside the box (tapering over
 * 12 px at the box's ends): a sleeve or leg narrowed, the scene behind.
 */
export function narrowed(image: Rgb8, alpha: Float32Array, signed: Float32Array, plate: Rgb8, box: Box, px: number): Rgb8 {
  const { width } = image
  const b = clipBox(box, image.width, image.height)
  const out = Uint8Array.from(image.data)
  for (let y = b.y0; y < b.y1; y++) {
    const taper = Math.min(1, (y - b.y0) / 12, (b.y1 - 1 - y) / 12)
    for (let x = b.x0; x < b.x1; x++) {
      const i = y * width + x
      if (alpha[i] <= 0.01) continue
      const keep = clamp01(signed[i] - px * taper + 0.5)
      if (keep >= 1) continue
      const a = Math.min(alpha[i], keep)
      for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(a * image.data[i * 3 + c] + (1 - a) * plate.data[i * 3 + c])
    }
  }
  return { data: out, width, height: image.height }
}

/**
 * Thin parts inside the box made `px` wider on each side: each pixel takes
 * the look of the most solid product pixel within `px`, so a 2 px strap
 * becomes a 2 + 2 × px one of the same colour and sheen.
 */
export function thickened(image: Rgb8, alpha: Float32Array, box: Box, px: number): Rgb8 {
  const { width } = image
  const b = clipBox(box, image.width, image.height)
  const out = Uint8Array.from(image.data)
  const reach = Math.ceil(px)
  for (let y = b.y0; y < b.y1; y++) {
    for (let x = b.x0; x < b.x1; x++) {
      const i = y * width + x
      let best = i
      for (let dy = -reach; dy <= reach; dy++) {
        for (let dx = -reach; dx <= reach; dx++) {
          const j = (y + dy) * width + x + dx
          if (dx * dx + dy * dy > px * px + 0.5 || j < 0 || j >= alpha.length) continue
          if (alpha[j] > alpha[best] + 0.05) best = j
        }
      }
      if (best !== i) out.set(image.data.subarray(best * 3, best * 3 + 3), i * 3)
    }
  }
  return { data: out, width, height: image.height }
}
