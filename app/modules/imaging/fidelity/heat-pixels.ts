// The heat map at the measures' own resolution: per comparison-grid pixel, the
// worst change any reading that crossed its visible threshold finds there.
import { BAND, DETAIL_CELL } from './grid.ts'
import { f32 } from './scratch.ts'
import type { DetailReference } from './types.ts'
import { BLOCK } from './colour-blocks.ts'
import { PART_MAX, PART_MIN } from './distance.ts'
import {
  EDGE_FRINGE,
  EDGE_OVERALL,
  EDGE_PART,
  EDGE_STRETCH,
  EDGE_THIN,
  type EdgeCells,
  type EdgePixels,
  type EdgeReadings,
} from './edge-band.ts'
import {
  DETAIL_DEFICIT,
  DETAIL_OVERALL,
  DETAIL_WORST,
  PRINT_ENERGY,
  type DetailCellsOut,
  type PrintReadings,
} from './print-detail.ts'
import { VISIBLE } from './score.ts'
import type { LocalReading } from './local-change.ts'

/** Heat at a measure's visible threshold (1 = twice it): the overlay shows what reaches it. */
export const HEAT_VISIBLE = 0.5
/** Stored levels: heat floored to quarters keeps "at or past visible" exact and the PNG a few KB (measured on the golden sets). */
const HEAT_LEVELS = 4
/** Grid px either side of a band pixel its outline readings are summed over: about half a heat cell. */
const EDGE_REACH = 8
/** Band px a window must read before it says anything, as a heat cell must (edge-band.ts). */
const EDGE_MIN_READ = 12

export interface HeatPixels {
  /** Comparison-grid size; the map covers the reference's resultRect. */
  width: number
  height: number
  /** Per grid pixel, row-major: round(255 × heat), heat floored to 1/HEAT_LEVELS; 0 = no change read. */
  data: Uint8Array
  /** Grid px at or past the visible threshold. */
  hot: number
}

export interface HeatInputs {
  edge: EdgeCells
  edgeReadings: EdgeReadings
  detail: DetailCellsOut
  detailReadings: PrintReadings
  colour: { mean: number; p95: number; perBlock: Float64Array }
  local: LocalReading
}

/**
 * Per grid pixel, the worst of: the edge band's readings over the outline
 * within EDGE_REACH px (a halo lights the ring round the product, a thicker
 * strap the strap's edges), the print's 16 px windows, the colour blocks
 * (each with its 3 × 3 neighbours) and the local change's box; each 1 at
 * twice its visible threshold. why only readings past visible: each reading
 * has its own rule for telling noise from change (the 4th-worst cell, the two
 * worst print windows, the p95 block); the map says where a change it found
 * is, not where a sub-threshold flicker is.
 */
export function heatPixels(ref: DetailReference, m: HeatInputs): HeatPixels {
  const { width, height } = ref
  const heat = f32('heat.pixels', width * height)
  edgeHeat(ref, m.edge.pixels, m.edgeReadings, heat)
  detailHeat(ref, m.detail, m.detailReadings, heat)
  colourHeat(ref, m.colour, heat)
  if (m.local.box) {
    const v = Math.min(1, m.local.badness / 2)
    const { left, top, width: w, height: h } = m.local.box
    for (let y = top; y < top + h; y++) for (let x = left; x < left + w; x++) raise(heat, y * width + x, v)
  }
  const data = new Uint8Array(width * height)
  let hot = 0
  for (let i = 0; i < data.length; i++) {
    const level = Math.floor(HEAT_LEVELS * Math.min(1, heat[i])) / HEAT_LEVELS
    data[i] = Math.round(255 * level)
    if (level >= HEAT_VISIBLE) hot++
  }
  return { width, height, data, hot }
}

function raise(heat: Float32Array, i: number, v: number): void {
  if (v > heat[i]) heat[i] = v
}

function edgeHeat(ref: DetailReference, px: EdgePixels, r: EdgeReadings, heat: Float32Array): void {
  const stretch = r.stretch >= EDGE_STRETCH
  const overall = Math.abs(r.overall) >= EDGE_OVERALL
  const thin = Math.abs(r.thin) >= EDGE_THIN
  const part = r.part >= EDGE_PART
  const fringeReading = r.fringe + Math.max(0, -r.overall) * r.haloShare
  const fringe = fringeReading >= EDGE_FRINGE
  if (!stretch && !overall && !thin && !part && !fringe) return
  // why never below a product-wide reading's own value: the outline near one pixel is noisier than
  // over the whole product (a stripe's end), so those light only where it changed as much as on average.
  const { width, height, signed } = ref
  const n = width * height
  const outside = f32('heat.outside', n)
  const inside = f32('heat.inside', n)
  const outer = f32('heat.outer', n)
  const inner = f32('heat.inner', n)
  const read = f32('heat.read', n)
  for (let i = 0; i < n; i++) {
    if (!px.read[i]) continue
    read[i] = 1
    if (signed[i] < 0) {
      outside[i] = 1
      outer[i] = px.overshoot[i]
    } else if (signed[i] > 0) {
      inside[i] = 1
      inner[i] = px.overshoot[i]
    }
  }
  const sum = (plane: Float32Array, key: string): Float32Array => boxSum(plane, width, height, EDGE_REACH, key)
  const gained = sum(px.change, 'heat.sumChange')
  const held = sum(px.held, 'heat.sumHeld')
  const count = sum(read, 'heat.sumRead')
  const outCount = sum(outside, 'heat.sumOutside')
  const inCount = sum(inside, 'heat.sumInside')
  const outShoot = sum(outer, 'heat.sumOuter')
  const inShoot = sum(inner, 'heat.sumInner')
  const band = 2 * BAND + 1
  for (let i = 0; i < n; i++) {
    if (!px.read[i] || count[i] < EDGE_MIN_READ) continue
    // The same net change a heat cell reads (edge-band.ts), over the outline near this pixel.
    const net = gained[i] / Math.max(held[i], (1.5 * count[i]) / band)
    let v = 0
    if (stretch) v = Math.abs(net) / (2 * EDGE_STRETCH)
    if (overall && net * r.overall > 0) v = Math.max(v, Math.abs(net) / (2 * Math.max(EDGE_OVERALL, Math.abs(r.overall))))
    if (thin && ref.thin[i] && net * r.thin > 0) v = Math.max(v, Math.abs(net) / (2 * Math.max(EDGE_THIN, Math.abs(r.thin))))
    const t = ref.thickness[i]
    if (part && t >= PART_MIN && t < PART_MAX) {
      const growth = (2 * gained[i]) / (count[i] / band) / Math.max(2, t)
      v = Math.max(v, Math.abs(growth) / (2 * EDGE_PART))
    }
    if (fringe) {
      const shoot = (outCount[i] > 0 ? outShoot[i] / outCount[i] : 0) - (inCount[i] > 0 ? inShoot[i] / inCount[i] : 0)
      v = Math.max(v, (shoot + Math.max(0, -net) * r.haloShare) / (2 * Math.max(EDGE_FRINGE, fringeReading)))
    }
    raise(heat, i, v)
  }
}

/**
 * The print windows' heat, painted over their 16 px square inside the
 * product: the windows the detail readings judge (PRINT_ENERGY, else the
 * three most detailed), against each reading that crossed.
 */
function detailHeat(ref: DetailReference, detail: DetailCellsOut, r: PrintReadings, heat: Float32Array): void {
  const worst = r.worst <= DETAIL_WORST
  const overall = r.overall <= DETAIL_OVERALL
  const deficit = r.deficit >= DETAIL_DEFICIT
  if (!worst && !overall && !deficit) return
  const median = r.worst + r.deficit
  const all = [...detail.weight.keys()]
  let windows = all.filter((w) => detail.weight[w] >= PRINT_ENERGY)
  // A plain product: its three most detailed windows stand for the print, as in printReadings.
  if (windows.length < 3)
    windows = all
      .filter((w) => detail.weight[w] > 0)
      .sort((a, b) => detail.weight[b] - detail.weight[a])
      .slice(0, 3)
  const { width, height, signed, detailGrid } = ref
  const step = DETAIL_CELL / 2
  for (const w of windows) {
    const kept = detail.kept[w]
    let v = 0
    if (worst) v = (1 - kept) / (2 * (1 - DETAIL_WORST))
    if (overall) v = Math.max(v, (1 - kept) / (2 * (1 - DETAIL_OVERALL)))
    if (deficit) v = Math.max(v, (median - kept) / (2 * DETAIL_DEFICIT))
    if (v <= 0) continue
    const x0 = (w % detailGrid.cols) * step
    const y0 = Math.floor(w / detailGrid.cols) * step
    for (let y = y0; y < Math.min(height, y0 + DETAIL_CELL); y++)
      for (let x = x0; x < Math.min(width, x0 + DETAIL_CELL); x++) if (signed[y * width + x] >= 0) raise(heat, y * width + x, v)
  }
}

/**
 * The colour blocks' ΔE, each averaged with its 3 × 3 neighbours (one block
 * on a print edge reads ΔE 4 in a faithful render), against the p95 reading
 * (a block at 2 × VISIBLE.deltaE) and, when the product's mean crossed, the mean's.
 */
function colourHeat(ref: DetailReference, colour: HeatInputs['colour'], heat: Float32Array): void {
  const p95 = colour.p95 / 2 >= VISIBLE.deltaE
  const mean = colour.mean >= VISIBLE.deltaE
  if (!p95 && !mean) return
  const { width, blocks } = ref
  // Interior blocks sit on a BLOCK px lattice from (1, 1) (colour-blocks.ts interiorBlocks).
  const cols = Math.ceil(width / BLOCK)
  const rows = Math.ceil(ref.height / BLOCK)
  const lattice = new Float64Array(cols * rows).fill(Number.NaN)
  const at = (k: number): number => {
    const x = blocks[k] % width
    return Math.floor((blocks[k] - x) / width / BLOCK) * cols + Math.floor(x / BLOCK)
  }
  for (let k = 0; k < blocks.length; k++) lattice[at(k)] = colour.perBlock[k]
  for (let k = 0; k < blocks.length; k++) {
    const c = at(k)
    const q = c % cols
    const r = (c - q) / cols
    let sum = 0
    let count = 0
    for (let dr = -1; dr <= 1; dr++) {
      for (let dq = -1; dq <= 1; dq++) {
        const qq = q + dq
        const rr = r + dr
        if (qq < 0 || rr < 0 || qq >= cols || rr >= rows) continue
        const v = lattice[rr * cols + qq]
        if (Number.isNaN(v)) continue
        sum += v
        count++
      }
    }
    const local = sum / count
    const v = Math.max(p95 ? local / (4 * VISIBLE.deltaE) : 0, mean ? local / (2 * VISIBLE.deltaE) : 0)
    const x0 = blocks[k] % width
    const y0 = (blocks[k] - x0) / width
    for (let y = y0; y < y0 + BLOCK; y++) for (let x = x0; x < x0 + BLOCK; x++) raise(heat, y * width + x, v)
  }
}

/** Sum of a plane over the (2 reach + 1)² square round each pixel (clipped at the borders), into a scratch plane. */
export function boxSum(plane: Float32Array, width: number, height: number, reach: number, key: string): Float32Array {
  const rows = f32(`${key}.rows`, plane.length, false)
  const out = f32(key, plane.length, false)
  for (let y = 0; y < height; y++) {
    const row = y * width
    let s = 0
    for (let x = 0; x < Math.min(width, reach); x++) s += plane[row + x]
    for (let x = 0; x < width; x++) {
      if (x + reach < width) s += plane[row + x + reach]
      if (x - reach - 1 >= 0) s -= plane[row + x - reach - 1]
      rows[row + x] = s
    }
  }
  const column = new Float64Array(width)
  for (let y = 0; y < Math.min(height, reach); y++) for (let x = 0; x < width; x++) column[x] += rows[y * width + x]
  for (let y = 0; y < height; y++) {
    const add = y + reach < height ? (y + reach) * width : -1
    const drop = y - reach - 1 >= 0 ? (y - reach - 1) * width : -1
    for (let x = 0; x < width; x++) {
      if (add >= 0) column[x] += rows[add + x]
      if (drop >= 0) column[x] -= rows[drop + x]
      out[y * width + x] = column[x]
    }
  }
  return out
}
