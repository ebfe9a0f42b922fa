// Added detail: a pocket, a seam or an eyelet drawn where the source is plain.
// why apart from local-change.ts: drawn in the fabric's own colour, a pocket
// is only its outline and stitching, a line a pixel wide that the blurred
// colour comparison doesn't see; in the print's band-pass it is most of the
// window's energy.
import { type CellGrid, DETAIL_CELL, type Rect } from './grid.ts'
import type { DetailCellsOut } from './print-detail.ts'
import type { ThinReading } from './thin-change.ts'

/** Added detail (print-detail.ts: levels² a px the source doesn't explain) of a just-visible added part. */
export const ADDED_VISIBLE = 4

/**
 * The worst window of added detail, against ADDED_VISIBLE, with the windows
 * joined to it that read at least half that (the part's extent).
 */
export function addedDetail(
  detail: Pick<DetailCellsOut, 'added'>,
  windows: CellGrid,
  width: number,
  height: number,
): ThinReading {
  const { added } = detail
  let worst = -1
  for (let w = 0; w < added.length; w++) if (added[w] >= ADDED_VISIBLE / 2 && (worst < 0 || added[w] > added[worst])) worst = w
  if (worst < 0) return { badness: 0, area: 0, mass: 0 }
  const seen = new Uint8Array(added.length)
  const queue = [worst]
  seen[worst] = 1
  let mass = 0
  let q0 = windows.cols
  let r0 = windows.rows
  let q1 = -1
  let r1 = -1
  for (let head = 0; head < queue.length; head++) {
    const w = queue[head]
    const q = w % windows.cols
    const r = (w - q) / windows.cols
    mass += added[w]
    q0 = Math.min(q0, q)
    q1 = Math.max(q1, q)
    r0 = Math.min(r0, r)
    r1 = Math.max(r1, r)
    for (const [dq, dr] of [
      [1, 0],
      [-1, 0],
      [0, 1],
      [0, -1],
    ]) {
      const qq = q + dq
      const rr = r + dr
      if (qq < 0 || rr < 0 || qq >= windows.cols || rr >= windows.rows) continue
      const v = rr * windows.cols + qq
      if (seen[v] || added[v] < ADDED_VISIBLE / 2) continue
      seen[v] = 1
      queue.push(v)
    }
  }
  const step = DETAIL_CELL / 2
  const box: Rect = {
    left: q0 * step,
    top: r0 * step,
    width: Math.min(width, q1 * step + DETAIL_CELL) - q0 * step,
    height: Math.min(height, r1 * step + DETAIL_CELL) - r0 * step,
  }
  return { badness: added[worst] / ADDED_VISIBLE, box, area: box.width * box.height, mass }
}
