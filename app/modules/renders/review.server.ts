// The review queue: finished renders waiting for the merchant's decision,
// across products and bulk runs, and decisions taken on many at once.
import { and, count, desc, eq, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm'
import { z } from 'zod'
import { db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { AppError, notFound } from '#app/lib/errors.ts'
import { bulkRuns, renders, type Render, type Tenant } from '#db/schema.ts'
import { approveRender, publishRender, rejectRender } from './service.server.ts'

/** Awaiting a decision, or approved and not (or no longer) on the listing. */
const STATES = { pending: ['pending'], approved: ['approved', 'unpublished', 'publish_failed'] } as const

export const reviewFilterSchema = z.object({
  state: z.enum(['pending', 'approved']).catch('pending'),
  product: z.string().max(200).optional(),
  /** A look without its market: `<sceneId>` or `<sceneId>~<personaId>`. */
  look: z.string().max(200).optional(),
  market: z.string().max(100).optional(),
  verdict: z.enum(['unchanged', 'attention']).optional().catch(undefined),
  run: z.uuid().optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1000).catch(1),
})
export type ReviewFilter = z.infer<typeof reviewFilterSchema>

/** Renders per page of the queue: a screenful of thumbnails, and the most one decision publishes at once. */
export const REVIEW_PAGE = 48

export function lookKey(r: Pick<Render, 'sceneId' | 'personaId'>): string {
  return r.personaId ? `${r.sceneId}~${r.personaId}` : r.sceneId
}

/** Below the threshold, or a gate that did not pass: the merchant should look before it goes live. */
function needsAttention(threshold: number): SQL {
  return or(isNull(renders.fidelityScore), lt(renders.fidelityScore, threshold), eq(renders.gatePassed, false)) as SQL
}

function baseWhere(tenantId: string, state: ReviewFilter['state']): SQL[] {
  return [eq(renders.tenantId, tenantId), eq(renders.status, 'succeeded'), inArray(renders.reviewState, [...STATES[state]])]
}

function filterWhere(f: ReviewFilter): SQL[] {
  const where: SQL[] = []
  if (f.product) where.push(eq(renders.productRef, f.product))
  if (f.market) where.push(eq(renders.marketId, f.market))
  if (f.run) where.push(eq(renders.batchId, f.run))
  if (f.look) {
    const [scene, persona] = f.look.split('~')
    where.push(eq(renders.sceneId, scene), persona ? eq(renders.personaId, persona) : isNull(renders.personaId))
  }
  if (f.verdict) {
    const attention = needsAttention(env().FIDELITY_THRESHOLD)
    where.push(f.verdict === 'attention' ? attention : (sql`not (${attention})` as SQL))
  }
  return where
}

export interface ReviewFacets {
  products: { id: string; title: string; count: number }[]
  looks: { key: string; sceneId: string; personaId: string | null; count: number }[]
  markets: { id: string; count: number }[]
  /** Bulk runs with renders in the queue, and when each was created (ISO). */
  runs: { id: string; count: number; createdAt: string }[]
}

/** One page of the queue, the number matching the filter, and what each filter can pick (over the whole state). */
export async function reviewQueue(
  tenantId: string,
  f: ReviewFilter,
): Promise<{ renders: Render[]; total: number; facets: ReviewFacets }> {
  const where = and(...baseWhere(tenantId, f.state), ...filterWhere(f))
  const [rows, [{ n }], facets] = await Promise.all([
    db()
      .select()
      .from(renders)
      .where(where)
      .orderBy(desc(renders.finishedAt), desc(renders.id))
      .limit(REVIEW_PAGE)
      .offset((f.page - 1) * REVIEW_PAGE),
    db().select({ n: count() }).from(renders).where(where),
    reviewFacets(tenantId, f.state),
  ])
  return { renders: rows, total: n, facets }
}

async function reviewFacets(tenantId: string, state: ReviewFilter['state']): Promise<ReviewFacets> {
  const rows = await db()
    .select({
      productRef: renders.productRef,
      productTitle: sql<string>`max(${renders.productTitle})`,
      sceneId: renders.sceneId,
      personaId: renders.personaId,
      marketId: renders.marketId,
      batchId: renders.batchId,
      n: count(),
    })
    .from(renders)
    .where(and(...baseWhere(tenantId, state)))
    .groupBy(renders.productRef, renders.sceneId, renders.personaId, renders.marketId, renders.batchId)
  const tally = <K extends string, V>(
    key: (r: (typeof rows)[number]) => K | null,
    make: (r: (typeof rows)[number], n: number) => V,
  ) => {
    const seen = new Map<K, { row: (typeof rows)[number]; n: number }>()
    for (const r of rows) {
      const k = key(r)
      if (k === null) continue
      const at = seen.get(k)
      seen.set(k, { row: at?.row ?? r, n: (at?.n ?? 0) + r.n })
    }
    return [...seen.values()].map(({ row, n }) => make(row, n))
  }
  return {
    products: tally(
      (r) => r.productRef,
      (r, n) => ({ id: r.productRef, title: r.productTitle, count: n }),
    ).sort((a, b) => a.title.localeCompare(b.title)),
    looks: tally(lookKey, (r, n) => ({ key: lookKey(r), sceneId: r.sceneId, personaId: r.personaId, count: n })),
    markets: tally(
      (r) => r.marketId,
      (r, n) => ({ id: r.marketId, count: n }),
    ),
    runs: await runsOf(
      tenantId,
      tally(
        (r) => r.batchId,
        (r, n) => ({ id: r.batchId!, count: n }),
      ),
    ),
  }
}

async function runsOf(tenantId: string, runs: { id: string; count: number }[]): Promise<ReviewFacets['runs']> {
  if (runs.length === 0) return []
  const rows = await db()
    .select({ id: bulkRuns.id, createdAt: bulkRuns.createdAt })
    .from(bulkRuns)
    .where(
      and(
        eq(bulkRuns.tenantId, tenantId),
        inArray(
          bulkRuns.id,
          runs.map((r) => r.id),
        ),
      ),
    )
  const created = new Map(rows.map((r) => [r.id, r.createdAt]))
  // why only runs that exist: a render keeps its batch id after its run was deleted.
  return runs
    .filter((r) => created.has(r.id))
    .map((r) => ({ ...r, createdAt: created.get(r.id)!.toISOString() }))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
}

/** Renders awaiting review per product (for the product list), and how many finished at all. */
export async function reviewCountsByProduct(
  tenantId: string,
  productRefs: string[],
): Promise<Record<string, { finished: number; toReview: number }>> {
  if (productRefs.length === 0) return {}
  const rows = await db()
    .select({
      productRef: renders.productRef,
      finished: count(),
      toReview: sql<number>`count(*) filter (where ${renders.reviewState} = 'pending')`.mapWith(Number),
    })
    .from(renders)
    .where(and(eq(renders.tenantId, tenantId), eq(renders.status, 'succeeded'), inArray(renders.productRef, productRefs)))
    .groupBy(renders.productRef)
  return Object.fromEntries(rows.map((r) => [r.productRef, { finished: r.finished, toReview: r.toReview }]))
}

export type ReviewDecision = 'approve' | 'publish' | 'reject'

export interface DecisionOutcome {
  done: string[]
  /** Approved but left off the listing: below the fidelity threshold, and the merchant did not say "anyway". */
  needsOverride: string[]
  failed: { id: string; code: string; message: string }[]
}

/** Publishes at a time: a publish is several platform calls, and the shop's API budget is shared with everything else. */
const PUBLISH_CONCURRENCY = 3

/**
 * One decision over many renders. Every id must be the tenant's, or nothing
 * changes (404). Each render then succeeds or fails on its own: one that
 * cannot take the decision (already published, say) does not stop the rest.
 */
export async function decideMany(
  tenant: Tenant,
  ids: string[],
  decision: ReviewDecision,
  opts: { override?: boolean } = {},
): Promise<DecisionOutcome> {
  const unique = [...new Set(ids)]
  if (unique.length > REVIEW_PAGE) throw new AppError('INVALID_INPUT', `At most ${REVIEW_PAGE} renders at once.`)
  if (!unique.every((id) => z.uuid().safeParse(id).success)) throw notFound('Render')
  const owned = await db()
    .select({ id: renders.id, reviewState: renders.reviewState })
    .from(renders)
    .where(and(eq(renders.tenantId, tenant.id), inArray(renders.id, unique)))
  if (owned.length !== unique.length) throw notFound('Render')
  const outcome: DecisionOutcome = { done: [], needsOverride: [], failed: [] }
  const state = new Map(owned.map((r) => [r.id, r.reviewState]))
  const one = async (id: string) => {
    try {
      if (decision === 'reject') await rejectRender(tenant.id, id)
      else if (decision === 'approve' || state.get(id) === 'pending') await approveRender(tenant.id, id)
      if (decision === 'publish') await publishRender(tenant, id, { override: opts.override })
      outcome.done.push(id)
    } catch (e) {
      if (e instanceof AppError && e.details?.needsOverride === true) outcome.needsOverride.push(id)
      else outcome.failed.push({ id, code: e instanceof AppError ? e.code : 'INTERNAL', message: (e as Error).message })
    }
  }
  const queue = [...unique]
  const lanes = decision === 'publish' ? PUBLISH_CONCURRENCY : 8
  await Promise.all(
    Array.from({ length: Math.min(lanes, queue.length) }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) await one(id)
    }),
  )
  return outcome
}

/** Renders awaiting a decision, for the navigation's "Review (n)". */
export async function toReviewCount(tenantId: string): Promise<number> {
  const [{ n }] = await db()
    .select({ n: count() })
    .from(renders)
    .where(and(...baseWhere(tenantId, 'pending')))
  return n
}

/** A bulk run's newest finished renders (any decision), how many it finished, and how many still wait for review. */
export async function runResults(
  tenantId: string,
  runId: string,
  limit: number,
): Promise<{ renders: Render[]; finished: number; toReview: number }> {
  const where = and(eq(renders.tenantId, tenantId), eq(renders.batchId, runId), eq(renders.status, 'succeeded'))
  const [rows, [counts]] = await Promise.all([
    db().select().from(renders).where(where).orderBy(desc(renders.finishedAt), desc(renders.id)).limit(limit),
    db()
      .select({
        finished: count(),
        toReview: sql<number>`count(*) filter (where ${renders.reviewState} = 'pending')`.mapWith(Number),
      })
      .from(renders)
      .where(where),
  ])
  return { renders: rows, ...counts }
}
