// The stored heat map of a render, read for the pages that draw it (loaders).
import { z } from 'zod'
import { signUrl } from '#app/lib/storage.server.ts'
import type { FidelityHeat } from './HeatOverlay.tsx'
import { productBoxOf } from '#app/modules/renders/product-box.ts'
import { placeOf, type Place } from './verdict.ts'

const heatRect = z.object({ left: z.number(), top: z.number(), width: z.number(), height: z.number() })
const heatCellsSchema = z.object({
  cols: z.number().int().positive(),
  rows: z.number().int().positive(),
  rect: heatRect,
  cells: z.array(z.number()),
})
const heatMapSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  rect: heatRect,
  png: z.string().regex(/^[A-Za-z0-9+/]+=*$/),
  hot: z.number().int().nonnegative(),
})

/** The stored map's PNG bytes, if the row has a well-formed one (the signed link's route). */
export function heatPng(fidelity: Record<string, unknown> | null): Buffer | null {
  const map = heatMapSchema.safeParse(fidelity?.heatMap)
  return map.success ? Buffer.from(map.data.png, 'base64') : null
}

/**
 * Where the render changed: its pixel map (as a signed link to the PNG),
 * else the cells renders measured before it stored (none before fidelity
 * v2), if the row has a well-formed one.
 */
export function heatOf(render: { id: string; fidelity: Record<string, unknown> | null }): FidelityHeat | null {
  const { fidelity } = render
  const map = heatMapSchema.safeParse(fidelity?.heatMap)
  if (map.success) {
    const { png: _png, ...rest } = map.data
    return { ...rest, url: signUrl(`/media/heat/${render.id}`) }
  }
  const cells = heatCellsSchema.safeParse(fidelity?.heat)
  return cells.success && cells.data.cells.length === cells.data.cols * cells.data.rows ? cells.data : null
}

/** Where on the product each of a render's reasons was found (parallel to its reasons), in the product's own box. */
export function reasonPlaces(render: {
  fidelity: Record<string, unknown> | null
  outputWidth: number
  outputHeight: number
  reviewReasons: { region?: { x: number; y: number; width: number; height: number } }[]
}): (Place | null)[] {
  const product = productBoxOf(render)
  return render.reviewReasons.map((r) => placeOf(r.region, product))
}
