// The heat map: where on the product the outline, the print or the colour changed,
// and for each of those families the region a reason points at.
import { DETAIL_CELL, type Rect } from './grid.ts'
import type { DetailMeasures, DetailReference } from './types.ts'
import { BLOCK } from './colour-blocks.ts'
import { EDGE_STRETCH, type EdgeCells } from './edge-band.ts'
import { DETAIL_WORST, type DetailCellsOut } from './print-detail.ts'
import { VISIBLE } from './score.ts'
import type { LocalReading } from './local-change.ts'

/** Heat at which a cell says "changed here": its measure's visible threshold. */
const HOT = 0.5

/**
 * Heat of each HEAT_CELLS² cell: the worst of its outline change, its print
 * change, its colour change (matched ΔE2000 of the interior blocks whose
 * centre lies in it) and the local change over it, each 1 at twice its
 * visible threshold; and per family, the cells at or past visible (else its
 * hottest cell) as one region.
 */
export function heatMap(
  ref: DetailReference,
  edge: EdgeCells,
  detail: DetailCellsOut,
  blockDeltaE: Float64Array,
  local?: LocalReading,
): Pick<DetailMeasures, 'heat' | 'regions'> {
  const families = { edge: edgeHeat(ref, edge), detail: detailHeat(ref, detail), colour: colourHeat(ref, blockDeltaE) }
  const cells = families.edge.map((v, c) => Math.max(v, families.detail[c], families.colour[c]))
  if (local?.box) {
    // why the whole patch: a button gone is one cell's worth of change, and that cell must light up.
    const heat = Math.min(1, local.badness / 2)
    const { left, top, width, height } = local.box
    for (let y = top; y < top + height; y++)
      for (let x = left; x < left + width; x++) {
        const c = ref.cells.colOf[x] + ref.cells.rowOf[y]
        cells[c] = Math.max(cells[c], heat)
      }
  }
  const { cols, rows } = ref.cells
  const heat = { cols, rows, rect: ref.resultRect, cells: cells.map((v) => (v < 0 ? -1 : Math.round(100 * v) / 100)) }
  return {
    heat,
    regions: {
      edge: regionOf(families.edge, heat),
      detail: regionOf(families.detail, heat),
      colour: regionOf(families.colour, heat),
    },
  }
}

function edgeHeat(ref: DetailReference, edge: EdgeCells): number[] {
  const cells = new Array<number>(ref.cells.cols * ref.cells.rows).fill(-1)
  for (let c = 0; c < cells.length; c++)
    if (edge.weight[c] > 0) cells[c] = Math.min(1, Math.abs(edge.net[c]) / (2 * EDGE_STRETCH))
  return cells
}

function detailHeat(ref: DetailReference, detail: DetailCellsOut): number[] {
  const cells = new Array<number>(ref.cells.cols * ref.cells.rows).fill(-1)
  const step = DETAIL_CELL / 2
  for (let r = 0; r < ref.detailGrid.rows; r++) {
    for (let q = 0; q < ref.detailGrid.cols; q++) {
      const w = r * ref.detailGrid.cols + q
      if (detail.weight[w] <= 0) continue
      const x = Math.min(ref.width - 1, q * step + step)
      const y = Math.min(ref.height - 1, r * step + step)
      const c = ref.cells.colOf[x] + ref.cells.rowOf[y]
      cells[c] = Math.max(cells[c], Math.min(1, Math.max(0, (1 - detail.kept[w]) / (2 * (1 - DETAIL_WORST)))))
    }
  }
  return cells
}

function colourHeat(ref: DetailReference, blockDeltaE: Float64Array): number[] {
  const n = ref.cells.cols * ref.cells.rows
  // why the cell's mean: one 4×4 block on a print edge can read ΔE 4 in a faithful render.
  const sum = new Float64Array(n)
  const count = new Int32Array(n)
  for (let k = 0; k < blockDeltaE.length; k++) {
    const x = Math.min(ref.width - 1, (ref.blocks[k] % ref.width) + (BLOCK >> 1))
    const y = Math.min(ref.height - 1, Math.floor(ref.blocks[k] / ref.width) + (BLOCK >> 1))
    const c = ref.cells.colOf[x] + ref.cells.rowOf[y]
    sum[c] += blockDeltaE[k]
    count[c]++
  }
  return Array.from(sum, (s, c) => (count[c] > 0 ? Math.min(1, s / count[c] / (2 * VISIBLE.deltaE)) : -1))
}

/** The bounding box (result px) of a family's cells at or past HOT, else of its hottest cell; none where it read nothing. */
function regionOf(cells: number[], heat: DetailMeasures['heat']): Rect | undefined {
  let hottest = -1
  for (let c = 0; c < cells.length; c++) if (cells[c] > 0 && (hottest < 0 || cells[c] > cells[hottest])) hottest = c
  if (hottest < 0) return undefined
  const chosen = cells.flatMap((v, c) => (v >= HOT ? [c] : []))
  if (chosen.length === 0) chosen.push(hottest)
  const cw = heat.rect.width / heat.cols
  const ch = heat.rect.height / heat.rows
  const qs = chosen.map((c) => c % heat.cols)
  const rs = chosen.map((c) => Math.floor(c / heat.cols))
  const q0 = Math.min(...qs)
  const r0 = Math.min(...rs)
  return {
    left: heat.rect.left + q0 * cw,
    top: heat.rect.top + r0 * ch,
    width: (Math.max(...qs) - q0 + 1) * cw,
    height: (Math.max(...rs) - r0 + 1) * ch,
  }
}
