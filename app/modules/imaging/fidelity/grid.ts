// The comparison grid: where the source and the result are resampled to, its
// cells and windows, and the distances (grid px) every measure is defined in.
import type { Placement, RawImage } from '../types.ts'
import { f32 } from './scratch.ts'

/** Long edge of the comparison grid (product + margin). */
export const DETAIL_EDGE = 512
/** Cells across and down the product for per-region measures and the heat map. */
export const HEAT_CELLS = 16
/** Grid px inside the outline where the interior (SSIM, ΔE, detail) starts. */
export const INTERIOR = 3
/** Half-width of the edge band around the outline, grid px. */
export const BAND = 3

/** Side of the square cells print detail is compared in, grid px: about a letter of a garment's lettering. */
export const DETAIL_CELL = 16

export interface Rect {
  left: number
  top: number
  width: number
  height: number
}

export interface CellGrid {
  cols: number
  rows: number
  /** Cell column of each grid x, and cell row × cols of each grid y: pixel (x, y) is in cell colOf[x] + rowOf[y]. */
  colOf: Int32Array
  rowOf: Int32Array
}

/**
 * The grid's rectangle on the result (placed product + margin, inside the
 * frame) and the matching rectangle of the source (inside the photo).
 */
export function gridRegions(
  p: Placement,
  frame: { width: number; height: number },
  source: { width: number; height: number },
): { result: Rect; source: Rect; width: number; height: number } | undefined {
  const w = p.crop.width * p.scale
  const h = p.crop.height * p.scale
  const margin = Math.round(0.03 * Math.max(w, h)) + 4
  // Result-side bounds, then limited to where the source has pixels.
  let x0 = Math.max(0, p.x - margin, p.x - p.crop.left * p.scale)
  let y0 = Math.max(0, p.y - margin, p.y - p.crop.top * p.scale)
  let x1 = Math.min(frame.width, p.x + w + margin, p.x + (source.width - p.crop.left) * p.scale)
  let y1 = Math.min(frame.height, p.y + h + margin, p.y + (source.height - p.crop.top) * p.scale)
  x0 = Math.ceil(x0)
  y0 = Math.ceil(y0)
  x1 = Math.floor(x1)
  y1 = Math.floor(y1)
  if (x1 - x0 < 16 || y1 - y0 < 16) return undefined
  const toSource = (X: number, origin: number, crop: number): number => crop + (X - origin) / p.scale
  const sLeft = Math.max(0, Math.round(toSource(x0, p.x, p.crop.left)))
  const sTop = Math.max(0, Math.round(toSource(y0, p.y, p.crop.top)))
  const sRight = Math.min(source.width, Math.round(toSource(x1, p.x, p.crop.left)))
  const sBottom = Math.min(source.height, Math.round(toSource(y1, p.y, p.crop.top)))
  if (sRight - sLeft < 4 || sBottom - sTop < 4) return undefined
  const k = Math.min(1, DETAIL_EDGE / Math.max(x1 - x0, y1 - y0))
  return {
    result: { left: x0, top: y0, width: x1 - x0, height: y1 - y0 },
    source: { left: sLeft, top: sTop, width: sRight - sLeft, height: sBottom - sTop },
    width: Math.max(16, Math.round((x1 - x0) * k)),
    height: Math.max(16, Math.round((y1 - y0) * k)),
  }
}

/** The source mask sampled bilinearly at the grid's pixel centres, 0..1. */
export function maskOnGrid(
  mask: RawImage,
  source: { width: number; height: number },
  rect: Rect,
  width: number,
  height: number,
): Float32Array {
  const out = new Float32Array(width * height)
  const mx = mask.width / source.width
  const my = mask.height / source.height
  const xs = new Int32Array(width)
  const fxs = new Float32Array(width)
  for (let i = 0; i < width; i++) {
    const s = Math.min(mask.width - 1, Math.max(0, (rect.left + ((i + 0.5) * rect.width) / width) * mx - 0.5))
    xs[i] = Math.min(mask.width - 2, Math.floor(s))
    fxs[i] = s - xs[i]
  }
  const d = mask.data
  const mw = mask.width
  for (let j = 0; j < height; j++) {
    const s = Math.min(mask.height - 1, Math.max(0, (rect.top + ((j + 0.5) * rect.height) / height) * my - 0.5))
    const y0 = Math.min(mask.height - 2, Math.floor(s))
    const fy = s - y0
    for (let i = 0; i < width; i++) {
      const o = y0 * mw + xs[i]
      const fx = fxs[i]
      const top = d[o] + fx * (d[o + 1] - d[o])
      const bottom = d[o + mw] + fx * (d[o + mw + 1] - d[o + mw])
      out[j * width + i] = (top + fy * (bottom - top)) / 255
    }
  }
  return out
}

/** Rec. 601 luma. */
export function luma(rgb: Uint8Array, count: number, key?: string): Float32Array {
  const y = key ? f32(key, count, false) : new Float32Array(count)
  for (let i = 0, p = 0; i < count; i++, p += 3) y[i] = 0.299 * rgb[p] + 0.587 * rgb[p + 1] + 0.114 * rgb[p + 2]
  return y
}

export function cellGrid(width: number, height: number): CellGrid {
  const colOf = new Int32Array(width)
  const rowOf = new Int32Array(height)
  for (let x = 0; x < width; x++) colOf[x] = Math.min(HEAT_CELLS - 1, Math.floor((x * HEAT_CELLS) / width))
  for (let y = 0; y < height; y++) rowOf[y] = HEAT_CELLS * Math.min(HEAT_CELLS - 1, Math.floor((y * HEAT_CELLS) / height))
  return { cols: HEAT_CELLS, rows: HEAT_CELLS, colOf, rowOf }
}

/** Windows of DETAIL_CELL px overlapping by half (so a letter never falls between two). */
export function windowGrid(width: number, height: number, side: number): CellGrid {
  const step = side / 2
  return {
    cols: Math.max(1, Math.ceil((width - step) / step)),
    rows: Math.max(1, Math.ceil((height - step) / step)),
    colOf: new Int32Array(0),
    rowOf: new Int32Array(0),
  }
}
