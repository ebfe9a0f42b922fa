// The contact shadow under a placed product.
import type { RawImage } from './types.ts'
import type { CpuStudioScene } from '#app/modules/looks/schema.ts'
import type { Light } from '#app/modules/looks/variation.ts'
import type { PlacedProduct } from './compose.ts'
import type { Box } from './mask.server.ts'
import { boxBlur } from './morphology.ts'

/** Shadow sizes in scenes are in px of a 1024 px tall canvas; they scale with the canvas. */
export const SHADOW_REFERENCE_HEIGHT = 1024
/** How far a side light casts the shadow's far end sideways, as a share of the product's height. */
export const SIDE_LIGHT_LEAN = 0.3
/** How much longer (deeper on the floor) a side light's shadow is than a frontal one's. */
export const SIDE_LIGHT_STRETCH = 1.6

/** Samples the source-frame mask over `crop` (source px) at a grid of w × h cells (nearest cell centre). */
function sampleMask(mask: RawImage, sourceWidth: number, sourceHeight: number, crop: Box, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h)
  const sx = mask.width / sourceWidth
  const sy = mask.height / sourceHeight
  for (let j = 0; j < h; j++) {
    const my = Math.min(mask.height - 1, Math.floor((crop.top + ((j + 0.5) / h) * crop.height) * sy))
    for (let i = 0; i < w; i++) {
      const mx = Math.min(mask.width - 1, Math.floor((crop.left + ((i + 0.5) / w) * crop.width) * sx))
      out[j * w + i] = mask.data[my * mask.width + mx]
    }
  }
  return out
}

/** Horizontal extent (share of crop width) of the product's lowest rows: where it touches the floor. */
function footprint(mask: RawImage, sourceWidth: number, sourceHeight: number, crop: Box): { from: number; to: number } {
  const grid = sampleMask(
    mask,
    sourceWidth,
    sourceHeight,
    { ...crop, top: crop.top + crop.height * 0.96, height: crop.height * 0.04 },
    128,
    2,
  )
  let from = 1
  let to = 0
  for (let i = 0; i < grid.length; i++) {
    if (grid[i] < 128) continue
    const u = (i % 128) / 128
    from = Math.min(from, u)
    to = Math.max(to, u + 1 / 128)
  }
  return from < to ? { from, to } : { from: 0.3, to: 0.7 }
}

/**
 * Darkens the canvas under the product: the silhouette squashed onto the
 * floor and blurred (contact shadow), plus a tight dark ellipse where the
 * product meets the floor (ambient occlusion). A key light from one side
 * lengthens the contact shadow and leans it away from the light. Painted at
 * reduced size: a blurred shadow has no detail to lose.
 */
export function paintShadow(
  canvas: Uint8Array,
  canvasWidth: number,
  canvasHeight: number,
  placed: PlacedProduct,
  mask: RawImage,
  source: { width: number; height: number },
  shadow: CpuStudioScene['shadow'],
  light: Light = 'front',
): void {
  if (shadow.opacity <= 0) return
  const unit = canvasHeight / SHADOW_REFERENCE_HEIGHT
  const blur = Math.max(1, shadow.blur * unit)
  const { x, y } = placed.placement
  const floor = y + placed.height + shadow.offsetY * unit
  const side = light === 'left' ? 1 : light === 'right' ? -1 : 0
  const squash = Math.max(2, placed.height * 0.07 * (side === 0 ? 1 : SIDE_LIGHT_STRETCH))
  // The far (top) end of the squashed silhouette is moved this far sideways; its foot stays put.
  const lean = side * placed.height * SIDE_LIGHT_LEAN
  // Region of the canvas the shadow may touch, and the reduced grid over it.
  const margin = Math.ceil(blur * 2)
  const left = Math.max(0, Math.floor(x - margin + Math.min(0, lean)))
  const right = Math.min(canvasWidth, Math.ceil(x + placed.width + margin + Math.max(0, lean)))
  const top = Math.max(0, Math.floor(floor - squash - margin))
  const bottom = Math.min(canvasHeight, Math.ceil(floor + margin))
  if (right <= left || bottom <= top) return
  const step = Math.max(1, Math.floor(blur / 4))
  const gw = Math.ceil((right - left) / step)
  const gh = Math.ceil((bottom - top) / step)

  const contact = new Uint8Array(gw * gh)
  const sw = Math.max(1, Math.round(placed.width / step))
  const sh = Math.max(1, Math.round(squash / step))
  const silhouette = sampleMask(mask, source.width, source.height, placed.placement.crop, sw, sh)
  const ox = Math.round((x - left) / step)
  const oy = Math.round((floor - squash - top) / step)
  for (let j = 0; j < sh; j++) {
    const gy = oy + j
    if (gy < 0 || gy >= gh) continue
    const shift = lean === 0 ? 0 : Math.round((lean * (1 - j / sh)) / step)
    for (let i = 0; i < sw; i++) {
      const gx = ox + shift + i
      if (gx >= 0 && gx < gw) contact[gy * gw + gx] = silhouette[j * sw + i]
    }
  }
  const radius = Math.max(1, Math.round(blur / step / 2))
  const soft = boxBlur(boxBlur(contact, gw, gh, radius), gw, gh, radius)

  const feet = footprint(mask, source.width, source.height, placed.placement.crop)
  const cx = (x + ((feet.from + feet.to) / 2) * placed.width - left) / step
  const cy = (floor - shadow.offsetY * unit * 0.5 - top) / step
  const rx = Math.max(1, (((feet.to - feet.from) * placed.width) / 2) * 1.08) / step
  const ry = Math.max(1.5, canvasHeight * 0.01) / step
  const occlusion = new Uint8Array(gw * gh)
  for (let gy = Math.max(0, Math.floor(cy - ry * 2)); gy < Math.min(gh, Math.ceil(cy + ry * 2)); gy++) {
    for (let gx = Math.max(0, Math.floor(cx - rx * 1.2)); gx < Math.min(gw, Math.ceil(cx + rx * 1.2)); gx++) {
      const d = ((gx + 0.5 - cx) / rx) ** 2 + ((gy + 0.5 - cy) / ry) ** 2
      if (d < 1) occlusion[gy * gw + gx] = Math.round(255 * (1 - d))
    }
  }
  const occlusionSoft = boxBlur(occlusion, gw, gh, Math.max(1, Math.round(radius / 3)))

  // Darkness as the share of light kept, 0..KEEP_ONE per grid cell.
  const keep = new Uint16Array(gw * gh)
  for (let i = 0; i < keep.length; i++) {
    const d = shadow.opacity * Math.min(1, (soft[i] / 255) * 0.8 + (occlusionSoft[i] / 255) * 0.9)
    keep[i] = Math.round((1 - d) * KEEP_ONE)
  }
  applyKeep(canvas, canvasWidth, keep, gw, gh, left, top, right, bottom, step)
}

/** Fixed-point 1 of a keep factor. why 2^15: products with a code value and a 16-bit weight stay below 2^31. */
const KEEP_ONE = 1 << 15
/** Keep factors this close to 1 (0.2 %) leave the canvas as it is. */
const KEEP_UNTOUCHED = KEEP_ONE - Math.round(0.002 * KEEP_ONE)

/**
 * Multiplies the canvas region by the keep factors, bilinearly enlarging the
 * reduced grid. why integers and row spans: the region is a fifth of a
 * 2048 px canvas; per row only the columns whose grid cells darken are
 * visited, and each channel is one multiply and shift.
 */
function applyKeep(
  canvas: Uint8Array,
  canvasWidth: number,
  keep: Uint16Array,
  gw: number,
  gh: number,
  left: number,
  top: number,
  right: number,
  bottom: number,
  step: number,
): void {
  const width = right - left
  const x0 = new Int32Array(width)
  const fx = new Int32Array(width)
  for (let i = 0; i < width; i++) {
    const s = Math.min(gw - 1, Math.max(0, (i + 0.5) / step - 0.5))
    x0[i] = Math.min(Math.max(0, gw - 2), Math.floor(s))
    fx[i] = Math.round((s - x0[i]) * 256)
  }
  // firstColumn[g]: first canvas column (region px) whose left grid tap is g or later.
  const firstColumn = new Int32Array(gw + 1).fill(width)
  for (let i = width - 1; i >= 0; i--) firstColumn[x0[i]] = i
  for (let g = gw - 1; g >= 0; g--) firstColumn[g] = Math.min(firstColumn[g], firstColumn[g + 1])
  const row = new Int32Array(gw + 1)
  for (let yy = top; yy < bottom; yy++) {
    const sy = Math.min(gh - 1, Math.max(0, (yy - top + 0.5) / step - 0.5))
    const y0 = Math.floor(sy)
    const y1 = Math.min(gh - 1, y0 + 1)
    const fy = Math.round((sy - y0) * 256)
    const a = y0 * gw
    const b = y1 * gw
    let first = gw
    let last = -1
    for (let g = 0; g < gw; g++) {
      const v = (keep[a + g] * (256 - fy) + keep[b + g] * fy) >> 8
      row[g] = v
      if (v < KEEP_UNTOUCHED) {
        if (first === gw) first = g
        last = g
      }
    }
    if (last < 0) continue
    row[gw] = row[gw - 1]
    // Columns whose taps reach a darkening cell: left tap in [first − 1, last].
    const from = firstColumn[Math.max(0, first - 1)]
    const to = firstColumn[Math.min(gw, last + 1)]
    let o = (yy * canvasWidth + left + from) * 3
    for (let i = from; i < to; i++, o += 3) {
      const g = x0[i]
      const k = (row[g] * (256 - fx[i]) + row[g + 1] * fx[i]) >> 8
      if (k >= KEEP_UNTOUCHED) continue
      canvas[o] = (canvas[o] * k) >> 15
      canvas[o + 1] = (canvas[o + 1] * k) >> 15
      canvas[o + 2] = (canvas[o + 2] * k) >> 15
    }
  }
}
