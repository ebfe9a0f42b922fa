// How well the heat map (the fidelity report's `heatMap`) points at a known
// defect: its highlighted grid pixels against the defect's pixels, both on
// the comparison grid. Used by heat-overlap.test.ts.
import sharp from 'sharp'
import type { FidelityReport, RawImage } from '#app/modules/backends/types.ts'
import { HEAT_VISIBLE } from '#app/modules/imaging/fidelity/heat-pixels.ts'
import type { Rect } from './eval-realistic.ts'

export type HeatMap = NonNullable<FidelityReport['heatMap']>

/** The highlighted pixels: 1 where the stored heat is at or past the visible threshold. */
export async function highlighted(map: HeatMap): Promise<Uint8Array> {
  const { data, info } = await sharp(Buffer.from(map.png, 'base64')).extractChannel(0).raw().toBuffer({ resolveWithObject: true })
  if (info.width !== map.width || info.height !== map.height || info.channels !== 1)
    throw new Error(`heat map is not a grid-sized grey PNG: ${JSON.stringify(info)} ${map.width}x${map.height}`)
  return Uint8Array.from(data, (v) => (v >= Math.round(255 * HEAT_VISIBLE) ? 1 : 0))
}

/** A rectangle of the result (px) as grid pixels, 1 inside. */
export function rectOnGrid(map: HeatMap, r: Rect): Uint8Array {
  const out = new Uint8Array(map.width * map.height)
  const kx = map.width / map.rect.width
  const ky = map.height / map.rect.height
  const x0 = Math.max(0, Math.floor((r.left - map.rect.left) * kx))
  const x1 = Math.min(map.width, Math.ceil((r.left + r.width - map.rect.left) * kx))
  const y0 = Math.max(0, Math.floor((r.top - map.rect.top) * ky))
  const y1 = Math.min(map.height, Math.ceil((r.top + r.height - map.rect.top) * ky))
  for (let y = y0; y < y1; y++) out.fill(1, y * map.width + x0, y * map.width + Math.max(x0, x1))
  return out
}

/**
 * The pixels of `result` that differ from `clean` (the same render before the
 * defect) by more than `over` code values in a channel, as grid pixels: what
 * the realistic set's `region` boxes, without the box.
 */
export function changedOnGrid(map: HeatMap, result: RawImage, clean: RawImage, over = 10): Uint8Array {
  const out = new Uint8Array(map.width * map.height)
  const kx = map.width / map.rect.width
  const ky = map.height / map.rect.height
  for (let y = map.rect.top; y < map.rect.top + map.rect.height; y++) {
    for (let x = map.rect.left; x < map.rect.left + map.rect.width; x++) {
      const i = 3 * (y * result.width + x)
      const d = Math.max(
        Math.abs(result.data[i] - clean.data[i]),
        Math.abs(result.data[i + 1] - clean.data[i + 1]),
        Math.abs(result.data[i + 2] - clean.data[i + 2]),
      )
      if (d <= over) continue
      const gx = Math.min(map.width - 1, Math.floor((x - map.rect.left) * kx))
      const gy = Math.min(map.height - 1, Math.floor((y - map.rect.top) * ky))
      out[gy * map.width + gx] = 1
    }
  }
  return out
}

/** The mask grown by `reach` px (a square), so "near" the defect. */
export function grow(mask: Uint8Array, width: number, height: number, reach: number): Uint8Array {
  const rows = new Uint8Array(mask.length)
  // why two sweeps a line: the nearest set pixel on either side within reach.
  for (let y = 0; y < height; y++) {
    let next = Infinity
    for (let x = width - 1; x >= 0; x--) {
      if (mask[y * width + x]) next = x
      rows[y * width + x] = next - x <= reach ? 1 : 0
    }
    let last = -Infinity
    for (let x = 0; x < width; x++) {
      if (mask[y * width + x]) last = x
      if (x - last <= reach) rows[y * width + x] = 1
    }
  }
  const out = new Uint8Array(mask.length)
  for (let x = 0; x < width; x++) {
    let last = -Infinity
    for (let y = 0; y < height; y++) {
      if (rows[y * width + x]) last = y
      if (y - last <= reach) out[y * width + x] = 1
    }
    let next = Infinity
    for (let y = height - 1; y >= 0; y--) {
      if (rows[y * width + x]) next = y
      if (next - y <= reach) out[y * width + x] = 1
    }
  }
  return out
}

export interface Overlap {
  /** Highlighted grid px. */
  hot: number
  /** Highlighted px on the defect itself. */
  hits: number
  /** Share of the highlight on the defect or within `reach` px of it. */
  near: number
  /** Share of the defect's px highlighted. */
  covered: number
}

export function overlap(hot: Uint8Array, truth: Uint8Array, width: number, height: number, reach: number): Overlap {
  const around = grow(truth, width, height, reach)
  let count = 0
  let hits = 0
  let near = 0
  let truthCount = 0
  for (let i = 0; i < hot.length; i++) {
    truthCount += truth[i]
    if (!hot[i]) continue
    count++
    hits += truth[i]
    near += around[i]
  }
  return { hot: count, hits, near: count === 0 ? 0 : near / count, covered: truthCount === 0 ? 0 : hits / truthCount }
}
