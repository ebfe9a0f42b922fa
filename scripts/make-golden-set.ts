// Generates the fidelity golden set (`npm run golden [product]`): thirteen
// product photos from the sample catalog and the test fixtures (fourteen
// renders: the tote twice), each rendered through
// the real CPU studio backend into a "protected output", plus versions of that
// output with KNOWN defects applied inside the product only (colour shift,
// blur, thicker straps, logo removed, letters altered, print shifted, edge
// halo) and clean controls a fidelity check must let through (JPEG
// re-encodes, a background crop, model-swap-like 1–3 px moves and 1–2 %
// rescales, a ΔE ≈ 1 tint). Writes test/golden/<product>/*.jpg, the source
// masks, and test/golden/manifest.json.
//
// Deterministic: same code, same sharp/libvips build, same bytes. The set is
// committed; regenerate it only when the CPU studio's pixels or a defect's
// definition change, and then re-run `npm run eval -- --update-baseline`.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import { createCpuStudioBackend } from '#app/modules/backends/cpu-studio/adapter.server.ts'
import type { Placement, RawImage, SourceImage } from '#app/modules/backends/types.ts'
import { srgbToLab } from '#app/modules/imaging/colour.ts'
import { normaliseImage } from '#app/modules/imaging/normalise.server.ts'
import { encodeShot, productShot, rng, type ProductShotOptions } from '#test/fixtures/product-images.ts'
import {
  CASE_KINDS,
  GOLDEN_DIR,
  MANIFEST_PATH,
  REPO_ROOT,
  type CaseKind,
  type GoldenCase,
  type GoldenManifest,
} from '#test/golden/golden-set.ts'
import { quietControls } from '#test/support/render-controls.ts'
import { sceneRequest } from '#test/support/scene-request.ts'
import {
  blendInto,
  clamp01,
  clamp8,
  decodeRgb,
  distanceInside,
  encodeJpeg,
  labToSrgb,
  meanDeltaE,
  productAlpha,
  sampleCubic,
  signedDistance,
  studioRender,
  type Rgb8,
} from './golden/pixels.ts'

/** Stored results: JPEG at this quality, no chroma subsampling (the backends' own final format is q92 4:4:4). */
const RESULT_JPEG = { quality: 90, chromaSubsampling: '4:4:4' } as const

/** A rectangle in fractions of the SOURCE photo (x0, y0, x1, y1). */
type SourceBox = [number, number, number, number]

interface GoldenProduct {
  id: string
  /** A catalog file (relative to the repo) or a fixture drawn by test/fixtures/product-images.ts. */
  source: { file: string } | { fixture: ProductShotOptions; format: 'jpeg' | 'png' }
  scene: string
  output: { width: number; height: number }
  /**
   * Pass the backend a merchant brush mask (the source thresholded against
   * its white backdrop at full size). why: the automatic cut-out works at
   * 768 px and drops straps thinner than ~2 work px; merchants brush them in.
   */
  brushMask?: boolean
  /** Hue angle (degrees in the a*b* plane) of this product's colour-shift defects. */
  hue: number
  /** The brand mark to inpaint for `logo_removed`. */
  logo?: SourceBox
  /** Letters to alter for `text_altered`: swap two letter slots, or mirror the box. */
  text?: { box: SourceBox; letters: number; swap: [number, number] } | { box: SourceBox; mirror: true }
  /** Thin parts (straps, handles, ties) inside this box are thickened for `strap_thickened`. */
  straps?: SourceBox
  /** Print/stripe shift inside the outline for `pattern_shifted`, in result px. */
  pattern?: [number, number]
  note: string
}

const PRODUCTS: GoldenProduct[] = [
  {
    id: 'graphic-tee',
    source: { file: 'catalog/classic-graphic-tee/front.jpg' },
    scene: 'studio-white',
    output: { width: 480, height: 640 },
    hue: 20,
    logo: [0.378, 0.355, 0.622, 0.527],
    text: { box: [0.385, 0.522, 0.615, 0.578], letters: 6, swap: [1, 3] },
    pattern: [0, 4],
    note: 'navy tee, sun-and-mountains print, SUNDAY lettering',
  },
  {
    id: 'breton-top',
    source: { file: 'catalog/breton-striped-long-sleeve/front.jpg' },
    scene: 'studio-white',
    output: { width: 480, height: 640 },
    hue: 250,
    pattern: [0, 5],
    note: 'navy stripes on ecru',
  },
  {
    id: 'slip-dress',
    source: { file: 'catalog/silk-slip-dress/front.jpg' },
    scene: 'studio-white',
    output: { width: 480, height: 640 },
    brushMask: true,
    hue: 70,
    straps: [0.25, 0, 0.75, 0.27],
    note: 'champagne silk, two spaghetti straps (~2 px on the result)',
  },
  {
    id: 'logo-hoodie',
    source: { file: 'catalog/northfield-logo-hoodie/front.jpg' },
    scene: 'studio-white',
    output: { width: 480, height: 640 },
    hue: 10,
    logo: [0.41, 0.395, 0.59, 0.583],
    text: { box: [0.473, 0.463, 0.527, 0.517], mirror: true },
    pattern: [4, 0],
    note: 'burgundy hoodie, round NORTHFIELD badge with an N',
  },
  {
    id: 'floral-dress',
    source: { file: 'catalog/floral-wrap-dress/front.jpg' },
    scene: 'studio-white',
    output: { width: 480, height: 640 },
    hue: 330,
    straps: [0.646, 0.376, 0.753, 0.53],
    pattern: [4, 3],
    note: 'navy wrap dress, small floral print, a tied bow at the waist',
  },
  {
    id: 'jeans',
    source: { file: 'catalog/straight-leg-jeans/front.jpg' },
    scene: 'studio-white',
    output: { width: 480, height: 640 },
    hue: 200,
    pattern: [0, 4],
    note: 'mid-blue denim with fading and stitching',
  },
  {
    id: 'cap',
    source: { file: 'catalog/embroidered-cap/front.jpg' },
    scene: 'studio-white',
    output: { width: 640, height: 480 },
    hue: 280,
    logo: [0.395, 0.44, 0.705, 0.55],
    text: { box: [0.4, 0.445, 0.7, 0.545], letters: 7, swap: [1, 4] },
    pattern: [4, 0],
    note: 'navy cap, cream ATELIER embroidery',
  },
  {
    id: 'tote',
    source: { file: 'catalog/leather-tote-bag/front.png' },
    scene: 'cafe-interior',
    output: { width: 560, height: 560 },
    hue: 60,
    logo: [0.425, 0.583, 0.575, 0.628],
    text: { box: [0.44, 0.59, 0.56, 0.622], letters: 7, swap: [1, 4] },
    straps: [0.28, 0.17, 0.72, 0.405],
    pattern: [4, 0],
    note: 'cognac leather tote (PNG with alpha), two handles, ATELIER badge',
  },
  {
    id: 'tote-grey',
    source: { file: 'catalog/leather-tote-bag/front.png' },
    scene: 'grey-seamless',
    output: { width: 480, height: 640 },
    hue: 240,
    straps: [0.28, 0.17, 0.72, 0.405],
    note: 'the tote again, portrait frame, grey studio',
  },
  {
    id: 'linen-shirt',
    source: { file: 'catalog/linen-button-shirt/front.jpg' },
    scene: 'studio-white',
    output: { width: 480, height: 640 },
    hue: 230,
    pattern: [4, 0],
    note: 'pale blue linen shirt, buttons and pocket',
  },
  {
    id: 'blazer',
    source: { file: 'catalog/camel-blazer-mannequin/mannequin.jpg' },
    scene: 'studio-white',
    output: { width: 480, height: 640 },
    hue: 80,
    pattern: [3, 3],
    note: 'camel blazer on a dress form',
  },
  {
    id: 'fixture-navy-tee',
    source: { fixture: { width: 900, height: 900, seed: 5, fill: 0.8 }, format: 'jpeg' },
    scene: 'grey-seamless',
    output: { width: 480, height: 640 },
    hue: 150,
    logo: [0.425, 0.295, 0.575, 0.445],
    pattern: [5, 0],
    note: 'test fixture: knitted navy tee, white chest print, yellow band, grey studio',
  },
  {
    id: 'fixture-green-tee',
    source: { fixture: { width: 800, height: 800, seed: 13, fill: 0.76, garment: [34, 96, 58] }, format: 'jpeg' },
    scene: 'loft',
    output: { width: 480, height: 640 },
    hue: 300,
    logo: [0.425, 0.295, 0.575, 0.445],
    pattern: [0, 4],
    note: 'test fixture: bottle-green tee on a brick loft (busy scene behind the outline)',
  },
  {
    id: 'fixture-red-tee',
    source: {
      fixture: { width: 720, height: 720, seed: 9, fill: 0.8, backdrop: 'transparent', garment: [176, 32, 44] },
      format: 'png',
    },
    scene: 'warm-gradient',
    output: { width: 480, height: 640 },
    hue: 60,
    logo: [0.425, 0.295, 0.575, 0.445],
    pattern: [5, 0],
    note: 'test fixture: red tee on transparency (the red-turned-orange case)',
  },
]

// ---------------------------------------------------------------- pixels

/** A source box in result pixels (integer, clipped to the frame). */
function toResult(
  box: SourceBox,
  source: { width: number; height: number },
  p: Placement,
  frame: { width: number; height: number },
) {
  const x0 = Math.max(0, Math.round(p.x + (box[0] * source.width - p.crop.left) * p.scale))
  const y0 = Math.max(0, Math.round(p.y + (box[1] * source.height - p.crop.top) * p.scale))
  const x1 = Math.min(frame.width, Math.round(p.x + (box[2] * source.width - p.crop.left) * p.scale))
  const y1 = Math.min(frame.height, Math.round(p.y + (box[3] * source.height - p.crop.top) * p.scale))
  return { x0, y0, x1, y1 }
}

/**
 * The image moved by t and scaled by s about c (Catmull-Rom, edge-clamped).
 * why bicubic: a regenerated product is as sharp as the original; bilinear
 * would soften it and make the control a blur.
 */
function warped(image: Rgb8, s: number, tx: number, ty: number, cx: number, cy: number): Uint8Array {
  const { width, height } = image
  const out = new Uint8Array(image.data.length)
  for (let y = 0; y < height; y++) {
    const sy = cy + (y - ty - cy) / s
    for (let x = 0; x < width; x++) {
      const sx = cx + (x - tx - cx) / s
      const o = (y * width + x) * 3
      for (let c = 0; c < 3; c++) out[o + c] = clamp8(sampleCubic(image, sx, sy, c))
    }
  }
  return out
}

async function gaussian(image: Rgb8, sigma: number): Promise<Uint8Array> {
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .blur(sigma)
    .raw()
    .toBuffer()
  return new Uint8Array(data)
}

// ---------------------------------------------------------------- colour

/** The product moved by `amount` along a Lab direction (mostly hue/chroma, a little lightness), blended by its coverage. */
function colourShifted(image: Rgb8, alpha: Float32Array, hue: number, amount: number): Rgb8 {
  const h = (hue * Math.PI) / 180
  const dL = 0.35 * amount
  const da = Math.cos(h) * amount
  const db = Math.sin(h) * amount
  const out = Uint8Array.from(image.data)
  const lab = new Float64Array(3)
  const rgb = new Float64Array(3)
  for (let i = 0, o = 0; i < alpha.length; i++, o += 3) {
    const w = alpha[i]
    if (w <= 0) continue
    srgbToLab(image.data[o], image.data[o + 1], image.data[o + 2], lab, 0)
    labToSrgb(lab[0] + dL * w, lab[1] + da * w, lab[2] + db * w, rgb)
    out[o] = rgb[0]
    out[o + 1] = rgb[1]
    out[o + 2] = rgb[2]
  }
  return { data: out, width: image.width, height: image.height }
}

/** The colour shift whose mean ΔE2000 over the product (after rounding to 8 bits) is `target`, found by bisection. */
function colourDefect(image: Rgb8, alpha: Float32Array, hue: number, target: number): Rgb8 {
  let lo = 0
  let hi = 4 * target + 4
  let best = colourShifted(image, alpha, hue, hi)
  for (let i = 0; i < 16; i++) {
    const mid = (lo + hi) / 2
    const shifted = colourShifted(image, alpha, hue, mid)
    if (meanDeltaE(image.data, shifted.data, alpha) < target) lo = mid
    else {
      hi = mid
      best = shifted
    }
  }
  return best
}

// ---------------------------------------------------------------- defects

/** Render px: parts of the product narrower than twice this are thin parts (straps, handles, ties). */
const THIN_REACH = 26

/**
 * Thin parts (straps, handles) inside `box` made `grow` (0.15 = 15 %) wider.
 * The outline is found at 16× the result's resolution, pushed out by
 * grow/2 of the part's own local width on each side (the body, wider than
 * 2 × THIN_REACH, stays), and the new sliver painted with the part's own
 * colour at its sub-pixel coverage. Returns the image, the thin parts'
 * median width, and the area added as a share of the thin parts' area.
 */
function strapsThickened(
  image: Rgb8,
  alpha: Float32Array,
  box: { x0: number; y0: number; x1: number; y1: number },
  grow: number,
) {
  const F = 16
  const bw = box.x1 - box.x0
  const bh = box.y1 - box.y0
  const W = bw * F
  const H = bh * F
  const inside = new Uint8Array(W * H)
  for (let Y = 0; Y < H; Y++) {
    const y = box.y0 + (Y + 0.5) / F - 0.5
    const y0 = Math.max(0, Math.min(image.height - 2, Math.floor(y)))
    const fy = Math.min(1, Math.max(0, y - y0))
    for (let X = 0; X < W; X++) {
      const x = box.x0 + (X + 0.5) / F - 0.5
      const x0 = Math.max(0, Math.min(image.width - 2, Math.floor(x)))
      const fx = Math.min(1, Math.max(0, x - x0))
      const a0 = alpha[y0 * image.width + x0] * (1 - fx) + alpha[y0 * image.width + x0 + 1] * fx
      const a1 = alpha[(y0 + 1) * image.width + x0] * (1 - fx) + alpha[(y0 + 1) * image.width + x0 + 1] * fx
      inside[Y * W + X] = a0 * (1 - fy) + a1 * fy >= 0.5 ? 1 : 0
    }
  }
  // Local thickness of the product at render resolution: the diameter of the largest disc inside it
  // that covers the pixel (depths from the whole product, so the box doesn't cut the body short);
  // outside pixels take the thickest part within 1 px. Parts thinner than 2 × THIN_REACH are thin
  // (straps, handles, ties); the body isn't.
  const { width: fw, height: fh } = image
  const frameInside = new Uint8Array(fw * fh)
  for (let i = 0; i < frameInside.length; i++) frameInside[i] = alpha[i] >= 0.5 ? 1 : 0
  const depth = distanceInside(frameInside, fw, fh)
  const thickness = new Float32Array(bw * bh)
  const reach = 2 * THIN_REACH
  for (let cy = Math.max(0, box.y0 - reach); cy < Math.min(fh, box.y1 + reach); cy++) {
    for (let cx = Math.max(0, box.x0 - reach); cx < Math.min(fw, box.x1 + reach); cx++) {
      if (!frameInside[cy * fw + cx]) continue
      const d = depth[cy * fw + cx]
      const r = Math.min(d, reach)
      for (let y = Math.max(box.y0, Math.floor(cy - r)); y <= Math.min(box.y1 - 1, Math.ceil(cy + r)); y++) {
        for (let x = Math.max(box.x0, Math.floor(cx - r)); x <= Math.min(box.x1 - 1, Math.ceil(cx + r)); x++) {
          const k = (y - box.y0) * bw + (x - box.x0)
          if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) thickness[k] = Math.max(thickness[k], 2 * d)
        }
      }
    }
  }
  const renderInside = new Uint8Array(bw * bh)
  for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) renderInside[y * bw + x] = frameInside[(box.y0 + y) * fw + box.x0 + x]
  // Outside pixels: the thickness of the nearest part (within the largest reach a thin part's growth has).
  const spread = Math.ceil((grow / 2) * 2 * THIN_REACH) + 1
  const localWidth = new Float32Array(bw * bh)
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      if (renderInside[y * bw + x]) {
        localWidth[y * bw + x] = thickness[y * bw + x]
        continue
      }
      let nearest = Infinity
      let t = 0
      for (let yy = Math.max(0, y - spread); yy <= Math.min(bh - 1, y + spread); yy++) {
        for (let xx = Math.max(0, x - spread); xx <= Math.min(bw - 1, x + spread); xx++) {
          if (!renderInside[yy * bw + xx]) continue
          const d = (xx - x) ** 2 + (yy - y) ** 2
          if (d < nearest) {
            nearest = d
            t = thickness[yy * bw + xx]
          }
        }
      }
      localWidth[y * bw + x] = t
    }
  }
  const thin = (x: number, y: number): boolean => localWidth[y * bw + x] > 0 && localWidth[y * bw + x] < 2 * THIN_REACH
  let area = 0
  const widths: number[] = []
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      if (!renderInside[y * bw + x] || !thin(x, y)) continue
      area++
      widths.push(localWidth[y * bw + x])
    }
  }
  widths.sort((a, b) => a - b)
  const outside = new Uint8Array(W * H)
  for (let i = 0; i < inside.length; i++) outside[i] = 1 - inside[i]
  const dout = distanceInside(outside, W, H)
  const added = new Float32Array(bw * bh)
  let addedArea = 0
  for (let Y = 0; Y < H; Y++) {
    for (let X = 0; X < W; X++) {
      const i = Y * W + X
      if (inside[i]) continue
      const x = Math.floor(X / F)
      const y = Math.floor(Y / F)
      // Each side of a thin part moves out by half the growth of its own width.
      if (!thin(x, y) || dout[i] > (grow / 2) * localWidth[y * bw + x] * F) continue
      added[y * bw + x] += 1 / (F * F)
      addedArea++
    }
  }
  const out = Uint8Array.from(image.data)
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const f = Math.min(1, added[y * bw + x])
      if (f <= 0) continue
      // The part's colour: its solid pixels nearby, weighted by coverage.
      let r = 0
      let g = 0
      let b = 0
      let n = 0
      for (let dy = -3; dy <= 3; dy++) {
        for (let dx = -3; dx <= 3; dx++) {
          const X = box.x0 + x + dx
          const Y = box.y0 + y + dy
          if (X < 0 || Y < 0 || X >= image.width || Y >= image.height) continue
          const a = alpha[Y * image.width + X]
          if (a < 0.6) continue
          const o = (Y * image.width + X) * 3
          r += a * image.data[o]
          g += a * image.data[o + 1]
          b += a * image.data[o + 2]
          n += a
        }
      }
      if (n === 0) continue
      const o = ((box.y0 + y) * image.width + box.x0 + x) * 3
      out[o] = clamp8(out[o] + f * (r / n - out[o]))
      out[o + 1] = clamp8(out[o + 1] + f * (g / n - out[o + 1]))
      out[o + 2] = clamp8(out[o + 2] + f * (b / n - out[o + 2]))
    }
  }
  return {
    image: { data: out, width: image.width, height: image.height },
    widthPx: widths.length === 0 ? 0 : widths[widths.length >> 1],
    achieved: area === 0 ? 0 : addedArea / (F * F) / area,
  }
}

/**
 * The brand mark inpainted with the garment around it, the way a generator
 * paints over a logo: each row blends from the fabric left of the box to the
 * fabric right of it, with grain matched to the fabric's own noise.
 */
function logoRemoved(
  image: Rgb8,
  alpha: Float32Array,
  box: { x0: number; y0: number; x1: number; y1: number },
  seed: number,
): Rgb8 {
  const { width, height } = image
  const bw = box.x1 - box.x0
  const bh = box.y1 - box.y0
  const at = (x: number, y: number, c: number): number =>
    image.data[(Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))) * 3 + c]
  const STRIP = 4
  /** Mean of the fabric in a STRIP-wide strip beside the box (side −1 left, +1 right), over rows y ± 3. */
  const side = (s: -1 | 1, y: number, c: number): number => {
    let sum = 0
    let n = 0
    for (let dy = -3; dy <= 3; dy++) {
      for (let k = 1; k <= STRIP; k++) {
        sum += at(s < 0 ? box.x0 - k : box.x1 - 1 + k, y + dy, c)
        n++
      }
    }
    return sum / n
  }
  // The fabric's grain: the median step between neighbouring strip pixels
  // (robust to folds and seams), as a Gaussian's standard deviation.
  const steps: number[] = []
  for (let y = box.y0; y < box.y1; y++) {
    for (let k = 1; k < STRIP; k++) {
      steps.push(
        Math.abs(at(box.x0 - k, y, 1) - at(box.x0 - k - 1, y, 1)),
        Math.abs(at(box.x1 - 1 + k, y, 1) - at(box.x1 + k, y, 1)),
      )
    }
  }
  steps.sort((a, b) => a - b)
  const grain = (1.4826 * (steps[steps.length >> 1] ?? 0)) / Math.SQRT2
  const random = rng(seed)
  const gauss = (): number => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random())
  const fill = Uint8Array.from(image.data)
  const weight = new Float32Array(alpha.length)
  for (let y = 0; y < bh; y++) {
    const Y = box.y0 + y
    const left = [0, 1, 2].map((c) => side(-1, Y, c))
    const right = [0, 1, 2].map((c) => side(1, Y, c))
    for (let x = 0; x < bw; x++) {
      const u = (x + 0.5) / bw
      const o = (Y * width + box.x0 + x) * 3
      const noise = grain * gauss()
      for (let c = 0; c < 3; c++) fill[o + c] = clamp8((1 - u) * left[c] + u * right[c] + noise)
      // why the ramp: a hard-edged rectangle is a different defect (a patch), not a wiped logo.
      const ramp = Math.min(1, (Math.min(x, y, bw - 1 - x, bh - 1 - y) + 1) / 2)
      weight[Y * width + box.x0 + x] = ramp * Math.min(1, alpha[Y * width + box.x0 + x])
    }
  }
  return blendInto(image, fill, weight)
}

/** Letters altered: two letter slots of the word swapped, or the box mirrored (N → И). */
function textAltered(
  image: Rgb8,
  box: { x0: number; y0: number; x1: number; y1: number },
  how: { letters: number; swap: [number, number] } | { mirror: true },
): Rgb8 {
  const { width } = image
  const out = Uint8Array.from(image.data)
  const copy = (sx: number, dx: number, y: number): void => {
    const s = (y * width + sx) * 3
    const d = (y * width + dx) * 3
    out[d] = image.data[s]
    out[d + 1] = image.data[s + 1]
    out[d + 2] = image.data[s + 2]
  }
  const bw = box.x1 - box.x0
  for (let y = box.y0; y < box.y1; y++) {
    if ('mirror' in how) {
      for (let x = 0; x < bw; x++) copy(box.x0 + bw - 1 - x, box.x0 + x, y)
    } else {
      const slot = bw / how.letters
      const [a, b] = how.swap
      const ax = Math.round(box.x0 + a * slot)
      const bx = Math.round(box.x0 + b * slot)
      const n = Math.round(slot)
      for (let x = 0; x < n; x++) {
        copy(ax + x, bx + x, y)
        copy(bx + x, ax + x, y)
      }
    }
  }
  return { data: out, width: image.width, height: image.height }
}

/** The print moved by (dx, dy) inside the product while the outline stays (feathered well inside it). */
function patternShifted(image: Rgb8, signed: Float32Array, dx: number, dy: number): Rgb8 {
  const moved = warped(image, 1, dx, dy, 0, 0)
  const margin = Math.hypot(dx, dy) + 2
  const weight = new Float32Array(signed.length)
  for (let i = 0; i < signed.length; i++) weight[i] = clamp01((signed[i] - margin) / 2)
  return blendInto(image, moved, weight)
}

/** A light fringe along the outline, the halo a poor cut-out leaves: strongest on the contour, gone 2 px either side. */
function edgeHalo(image: Rgb8, signed: Float32Array, strength: number): Rgb8 {
  const light = new Uint8Array(image.data.length).fill(246)
  const weight = new Float32Array(signed.length)
  for (let i = 0; i < signed.length; i++) weight[i] = strength * clamp01(1 - Math.abs(signed[i] + 0.5) / 2)
  return blendInto(image, light, weight)
}

/** Mean luma of the pixels between `from` and `to` px from the outline (> 0 inside the product). */
function ringLuma(image: Rgb8, signed: Float32Array, from: number, to: number): number {
  let sum = 0
  let n = 0
  for (let i = 0; i < signed.length; i++) {
    if (signed[i] < from || signed[i] > to) continue
    sum += 0.299 * image.data[3 * i] + 0.587 * image.data[3 * i + 1] + 0.114 * image.data[3 * i + 2]
    n++
  }
  return n === 0 ? 255 : sum / n
}

/**
 * The model-swap control: the product (and the scene right around it) moved
 * by (tx, ty) and scaled by s about its centre, as a regenerated image
 * would place it; the rest of the scene is untouched.
 */
function geometryMoved(image: Rgb8, alpha: Float32Array, s: number, tx: number, ty: number, centre: [number, number]): Rgb8 {
  const moved = warped(image, s, tx, ty, centre[0], centre[1])
  const { width, height } = image
  const near = new Uint8Array(alpha.length)
  for (let i = 0; i < alpha.length; i++) near[i] = alpha[i] > 0.02 ? 0 : 1
  // Distance from the product, before and after the move: both footprints plus 4 px are replaced.
  const dBefore = distanceInside(near, width, height)
  const movedAlpha = new Float32Array(alpha.length)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = Math.round(centre[0] + (x - tx - centre[0]) / s)
      const sy = Math.round(centre[1] + (y - ty - centre[1]) / s)
      movedAlpha[y * width + x] = sx < 0 || sy < 0 || sx >= width || sy >= height ? 0 : alpha[sy * width + sx]
    }
  }
  for (let i = 0; i < alpha.length; i++) near[i] = movedAlpha[i] > 0.02 ? 0 : 1
  const dAfter = distanceInside(near, width, height)
  const weight = new Float32Array(alpha.length)
  for (let i = 0; i < weight.length; i++) weight[i] = clamp01((8 - Math.min(dBefore[i], dAfter[i])) / 4)
  return blendInto(image, moved, weight)
}

// ---------------------------------------------------------------- the set

interface Rendered {
  source: SourceImage
  sourceFile: string
  mask: RawImage
  placement: Placement
  clean: Rgb8
  cleanFile: Buffer
}

/**
 * What a merchant's brush mask around the product amounts to: everything
 * that differs from the white backdrop at full size, brushed 2 px wider.
 * why wider: a brush covers the straps' anti-aliased edge too, so the
 * composite takes them whole instead of fading them.
 */
async function brushMask(source: SourceImage): Promise<Buffer> {
  const { data, width, height, channels } = source.pixels
  let mask = new Uint8Array(width * height)
  for (let i = 0, o = 0; i < mask.length; i++, o += channels)
    mask[i] = 255 - Math.min(data[o], data[o + 1], data[o + 2]) > 8 ? 1 : 0
  for (let step = 0; step < 2; step++) {
    const grown = mask.slice()
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x
        if (mask[i]) continue
        if (
          (x > 0 && mask[i - 1]) ||
          (x < width - 1 && mask[i + 1]) ||
          (y > 0 && mask[i - width]) ||
          (y < height - 1 && mask[i + width])
        )
          grown[i] = 1
      }
    }
    mask = grown
  }
  for (let i = 0; i < mask.length; i++) mask[i] *= 255
  return sharp(mask, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer()
}

async function renderProduct(product: GoldenProduct, dir: string): Promise<Rendered> {
  let sourceFile: string
  if ('file' in product.source) sourceFile = product.source.file
  else {
    const shot = productShot(product.source.fixture)
    // why: like an editor's export, nothing is stored under fully transparent pixels (and the file stays small).
    if (shot.pixels.channels === 4)
      for (let o = 0; o < shot.pixels.data.length; o += 4) if (shot.pixels.data[o + 3] === 0) shot.pixels.data.fill(0, o, o + 3)
    const bytes = await encodeShot(shot, product.source.format, 92)
    sourceFile = path.relative(REPO_ROOT, path.join(dir, `source.${product.source.format === 'png' ? 'png' : 'jpg'}`))
    await writeFile(path.join(REPO_ROOT, sourceFile), bytes)
  }
  const source = await normaliseImage(await readFile(path.join(REPO_ROOT, sourceFile)), {
    maxBytes: 64 * 1024 * 1024,
    maxPixels: 40_000_000,
  })
  const mask = product.brushMask ? await brushMask(source) : undefined
  const result = await createCpuStudioBackend().render(
    sceneRequest({ renderId: `golden-${product.id}`, source, sceneId: product.scene, output: product.output, mask }),
    quietControls(),
  )
  // The protected output as a backend would deliver it: decoded from its own final JPEG.
  const cleanFile = await encodeJpeg(await decodeRgb(result.image!))
  return {
    source,
    sourceFile,
    mask: result.sourceMask,
    placement: result.placement,
    clean: await decodeRgb(cleanFile),
    cleanFile,
  }
}

interface Made {
  kind: CaseKind
  file: Buffer
  placement?: Placement
  /** The source mask the case was rendered with, when it isn't the product's own mask.png. */
  mask?: RawImage
  magnitude: number
  unit: string
  achieved?: number
  note?: string
}

async function makeCases(product: GoldenProduct, r: Rendered): Promise<Made[]> {
  const { clean, placement, source } = r
  const frame = { width: clean.width, height: clean.height }
  const alpha = productAlpha(r.mask, source, placement, frame)
  const signed = signedDistance(alpha, frame.width, frame.height)
  const random = rng(product.id.split('').reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7))
  const made: Made[] = []
  const add = async (m: Omit<Made, 'file'>, image: Rgb8, quality?: number): Promise<void> => {
    made.push({ ...m, file: await encodeJpeg(image, quality) })
  }

  // Clean controls.
  made.push({ kind: 'protected', file: r.cleanFile, magnitude: 0, unit: 'none' })
  made.push({ kind: 'jpeg_q85', file: await encodeJpeg(clean, 85), magnitude: 85, unit: 'JPEG quality (re-encode)' })
  made.push({ kind: 'jpeg_q75', file: await encodeJpeg(clean, 75), magnitude: 75, unit: 'JPEG quality (re-encode)' })
  {
    // Crop the frame down to a few px of background round the product, and say so in the placement.
    const w = Math.round(placement.crop.width * placement.scale)
    const h = Math.round(placement.crop.height * placement.scale)
    const left = Math.max(0, Math.floor(placement.x) - 3)
    const top = Math.max(0, Math.floor(placement.y) - 6)
    const right = Math.min(frame.width, Math.ceil(placement.x + w) + 4)
    const bottom = Math.min(frame.height, Math.ceil(placement.y + h) + 3)
    const file = await sharp(r.cleanFile)
      .extract({ left, top, width: right - left, height: bottom - top })
      .jpeg(RESULT_JPEG)
      .toBuffer()
    made.push({
      kind: 'background_crop',
      file,
      placement: { ...placement, x: placement.x - left, y: placement.y - top },
      magnitude: frame.width * frame.height - (right - left) * (bottom - top),
      unit: 'background px cropped (placement moved with the frame)',
      note: `frame cut to ${left},${top}–${right},${bottom}`,
    })
  }
  const centre: [number, number] = [
    placement.x + (placement.crop.width * placement.scale) / 2,
    placement.y + (placement.crop.height * placement.scale) / 2,
  ]
  {
    const d = 1 + Math.floor(random() * 3)
    const angle = random() * 2 * Math.PI
    const tx = Math.round(d * Math.cos(angle)) || 1
    const ty = Math.round(d * Math.sin(angle))
    await add(
      { kind: 'geometry_shift', magnitude: Math.hypot(tx, ty), unit: 'px moved', note: `moved (${tx}, ${ty}) px` },
      geometryMoved(clean, alpha, 1, tx, ty, centre),
    )
    const s = (random() < 0.5 ? -1 : 1) * (0.01 + 0.01 * random())
    const t = random() < 0.5 ? -1 : 1
    await add(
      {
        kind: 'geometry_scale',
        magnitude: Math.round(s * 1000) / 10,
        unit: '% scale',
        note: `scaled ${(100 * (1 + s)).toFixed(1)} % and moved (${t}, 0) px`,
      },
      geometryMoved(clean, alpha, 1 + s, t, 0, centre),
    )
  }

  // Colour.
  for (const [kind, target] of [
    ['colour_de1', 1],
    ['colour_de3', 3],
    ['colour_de6', 6],
  ] as const) {
    const shifted = colourDefect(clean, alpha, product.hue, target)
    const file = await encodeJpeg(shifted)
    made.push({
      kind,
      file,
      magnitude: target,
      unit: 'mean ΔE2000 over the product',
      achieved: Math.round(1000 * meanDeltaE(clean.data, (await decodeRgb(file)).data, alpha)) / 1000,
      note: `Lab shift at hue ${product.hue}°`,
    })
  }

  // Structure.
  {
    const sigma = 1.2
    const blurred = await gaussian(clean, sigma)
    const weight = new Float32Array(alpha.length)
    for (let i = 0; i < alpha.length; i++) weight[i] = clamp01(alpha[i])
    await add({ kind: 'blur', magnitude: sigma, unit: 'Gaussian σ, result px' }, blendInto(clean, blurred, weight))
  }
  if (product.straps) {
    const box = toResult(product.straps, source, placement, frame)
    const t = strapsThickened(clean, alpha, box, 0.15)
    await add(
      {
        kind: 'strap_thickened',
        magnitude: 15,
        unit: '% wider thin parts',
        achieved: Math.round(1000 * t.achieved) / 10,
        note: `thin parts ${t.widthPx.toFixed(1)} px wide on the result`,
      },
      t.image,
    )
  }
  if (product.logo) {
    const box = toResult(product.logo, source, placement, frame)
    await add(
      {
        kind: 'logo_removed',
        magnitude: (box.x1 - box.x0) * (box.y1 - box.y0),
        unit: 'px² inpainted',
        note: 'row-wise fill from the fabric either side, matched grain',
      },
      logoRemoved(clean, alpha, box, box.x0 * 7919 + box.y0),
    )
  }
  if (product.text) {
    const box = toResult(product.text.box, source, placement, frame)
    const how = product.text
    await add(
      {
        kind: 'text_altered',
        magnitude: 'mirror' in how ? 1 : 2,
        unit: 'letters changed',
        note: 'mirror' in how ? 'letter mirrored' : `letters ${how.swap[0] + 1} and ${how.swap[1] + 1} of ${how.letters} swapped`,
      },
      textAltered(clean, box, how),
    )
  }
  if (product.pattern) {
    const [dx, dy] = product.pattern
    await add(
      {
        kind: 'pattern_shifted',
        magnitude: Math.hypot(dx, dy),
        unit: 'px the print moved, outline fixed',
        note: `(${dx}, ${dy}) px`,
      },
      patternShifted(clean, signed, dx, dy),
    )
  }
  // why only some: a light fringe shows against a darker scene and a darker product; round a cream
  // dress or on a white sweep it is invisible, not a defect.
  if (ringLuma(clean, signed, 0, 2) < 200 && ringLuma(clean, signed, -5, -2) < 225) {
    await add(
      { kind: 'edge_halo', magnitude: 0.6, unit: 'blend toward light grey on the contour, 2 px each side' },
      edgeHalo(clean, signed, 0.6),
    )
  }
  return made
}

/**
 * Scenes with structure behind the product (a wall, a counter, a horizon,
 * a magazine's type), one per product in turn, for the `scene_textured`
 * control. why: every other case is on the product's own, mostly plain,
 * scene; a faithful composite onto a busy one is where the edge readings
 * raised false alarms before fidelity v3.
 */
const TEXTURED_SCENES = ['street', 'cafe-interior', 'loft', 'beach', 'magazine-cover']

/** The product rendered again onto a textured scene: a clean control with its own placement (and mask, if it differs). */
async function texturedControl(product: GoldenProduct, index: number, dir: string, base: Rendered): Promise<Made> {
  let scene = TEXTURED_SCENES[index % TEXTURED_SCENES.length]
  if (scene === product.scene) scene = TEXTURED_SCENES[(index + 1) % TEXTURED_SCENES.length]
  const r = await renderProduct({ ...product, scene }, dir)
  const same = r.mask.width === base.mask.width && r.mask.height === base.mask.height && Buffer.compare(Buffer.from(r.mask.data), Buffer.from(base.mask.data)) === 0
  return {
    kind: 'scene_textured',
    file: r.cleanFile,
    placement: r.placement,
    ...(same ? {} : { mask: r.mask }),
    magnitude: 0,
    unit: 'none',
    note: `rendered on ${scene}`,
  }
}

async function writeMask(file: string, mask: RawImage): Promise<number> {
  const { data, width, height } = mask
  const png = await sharp(data, { raw: { width, height, channels: 1 } })
    .png({ compressionLevel: 9 })
    .toBuffer()
  await writeFile(file, png)
  return png.length
}

async function main(): Promise<void> {
  const only = process.argv[2]
  const cases: GoldenCase[] = []
  let bytes = 0
  for (const [index, product] of PRODUCTS.entries()) {
    if (only && product.id !== only) continue
    const dir = path.join(GOLDEN_DIR, product.id)
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
    const rendered = await renderProduct(product, dir)
    const maskFile = path.join(dir, 'mask.png')
    bytes += await writeMask(maskFile, rendered.mask)
    const made = await makeCases(product, rendered)
    // why not over a brush mask: the set's brush (every pixel 8 levels off the white backdrop) takes the
    // photo's soft drop shadow in as product; on white it can't be seen, on any other scene it is a light
    // band beside the product that the check rightly flags, so that control would not be clean.
    if (!product.brushMask) made.push(await texturedControl(product, index, dir, rendered))
    for (const m of made) {
      const file = path.join(dir, `${m.kind}.jpg`)
      await writeFile(file, m.file)
      bytes += m.file.length
      const caseMask = m.mask ? path.join(dir, `mask-${m.kind}.png`) : maskFile
      if (m.mask) bytes += await writeMask(caseMask, m.mask)
      cases.push({
        id: `${product.id}/${m.kind}`,
        product: product.id,
        kind: m.kind,
        expected: [
          'protected',
          'jpeg_q85',
          'jpeg_q75',
          'background_crop',
          'geometry_shift',
          'geometry_scale',
          'scene_textured',
          'colour_de1',
        ].includes(m.kind)
          ? 'clean'
          : 'defect',
        source: rendered.sourceFile,
        mask: path.relative(REPO_ROOT, caseMask),
        result: path.relative(REPO_ROOT, file),
        placement: m.placement ?? rendered.placement,
        magnitude: m.magnitude,
        unit: m.unit,
        ...(m.achieved === undefined ? {} : { achieved: m.achieved }),
        note: [product.note, m.note].filter(Boolean).join('; '),
      })
    }
    console.log(`  ${product.id}: ${cases.filter((c) => c.product === product.id).length} cases`)
  }
  cases.sort((a, b) => a.product.localeCompare(b.product) || CASE_KINDS.indexOf(a.kind) - CASE_KINDS.indexOf(b.kind))
  const manifest: GoldenManifest = {
    version: 1,
    generator: 'scripts/make-golden-set.ts',
    render: studioRender(),
    cases,
  }
  if (only) {
    const previous = JSON.parse(await readFile(MANIFEST_PATH, 'utf8')) as GoldenManifest
    manifest.cases = [...previous.cases.filter((c) => c.product !== only), ...cases].sort(
      (a, b) => a.product.localeCompare(b.product) || CASE_KINDS.indexOf(a.kind) - CASE_KINDS.indexOf(b.kind),
    )
  }
  await writeFile(MANIFEST_PATH, `${JSON.stringify(manifest, null, 2)}\n`)
  console.log(`Done: ${cases.length} cases, ${(bytes / 1024 / 1024).toFixed(2)} MB of images`)
}

// why one entry: `npm run golden -- --realistic` makes the realistic set (scripts/make-realistic-set.ts).
if (process.argv.includes('--realistic')) await import('./make-realistic-set.ts')
else await main()
