import { randomInt } from 'node:crypto'
import { and, count, desc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm'
import { z } from 'zod'
import { db, type Db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { AppError, notFound } from '#app/lib/errors.ts'
import { priorities } from './queue.server.ts'
import { enqueueRender, removeRenderJob } from './enqueue.server.ts'
import { capacityFor, queuePosition, withdrawScheduled } from '#app/modules/scheduler/dispatcher.server.ts'
import { renderOutlooks, type RenderOutlook } from '#app/modules/scheduler/liveness.server.ts'
import { imageStore, sha256 } from '#app/lib/storage.server.ts'
import { pickBackendFor } from '#app/modules/backends/pool.server.ts'
import type { Backend } from '#app/modules/backends/types.ts'
import { assertCanRender, reserveRenders } from '#app/modules/billing/service.server.ts'
import { normaliseImage } from '#app/modules/imaging/normalise.server.ts'
import { altText, lookVersions, outputSize, resolveLook } from '#app/modules/looks/index.ts'
import { lookChoiceSchema, operationSchema, type Operation } from '#app/modules/looks/schema.ts'
import { variantSeeds } from '#app/modules/looks/variation.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import type { PublishOptions } from '#app/modules/platforms/types.ts'
import { publications, renders, type Render, type Tenant } from '#db/schema.ts'
import { readMerchantMask, storeMerchantMask, type MerchantMask } from './mask.server.ts'
import { productBoxOf } from './product-box.ts'

export const createRendersInputSchema = z.object({
  productId: z.string().min(1).max(200),
  imageId: z.string().min(1).max(500),
  look: lookChoiceSchema,
  operation: operationSchema.optional(),
  variants: z.coerce.number().int().min(1).max(8).default(1),
  /** Fixed seeds make a run reproducible (the demo, the eval set); default random. */
  seeds: z.array(z.number().int().min(0).max(2 ** 31 - 1)).optional(),
  priority: z.enum(['interactive', 'demo', 'bulk']).default('interactive'),
  /** The merchant's brush (mask.server.ts): a PNG the size of the source, R keep, G repaint, B hint. */
  mask: z.instanceof(Buffer).optional(),
  /** The bulk run this render belongs to (renders.batch_id), recorded with the row so admission control can count it. */
  batchId: z.uuid().optional(),
})
export type CreateRendersInput = z.input<typeof createRendersInputSchema>

function defaultOperation(personaId: string | null): Operation {
  return personaId ? 'model_swap' : 'product_scene'
}

/**
 * Checks the merchant's mask against the normalised source (whose size is
 * what the editor drew on). why Keep is required for the CPU studio and for
 * product-in-scene work: those place or protect exactly the kept pixels; a
 * generative model swap may be guided by Repaint and Hint strokes alone.
 */
async function validateMask(bytes: Buffer, source: { width: number; height: number }, backend: Backend, operation: Operation): Promise<MerchantMask> {
  const requireKeep = backend.capabilities().type === 'cpu-studio' || operation === 'product_scene' || operation === 'scene_swap'
  return readMerchantMask(bytes, { width: source.width, height: source.height }, { requireKeep })
}

function renderKey(parts: (string | number | null)[]): string {
  return sha256(parts.map((p) => String(p ?? '')).join('\u0000'))
}

/**
 * Validates the source image and the look, then records and queues one render
 * per variant. Bad input fails here, before any queue or GPU time is spent.
 * Idempotent: the same product, image, look, seed and mask returns the existing row.
 */
export async function createRenders(tenant: Tenant, raw: CreateRendersInput): Promise<Render[]> {
  const input = createRendersInputSchema.parse(raw)
  const look = resolveLook(input.look)
  const operation = input.operation ?? defaultOperation(input.look.personaId)
  const backend = await pickBackendFor(tenant.id, operation, look.persona !== null)

  const seedCount = input.seeds?.length ?? input.variants
  // why first: no plan or a reached cap is refused before any work at all.
  await assertCanRender(tenant, seedCount)
  const platform = platformFor(tenant)
  const product = await platform.getProduct(input.productId)
  const image = product.images.find((i) => i.id === input.imageId && !i.ours)
  if (!image) throw notFound('Product image')
  const original = await platform.readImage(product.id, image.id)
  // why validate here: bad input is refused before any queue or GPU time.
  const source = await normaliseImage(original)
  // The original bytes, by content: every attempt and variant reads the same
  // input even if the listing's image changes meanwhile.
  const sourceKey = await imageStore().put(original)
  // why here: the backend would refuse it only after the render waited its turn, and under a code about finding the product.
  if (!input.mask && backend.capabilities().garmentMaskFor?.includes(operation)) {
    throw new AppError('GARMENT_MASK_REQUIRED', 'Draw a mask over the garment in the studio: only the garment is kept when the model changes.', {
      details: { operation, backend: backend.id },
    })
  }
  const mask = input.mask ? await validateMask(input.mask, source, backend, operation) : null
  const maskKey = mask ? await storeMerchantMask(mask) : null

  const versions = lookVersions(look)
  const { width, height } = outputSize(look.market.aspectRatio, Math.min(env().MAX_OUTPUT_EDGE, backend.capabilities().maxEdge))
  // why spread: variants of one look each get their own framing and light (looks/variation.ts).
  const seeds = input.seeds ?? variantSeeds(input.variants, (n) => randomInt(0, n))

  const rows = seeds.map((seed) => ({
    tenantId: tenant.id,
    idempotencyKey: renderKey([
      tenant.id, product.id, source.sha256, versions.personaId, versions.personaVersion, versions.marketId,
      versions.marketVersion, versions.sceneId, versions.sceneVersion, operation, seed,
      // why only when there is one: renders without a mask keep the keys they always had.
      ...(mask ? [mask.sha256] : []),
    ]),
    productRef: product.id,
    productTitle: product.title,
    sourceImageRef: image.id,
    sourceSha256: source.sha256,
    sourceKey,
    maskKey,
    operation,
    ...versions,
    backend: backend.id,
    seed,
    outputWidth: width,
    outputHeight: height,
    batchId: input.batchId ?? null,
  }))

  await db().transaction(async (tx) => {
    // why only the new rows count: a re-run of existing renders adds nothing to the bill.
    await reserveRenders(tx, tenant, async () => {
      const existing = await tx
        .select({ key: renders.idempotencyKey })
        .from(renders)
        .where(and(eq(renders.tenantId, tenant.id), inArray(renders.idempotencyKey, rows.map((r) => r.idempotencyKey))))
      return rows.length - existing.length
    })
    await tx.insert(renders).values(rows).onConflictDoNothing()
  })
  // why: rows that already existed (a double click, a re-run) come back as
  // they are.
  const recorded = await db()
    .select()
    .from(renders)
    .where(and(eq(renders.tenantId, tenant.id), inArray(renders.idempotencyKey, rows.map((r) => r.idempotencyKey))))
    .then((found) => {
      // why in the order asked for: rows inserted together share created_at, and a tie comes back in any order.
      const byKey = new Map(found.map((r) => [r.idempotencyKey, r]))
      return rows.flatMap((r) => byKey.get(r.idempotencyKey) ?? [])
    })
  // why every still-queued row, not only the new ones: when the enqueue failed
  // after the insert (Redis dropped), the merchant's retry must queue them, or
  // they wait forever. Adding a job that exists is a no-op (jobId = render id).
  for (const r of recorded) if (r.status === 'queued') await enqueueRender(r.id, input.priority)
  return recorded
}

export async function getRender(tenantId: string, renderId: string): Promise<Render> {
  if (!z.uuid().safeParse(renderId).success) throw notFound('Render')
  const row = await db().query.renders.findFirst({ where: and(eq(renders.id, renderId), eq(renders.tenantId, tenantId)) })
  if (!row) throw notFound('Render')
  return row
}

export async function listRenders(
  tenantId: string,
  opts: { productRef?: string; limit?: number; ids?: string[] } = {},
): Promise<Render[]> {
  const where = [eq(renders.tenantId, tenantId)]
  if (opts.productRef) where.push(eq(renders.productRef, opts.productRef))
  if (opts.ids) where.push(inArray(renders.id, opts.ids))
  return db()
    .select()
    .from(renders)
    .where(and(...where))
    .orderBy(desc(renders.createdAt))
    .limit(Math.min(opts.limit ?? 100, 500))
}

const activeStatuses = ['queued', 'retrying', 'running'] as const

export interface RenderProgress {
  /** 1-based place among renders waiting to start, or null once started. */
  queuePosition: number | null
  /** Null while it waits on a backend that does not answer: no estimate would be true. */
  etaSeconds: number | null
  /** Every backend that could take it is not answering: which one (its name), since when, and when the render gives up (ISO). */
  waitingFor: { backend: string; since: string; until: string } | null
}

/** Queue position and ETA for the tenant's active renders, from measured timings. */
export async function progressOf(tenantId: string, active: Render[]): Promise<Record<string, RenderProgress>> {
  const out: Record<string, RenderProgress> = {}
  if (active.length === 0) return out
  const [{ medianMs }] = await db()
    .select({ medianMs: sql<number | null>`percentile_cont(0.5) within group (order by ${renders.backendMs})` })
    .from(renders)
    .where(and(eq(renders.tenantId, tenantId), eq(renders.status, 'succeeded')))
  const typicalMs = medianMs ?? 2000
  const outlooks = await renderOutlooks(active).catch(() => ({}) as Record<string, RenderOutlook>)
  for (const r of active) {
    const wait = outlooks[r.id]?.waiting
    if (wait) {
      const waitingFor = { backend: wait.backendName, since: new Date(wait.since).toISOString(), until: new Date(wait.until).toISOString() }
      out[r.id] = { queuePosition: r.status === 'running' ? null : await queuePosition(r.id).catch(() => null), etaSeconds: null, waitingFor }
      continue
    }
    if (r.status === 'running') {
      // why the backend's own time first: a fast and a slow GPU differ by more than any shop's median says.
      const renderMs = outlooks[r.id]?.runningMs ?? typicalMs
      out[r.id] = { queuePosition: null, etaSeconds: Math.max(1, Math.round(((100 - r.progress) / 100) * renderMs / 1000)), waitingFor: null }
      continue
    }
    // why the live slots: a server that does not answer takes no turn in the queue.
    const slots = outlooks[r.id]?.liveSlots || capacityFor(r)
    // The scheduler's answer: its round robin between shops, interactive first.
    const scheduled = await queuePosition(r.id).catch(() => null)
    if (scheduled !== null) {
      // Measured: the renders ahead and its own at the pace the servers that can take it keep.
      const rate = outlooks[r.id]?.rate
      const etaSeconds = rate ? Math.round(scheduled / rate) : Math.round((Math.ceil(scheduled / slots) * typicalMs) / 1000)
      out[r.id] = { queuePosition: scheduled, etaSeconds, waitingFor: null }
      continue
    }
    // Not known to the scheduler (Redis lost it; the reconciler will resubmit
    // it): first come, first served. why: every tenant's waiting renders count
    // toward the wait, but only a number leaves the database; no other shop's data does.
    const [{ ahead }] = await db()
      .select({ ahead: count() })
      .from(renders)
      .where(
        and(
          inArray(renders.status, ['queued', 'retrying']),
          // why the id tie-break: variants created together share one timestamp.
          or(lt(renders.queuedAt, r.queuedAt), and(eq(renders.queuedAt, r.queuedAt), lt(renders.id, r.id))),
        ),
      )
    const position = ahead + 1
    out[r.id] = { queuePosition: position, etaSeconds: Math.round((Math.ceil(position / slots) * typicalMs) / 1000), waitingFor: null }
  }
  return out
}

export function isActive(r: Render): boolean {
  return (activeStatuses as readonly string[]).includes(r.status)
}

async function transitionReview(
  tenantId: string,
  renderId: string,
  from: Render['reviewState'][],
  to: Render['reviewState'],
): Promise<Render> {
  const current = await getRender(tenantId, renderId)
  if (current.status !== 'succeeded') {
    throw new AppError('INVALID_TRANSITION', 'Only finished renders can be reviewed')
  }
  const [row] = await db()
    .update(renders)
    .set({ reviewState: to, updatedAt: new Date() })
    .where(and(eq(renders.id, renderId), eq(renders.tenantId, tenantId), inArray(renders.reviewState, from)))
    .returning()
  if (!row) throw new AppError('INVALID_TRANSITION', `This render is ${current.reviewState}; it cannot become ${to}`)
  return row
}

export function approveRender(tenantId: string, renderId: string): Promise<Render> {
  return transitionReview(tenantId, renderId, ['pending', 'rejected'], 'approved')
}

export function rejectRender(tenantId: string, renderId: string): Promise<Render> {
  return transitionReview(tenantId, renderId, ['pending', 'approved'], 'rejected')
}

export async function cancelRender(tenantId: string, renderId: string): Promise<Render> {
  await getRender(tenantId, renderId)
  const [row] = await db()
    .update(renders)
    .set({ status: 'canceled', finishedAt: new Date(), updatedAt: new Date(), progressMessage: null })
    .where(and(eq(renders.id, renderId), eq(renders.tenantId, tenantId), inArray(renders.status, ['queued', 'retrying', 'running'])))
    .returning()
  if (!row) throw new AppError('INVALID_TRANSITION', 'Only renders that are waiting or running can be canceled')
  // why: a waiting render leaves the scheduler now, not when its turn comes.
  await removeRenderJob(row.id)
  return row
}

/**
 * Publishes an approved render to the product listing. Exactly once: the
 * platform call is keyed by the render id, and the database allows one live
 * publication per render. A render below the fidelity threshold needs the
 * merchant's explicit override.
 */
export async function publishRender(
  tenant: Tenant,
  renderId: string,
  opts: { override?: boolean; featured?: boolean; slot?: PublishOptions['slot']; /** As the colour image it was made from. */ asColour?: boolean } = {},
): Promise<Render> {
  const render = await getRender(tenant.id, renderId)
  if (opts.asColour && !platformFor(tenant).capabilities.colourImages) {
    throw new AppError('INVALID_INPUT', 'This store has no colour images to publish to.')
  }
  if (render.reviewState === 'published') return render
  if (!['approved', 'unpublished', 'publish_failed'].includes(render.reviewState) || !render.resultKey) {
    throw new AppError('INVALID_TRANSITION', 'Approve the render before publishing it')
  }
  if ((render.gatePassed === false || (render.fidelityScore ?? 0) < env().FIDELITY_THRESHOLD) && !opts.override) {
    throw new AppError(
      'INVALID_TRANSITION',
      `The product fidelity score (${Math.round(render.fidelityScore ?? 0)}) is below ${env().FIDELITY_THRESHOLD}: the product may look different from the original. Publish anyway only after checking it.`,
      { details: { needsOverride: true } },
    )
  }
  const look = resolveLook({ personaId: render.personaId, marketId: render.marketId, sceneId: render.sceneId })
  const alt = altText(render.productTitle, look, look.market.altTextLanguage)
  const platform = platformFor(tenant)
  const publication = await openPublication(tenant, render, alt)
  const checkpoint = {
    load: async () => (await db().query.publications.findFirst({ where: eq(publications.id, publication.id) }))?.steps ?? {},
    save: async (patch: Record<string, unknown>) => {
      await db()
        .update(publications)
        .set({ steps: sql`${publications.steps} || ${JSON.stringify(patch)}::jsonb` })
        .where(eq(publications.id, publication.id))
    },
  }
  try {
    const bytes = await imageStore().get(render.resultKey)
    const { externalId } = await platform.publishImage(render.productRef, bytes, alt, {
      idempotencyKey: render.id,
      filenameHint: `${render.productRef}-${render.sceneId}`,
      checkpoint,
      featured: opts.featured,
      productBox: productBoxOf(render) ?? undefined,
      slot: opts.asColour ? { colourOfImage: render.sourceImageRef } : opts.slot,
    })
    return await db().transaction(async (tx) => {
      await tx
        .update(publications)
        .set({ externalId, state: 'live', publishedAt: new Date() })
        .where(eq(publications.id, publication.id))
      const [row] = await tx
        .update(renders)
        .set({ reviewState: 'published', errorCode: null, errorMessage: null, updatedAt: new Date() })
        .where(and(eq(renders.id, render.id), eq(renders.tenantId, tenant.id)))
        .returning()
      return row
    })
  } catch (e) {
    await db().update(publications).set({ state: 'failed' }).where(eq(publications.id, publication.id))
    // why the render stays as it was: the platform asks the merchant a question (which slot), nothing failed.
    if (e instanceof AppError && CHOICES_ASKED.includes(e.code)) throw e
    await db()
      .update(renders)
      .set({ reviewState: 'publish_failed', errorCode: 'PUBLISH_FAILED', errorMessage: (e as Error).message, updatedAt: new Date() })
      .where(and(eq(renders.id, render.id), eq(renders.tenantId, tenant.id)))
    throw e instanceof AppError ? e : new AppError('PUBLISH_FAILED', 'Publishing to the store failed. Try again.', { cause: e, retryable: true })
  }
}

/** Refusals that ask the merchant to choose (Taobao's main image slots), answered by publishing again with the choice. */
const CHOICES_ASKED: readonly string[] = ['TAOBAO_SLOTS_FULL', 'TAOBAO_SLOT_TAKEN']

/** The render's one open (not undone) publication, created on first use. */
async function openPublication(tenant: Tenant, render: Render, alt: string) {
  await db()
    .insert(publications)
    .values({ tenantId: tenant.id, renderId: render.id, platform: tenant.platform, productRef: render.productRef, altText: alt })
    .onConflictDoNothing()
  const row = await db().query.publications.findFirst({
    where: and(eq(publications.renderId, render.id), eq(publications.tenantId, tenant.id), isNull(publications.undoneAt)),
  })
  if (!row) throw new AppError('INTERNAL', 'Could not record the publication')
  return row
}

/** Removes exactly the image we published; the merchant's originals stay. */
export async function undoPublish(tenant: Tenant, renderId: string): Promise<Render> {
  const render = await getRender(tenant.id, renderId)
  const open = await db().query.publications.findFirst({
    where: and(eq(publications.renderId, render.id), eq(publications.tenantId, tenant.id), isNull(publications.undoneAt)),
  })
  if (!open) {
    if (render.reviewState === 'unpublished') return render
    throw new AppError('INVALID_TRANSITION', 'This render is not published')
  }
  // why steps too: a publish that died after the platform created the image knows its id only there.
  const externalId = open.externalId ?? (typeof open.steps.externalId === 'string' ? open.steps.externalId : null)
  if (externalId) await platformFor(tenant).unpublishImage(open.productRef, externalId)
  return db().transaction(async (tx) => {
    await tx.update(publications).set({ undoneAt: new Date(), state: 'undone' }).where(eq(publications.id, open.id))
    const [row] = await tx
      .update(renders)
      .set({ reviewState: 'unpublished', updatedAt: new Date() })
      .where(and(eq(renders.id, render.id), eq(renders.tenantId, tenant.id)))
      .returning()
    return row
  })
}

export async function publicationsOf(tenantId: string, renderId: string) {
  return db()
    .select()
    .from(publications)
    .where(and(eq(publications.tenantId, tenantId), eq(publications.renderId, renderId)))
    .orderBy(desc(publications.publishedAt))
}

export { priorities }

/**
 * Cancels a tenant's renders that have not finished (uninstall, product
 * deleted, shop redacted, a bulk run canceled). A running render's worker finds the row canceled
 * and its result is discarded: the final update only applies to 'running'.
 */
export async function cancelOpenRenders(tenantId: string, opts: { productRef?: string; batchId?: string } = {}): Promise<number> {
  const where = [eq(renders.tenantId, tenantId), inArray(renders.status, ['queued', 'retrying', 'running'])]
  if (opts.productRef) where.push(eq(renders.productRef, opts.productRef))
  if (opts.batchId) where.push(eq(renders.batchId, opts.batchId))
  const canceled = await db()
    .update(renders)
    .set({ status: 'canceled', finishedAt: new Date(), updatedAt: new Date(), progressMessage: null })
    .where(and(...where))
    .returning({ id: renders.id })
  for (const { id } of canceled) await removeRenderJob(id)
  return canceled.length
}

/**
 * Takes a render that has not started out of the queue and deletes it, in
 * one transaction with what `alongside` records (a bulk item going back to
 * pending); false when it has been dispatched or has ended, and then nothing
 * changes. why delete, not cancel: nothing was made or charged, and the item
 * gets a new render when its run resumes; a canceled one would linger in the
 * product's history.
 */
export async function withdrawRender(tenantId: string, renderId: string, alongside: (tx: Tx) => Promise<void>): Promise<boolean> {
  if (!(await withdrawScheduled(renderId))) return false
  return db()
    .transaction(async (tx) => {
      await alongside(tx)
      const gone = await tx
        .delete(renders)
        .where(and(eq(renders.id, renderId), eq(renders.tenantId, tenantId), inArray(renders.status, ['queued', 'retrying'])))
        .returning({ id: renders.id })
      if (gone.length === 0) throw new NotWithdrawn()
      return true
    })
    .catch((e: unknown) => {
      if (e instanceof NotWithdrawn) return false
      throw e
    })
}

class NotWithdrawn extends Error {}
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

/** Marks renders whose source image is no longer on the listing. */
export async function markSourcesMissing(tenantId: string, productRef: string, presentImageIds: string[]): Promise<number> {
  const rows = await db()
    .select({ id: renders.id, source: renders.sourceImageRef })
    .from(renders)
    .where(and(eq(renders.tenantId, tenantId), eq(renders.productRef, productRef), isNull(renders.sourceMissingAt)))
  const gone = rows.filter((r) => !presentImageIds.includes(r.source)).map((r) => r.id)
  if (gone.length === 0) return 0
  await db().update(renders).set({ sourceMissingAt: new Date(), updatedAt: new Date() }).where(inArray(renders.id, gone))
  return gone.length
}
