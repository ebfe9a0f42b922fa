import { z } from 'zod'
import { operationSchema, type Operation } from '#app/modules/looks/schema.ts'
import type { BulkImages, BulkLook, BulkSelection } from '#db/schema.ts'

// What a merchant asks a bulk run for, validated at the edge (the form, the
// API). Shared by the routes and the service; no server code here.

/** Products a run may name one by one (the admin's selection); larger sets are a search or a collection. */
export const MAX_SELECTED_PRODUCTS = 250
export const MAX_LOOKS = 10
export const MAX_FIRST_IMAGES = 20

const ref = z.string().trim().min(1).max(200)

export const bulkSelectionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('collection'), collectionId: ref }),
  z.object({ kind: z.literal('query'), query: ref }),
  z.object({ kind: z.literal('products'), productIds: z.array(ref).min(1).max(MAX_SELECTED_PRODUCTS) }),
]) satisfies z.ZodType<BulkSelection>

export const bulkLookSchema = z.object({
  operation: operationSchema,
  marketId: ref,
  sceneId: ref,
  personaId: ref.nullable(),
}) satisfies z.ZodType<BulkLook>

export const bulkImagesSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('featured') }),
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('first'), count: z.coerce.number().int().min(1).max(MAX_FIRST_IMAGES) }),
]) satisfies z.ZodType<BulkImages>

export const startBulkRunSchema = z.object({
  selection: bulkSelectionSchema,
  looks: z.array(bulkLookSchema).min(1).max(MAX_LOOKS),
  images: bulkImagesSchema,
  /** Admission bound for this run; default BULK_MAX_IN_FLIGHT. */
  maxInFlight: z.number().int().min(1).max(500).optional(),
})
export type StartBulkRunInput = z.input<typeof startBulkRunSchema>

/** The operation a look implies when the merchant does not pick one (as the studio does). */
export function defaultOperation(personaId: string | null): Operation {
  return personaId ? 'model_swap' : 'product_scene'
}

/** How many images of each product a run takes (null = all of them). */
export function imagesPerProduct(images: BulkImages): number | null {
  if (images.kind === 'featured') return 1
  if (images.kind === 'first') return images.count
  return null
}

/** A short, stable label for a look (CSV, lists): market / scene / persona / operation. */
export function lookLabel(look: BulkLook): string {
  return [look.marketId, look.sceneId, look.personaId ?? 'no-model', look.operation].join(' / ')
}
