// The heat map: where on the product the outline, the print or the colour changed.
import { DETAIL_CELL } from './grid.ts'
import type { DetailMeasures, DetailReference } from './types.ts'
import { BLOCK } from './colour-blocks.ts'
import { EDGE_STRETCH, type EdgeCells } from './edge-band.ts'
import { DETAIL_WORST, type DetailCellsOut } from './print-detail.ts'
import { VISIBLE } from './score.ts'
import type { LocalReading } from './local-change.ts'

/**
 * Heat of each HEAT_CELLS² cell: the worst of its outline change, its print
 * change and its colour change (matched ΔE2000 of the interior blocks whose
 * centre lies in it), each 1 at twice its visible threshold.
 */
export function heatMap(
  ref: DetailReference,
  edge: EdgeCells,
  detail: DetailCellsOut,
  blockDeltaE: Float64Array,
  local?: LocalReading,
): DetailMeasures['heat'] {
  const { cols, rows } = ref.cells
  const cells: number[] = new Array(cols * rows).fill(-1)
  for (let c = 0; c < cells.length; c++) {
    if (edge.weight[c] > 0) cells[c] = Math.min(1, Math.abs(edge.net[c]) / (2 * EDGE_STRETCH))
  }
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
  // why the cell's mean: one 4×4 block on a print edge can read ΔE 4 in a faithful render.
  const sum = new Float64Array(cells.length)
  const count = new Int32Array(cells.length)
  for (let k = 0; k < blockDeltaE.length; k++) {
    const x = Math.min(ref.width - 1, (ref.blocks[k] % ref.width) + (BLOCK >> 1))
    const y = Math.min(ref.height - 1, Math.floor(ref.blocks[k] / ref.width) + (BLOCK >> 1))
    const c = ref.cells.colOf[x] + ref.cells.rowOf[y]
    sum[c] += blockDeltaE[k]
    count[c]++
  }
  for (let c = 0; c < cells.length; c++) {
    if (count[c] > 0) cells[c] = Math.max(cells[c], Math.min(1, sum[c] / count[c] / (2 * VISIBLE.deltaE)))
  }
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
  return { cols, rows, rect: ref.resultRect, cells: cells.map((v) => (v < 0 ? -1 : Math.round(100 * v) / 100)) }
}
