import { createHash } from 'node:crypto'
import { and, asc, count, countDistinct, desc, eq, gt, inArray, isNull, like, sql } from 'drizzle-orm'
import { z } from 'zod'
import { db, type Db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { AppError, isAppError, notFound } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { pickBackendFor } from '#app/modules/backends/pool.server.ts'
import { assertCanRender, billingFor } from '#app/modules/billing/service.server.ts'
import { resolveLook } from '#app/modules/looks/index.ts'
import type { Operation } from '#app/modules/looks/schema.ts'
import { platformFor, publishedMediaIds } from '#app/modules/platforms/index.server.ts'
import type { CatalogImage } from '#app/modules/platforms/types.ts'
import { cancelOpenRenders, createRenders, withdrawRender } from '#app/modules/renders/service.server.ts'
import {
  bulkRunItems,
  bulkRuns,
  renders,
  tenants,
  usageLedger,
  type BulkEstimate,
  type BulkLook,
  type BulkRun,
  type BulkRunItem,
  type BulkSelection,
  type Tenant,
} from '#db/schema.ts'
import { CSV_BOM, csvLine } from './csv.ts'
import { armRun, disarmRun } from './queue.server.ts'
import { imagesPerProduct, lookLabel, startBulkRunSchema, type StartBulkRunInput } from './schema.ts'

// "Regenerate all listings". A run is a selection of products × looks × which
// images; its items (product × image × look) are the unit of work. Everything
// is in Postgres, so any process can advance any run and a crash loses
// nothing:
//
//   estimating ──► awaiting_confirmation ──► running ⇄ paused ──► completed
//        │                  │                   │                    │
//        └──► failed        └──────► canceled ◄─┘        retry failed┘ (back to running)
//
// Advancing a run (advanceBulkRun) takes the run row with FOR NO KEY UPDATE
// SKIP LOCKED, so one process at a time works on it and others move on. It
// reads the catalog into items, or reconciles items with their renders and
// feeds pending items to createRenders while fewer than max_in_flight of the
// run's renders are queued or running (admission control).

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

const OPEN = ['estimating', 'awaiting_confirmation', 'running', 'paused'] as const
/** Runs whose items still change on their own. */
const LIVE = ['estimating', 'running', 'paused'] as const
const ACTIVE_RENDER = ['queued', 'running', 'retrying'] as const
/**
 * Backend time per render when neither this shop nor the deployment has
 * finished one yet: a GPU diffusion render at our output size, with its
 * fidelity check, is typically 10–30 s; the CPU studio is faster. The
 * estimate says so; the progress ETA switches to the observed rate once
 * renders finish.
 */
export const DEFAULT_RENDER_MS = 20_000
/** Items handed to createRenders per pass: bounds how long a pass holds the run. */
const FEED_BATCH = 50
/** createRenders in parallel within a pass (each reads and normalises a source image). */
const CREATE_CONCURRENCY = 3
/** Catalog images looked at together (one "is it ours" query each). */
const CANDIDATE_BATCH = 1000
/** Item rows per INSERT (as four array parameters). */
const INSERT_CHUNK = 5000
const RATE_WINDOW_S = 600
const CSV_PAGE = 500

export type Outcome = 'busy' | 'gone' | 'idle' | 'reading' | 'estimated' | 'fed' | 'completed' | 'failed' | 'canceled' | 'retry'

export interface Advance {
  outcome: Outcome
  /** Whether the run still needs passes (its scheduler stays armed). */
  ticking: boolean
}

export interface BulkCounts {
  total: number
  pending: number
  queued: number
  succeeded: number
  failed: number
  canceled: number
}

export interface BulkProgress extends BulkCounts {
  /** Seconds until the remaining items finish, from the observed rate (or the estimate before any finished). */
  etaSeconds: number | null
  etaFrom: 'observed' | 'estimate' | null
  /** Renders of this run finished per minute, over the last 10 minutes. */
  perMinute: number | null
}

// ---------------------------------------------------------------------------
// Starting a run

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** The same selection, looks and images always hash the same (ids sorted, duplicate looks dropped). */
function normalise(input: z.output<typeof startBulkRunSchema>) {
  const selection: BulkSelection =
    input.selection.kind === 'products'
      ? { kind: 'products', productIds: [...new Set(input.selection.productIds)].sort() }
      : input.selection
  const seen = new Set<string>()
  const looks: BulkLook[] = []
  for (const l of input.looks) {
    const look = { operation: l.operation, marketId: l.marketId, sceneId: l.sceneId, personaId: l.personaId }
    const key = JSON.stringify(look)
    if (!seen.has(key)) looks.push(look)
    seen.add(key)
  }
  return { selection, looks, images: input.images }
}

/**
 * Records a run and starts reading the catalog. Idempotent: the same
 * selection, looks and images while such a run is still open returns that run.
 * Looks are checked now (unknown look, a persona with no GPU backend) so a
 * mistake fails here, not on every item.
 */
export async function startBulkRun(tenant: Tenant, raw: StartBulkRunInput): Promise<{ run: BulkRun; created: boolean }> {
  const parsed = startBulkRunSchema.parse(raw)
  const { selection, looks, images } = normalise(parsed)
  for (const look of looks) {
    resolveLook({ personaId: look.personaId, marketId: look.marketId, sceneId: look.sceneId })
    await pickBackendFor(tenant.id, look.operation as Operation, look.personaId !== null)
  }
  if (!platformFor(tenant).catalogSelections.has(selection.kind)) {
    throw new AppError('INVALID_INPUT', 'This catalog has no collections: choose all products, a search or products')
  }
  const base = sha256(JSON.stringify({ selection, looks, images }))
  const result = await db().transaction(async (tx) => {
    // why a lock on the key: two clicks at once must find one run, not make two.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`${tenant.id}:${base}`}, 0))`)
    const open = await tx.query.bulkRuns.findFirst({
      where: and(
        eq(bulkRuns.tenantId, tenant.id),
        like(bulkRuns.idempotencyKey, `${base}:%`),
        inArray(bulkRuns.status, [...OPEN]),
      ),
    })
    if (open) return { run: await applyBound(tx, open, parsed.maxInFlight), created: false }
    // why a generation suffix: the unique key allows the same run again once the previous one closed.
    const [{ n }] = await tx
      .select({ n: count() })
      .from(bulkRuns)
      .where(and(eq(bulkRuns.tenantId, tenant.id), like(bulkRuns.idempotencyKey, `${base}:%`)))
    const [run] = await tx
      .insert(bulkRuns)
      .values({
        tenantId: tenant.id,
        idempotencyKey: `${base}:${n + 1}`,
        status: 'estimating',
        selection,
        looks,
        images,
        maxInFlight: parsed.maxInFlight ?? env().BULK_MAX_IN_FLIGHT,
      })
      .returning()
    return { run, created: true }
  })
  if (result.created) await armRun(result.run.id)
  return result
}

/**
 * The open run a repeated start returns takes the bound that start asked for
 * (the merchant went back and changed it), with the estimate's wall time to match.
 */
async function applyBound(tx: Tx, run: BulkRun, maxInFlight: number | undefined): Promise<BulkRun> {
  if (maxInFlight === undefined || maxInFlight === run.maxInFlight) return run
  const estimate = run.estimate && { ...run.estimate, wallSeconds: wallSeconds(run.estimate, maxInFlight) }
  const [row] = await tx
    .update(bulkRuns)
    .set({ maxInFlight, estimate, updatedAt: new Date() })
    .where(eq(bulkRuns.id, run.id))
    .returning()
  return row
}

/** Wall-clock seconds for the estimate's renders, at most `maxInFlight` of them at once. */
function wallSeconds(e: Pick<BulkEstimate, 'renders' | 'backendSeconds'>, maxInFlight: number): number {
  // why the in-flight bound: at most that many of this run's renders run at once, however many GPUs there are.
  const parallel = Math.max(1, Math.min(maxInFlight, e.renders))
  return Math.round(e.backendSeconds / parallel)
}

export async function getBulkRun(tenantId: string, runId: string): Promise<BulkRun> {
  if (!z.uuid().safeParse(runId).success) throw notFound('Bulk run')
  const run = await db().query.bulkRuns.findFirst({ where: and(eq(bulkRuns.id, runId), eq(bulkRuns.tenantId, tenantId)) })
  if (!run) throw notFound('Bulk run')
  return run
}

export async function listBulkRuns(tenantId: string, limit = 50): Promise<(BulkRun & { progress: BulkProgress })[]> {
  const runs = await db()
    .select()
    .from(bulkRuns)
    .where(eq(bulkRuns.tenantId, tenantId))
    .orderBy(desc(bulkRuns.createdAt))
    .limit(Math.min(limit, 200))
  // why the row's counters for settled runs: a list refreshed every few seconds
  // should count items only for runs that are still moving.
  return Promise.all(
    runs.map(async (run) => {
      if ((LIVE as readonly string[]).includes(run.status)) return { ...run, progress: await bulkRunProgress(run) }
      const settledCounts: BulkCounts = {
        total: run.total,
        pending: run.status === 'awaiting_confirmation' ? run.total : 0,
        queued: 0,
        succeeded: run.done,
        failed: run.failed,
        canceled: run.status === 'awaiting_confirmation' ? 0 : Math.max(0, run.total - run.done - run.failed),
      }
      return { ...run, progress: { ...settledCounts, etaSeconds: null, etaFrom: null, perMinute: null } }
    }),
  )
}

// ---------------------------------------------------------------------------
// Merchant actions

async function transition(
  tenantId: string,
  runId: string,
  from: BulkRun['status'][],
  set: Partial<typeof bulkRuns.$inferInsert>,
): Promise<BulkRun | undefined> {
  const [row] = await db()
    .update(bulkRuns)
    .set({ ...set, updatedAt: new Date() })
    .where(and(eq(bulkRuns.id, runId), eq(bulkRuns.tenantId, tenantId), inArray(bulkRuns.status, from)))
    .returning()
  return row
}

function refused(run: BulkRun, action: string): AppError {
  return new AppError('INVALID_TRANSITION', `This bulk run is ${run.status.replace('_', ' ')}; it cannot ${action}`)
}

/** The merchant saw the estimate and starts the renders. */
export async function confirmBulkRun(tenant: Tenant, runId: string): Promise<BulkRun> {
  const run = await getBulkRun(tenant.id, runId)
  if (run.status === 'running') return run
  if (run.status !== 'awaiting_confirmation') throw refused(run, 'be started')
  if (run.total === 0) throw new AppError('INVALID_INPUT', 'No product images matched this selection: there is nothing to render')
  // why now: without a plan every item would be refused one by one.
  await assertCanRender(tenant, 1)
  const row = await transition(tenant.id, runId, ['awaiting_confirmation'], {
    status: 'running',
    startedAt: new Date(),
    errorMessage: null,
  })
  if (!row) return confirmBulkRun(tenant, runId)
  await armRun(row.id)
  return row
}

/**
 * Stops feeding, and takes the run's renders that have not started out of
 * the queue: their items are pending again and get new renders on resume.
 * Renders already running finish. Repeating it on a paused run withdraws
 * what an interrupted pause left.
 */
export async function pauseBulkRun(tenantId: string, runId: string): Promise<BulkRun> {
  const run = await getBulkRun(tenantId, runId)
  if (run.status !== 'paused' && !(await transition(tenantId, runId, ['running'], { status: 'paused' }))) {
    throw refused(await getBulkRun(tenantId, runId), 'be paused')
  }
  await withdrawWaiting(tenantId, runId)
  return settle(runId)
}

/** The run's items whose render has not started go back to pending, their renders out of the queue. */
async function withdrawWaiting(tenantId: string, runId: string): Promise<void> {
  const waiting = await db()
    .select({ renderId: renders.id })
    .from(bulkRunItems)
    .innerJoin(renders, eq(renders.id, bulkRunItems.renderId))
    .where(and(eq(bulkRunItems.runId, runId), eq(bulkRunItems.status, 'queued'), inArray(renders.status, ['queued', 'retrying'])))
  for (const { renderId } of waiting) {
    const back = (tx: Tx) =>
      tx
        .update(bulkRunItems)
        .set({ status: 'pending', renderId: null, updatedAt: new Date() })
        .where(and(eq(bulkRunItems.runId, runId), eq(bulkRunItems.renderId, renderId), eq(bulkRunItems.status, 'queued')))
        .then(() => undefined)
    // why one failure does not stop the rest: a render left in the queue just runs, as before pauses held.
    await withdrawRender(tenantId, renderId, back).catch((e: unknown) => {
      logger().warn({ err: e, runId, renderId }, 'bulk pause: a waiting render could not be withdrawn; it will run')
    })
  }
}

export async function resumeBulkRun(tenant: Tenant, runId: string): Promise<BulkRun> {
  const run = await getBulkRun(tenant.id, runId)
  if (run.status === 'running') return run
  if (run.status !== 'paused') throw refused(run, 'be resumed')
  await assertCanRender(tenant, 1)
  const row = await transition(tenant.id, runId, ['paused'], { status: 'running', errorMessage: null })
  if (!row) throw refused(await getBulkRun(tenant.id, runId), 'be resumed')
  await armRun(row.id)
  return row
}

/**
 * Cancels the run: pending items are canceled, the run's open renders are
 * canceled through the renders module (queued ones leave the queue; a running
 * one's result is discarded), finished items keep their results.
 */
export async function cancelBulkRun(tenantId: string, runId: string): Promise<BulkRun> {
  await getBulkRun(tenantId, runId)
  await db().transaction(async (tx) => {
    // why wait for the lock (no SKIP LOCKED): a pass that is creating renders
    // finishes first, so none of its renders escapes the cancel below.
    const [run] = await tx
      .select()
      .from(bulkRuns)
      .where(and(eq(bulkRuns.id, runId), eq(bulkRuns.tenantId, tenantId)))
      .for('no key update')
    if (run.status === 'canceled') return
    if (!(OPEN as readonly string[]).includes(run.status)) throw refused(run, 'be canceled')
    await tx
      .update(bulkRunItems)
      .set({ status: 'canceled', errorCode: 'RENDER_CANCELED', updatedAt: new Date() })
      .where(and(eq(bulkRunItems.runId, runId), eq(bulkRunItems.status, 'pending')))
    await tx
      .update(bulkRuns)
      .set({ status: 'canceled', finishedAt: new Date(), updatedAt: new Date() })
      .where(eq(bulkRuns.id, runId))
  })
  await cancelOpenRenders(tenantId, { batchId: runId })
  const settled = await settle(runId)
  await disarmRun(runId).catch(() => {})
  return settled
}

/** New renders (new seeds: the seed follows the attempt) for the run's failed items. */
export async function retryFailedItems(tenant: Tenant, runId: string): Promise<{ run: BulkRun; retried: number }> {
  await getBulkRun(tenant.id, runId)
  await assertCanRender(tenant, 1)
  const result = await db().transaction(async (tx) => {
    const [run] = await tx
      .select()
      .from(bulkRuns)
      .where(and(eq(bulkRuns.id, runId), eq(bulkRuns.tenantId, tenant.id)))
      .for('no key update')
    if (!['running', 'paused', 'completed', 'failed'].includes(run.status) || run.total === 0)
      throw refused(run, 'retry its failed items')
    const retried = await tx
      .update(bulkRunItems)
      .set({ status: 'pending', renderId: null, errorCode: null, errorMessage: null, updatedAt: new Date() })
      .where(and(eq(bulkRunItems.runId, runId), eq(bulkRunItems.status, 'failed')))
      .returning({ id: bulkRunItems.id })
    if (retried.length > 0 && (run.status === 'completed' || run.status === 'failed')) {
      await tx
        .update(bulkRuns)
        .set({
          status: 'running',
          finishedAt: null,
          errorMessage: null,
          startedAt: run.startedAt ?? new Date(),
          updatedAt: new Date(),
        })
        .where(eq(bulkRuns.id, runId))
    }
    await refreshCounts(tx, run)
    return { retried: retried.length }
  })
  if (result.retried > 0) await armRun(runId)
  return { run: await getBulkRun(tenant.id, runId), retried: result.retried }
}

/** Reconciles and recounts a run, waiting for its lock (after a cancel). */
async function settle(runId: string): Promise<BulkRun> {
  return db().transaction(async (tx) => {
    const [run] = await tx.select().from(bulkRuns).where(eq(bulkRuns.id, runId)).for('no key update')
    await reconcile(tx, run)
    await refreshCounts(tx, run)
    const [row] = await tx.select().from(bulkRuns).where(eq(bulkRuns.id, runId))
    return row
  })
}

// ---------------------------------------------------------------------------
// Advancing a run (the feeder)

export interface AdvanceOptions {
  /** Test hook: called after an item's render exists and before the item records it (where a crash hurts most). */
  onRenderCreated?: (item: BulkRunItem, renderId: string) => void
}

/**
 * Open runs that need passes but were not advanced for a while: their
 * scheduler is gone (Redis lost it, or it was never armed because Redis was
 * down). why only stale ones: a run advanced through another queue (another
 * deployment on this database) is fresh, and stays that queue's.
 */
export async function staleRuns(olderThanMs: number): Promise<string[]> {
  const rows = await db()
    .select({ id: bulkRuns.id })
    .from(bulkRuns)
    .where(
      and(
        sql`${bulkRuns.updatedAt} < now() - make_interval(secs => ${olderThanMs / 1000})`,
        sql`(${bulkRuns.status} in ('estimating', 'running') or (${bulkRuns.status} in ('paused', 'canceled') and exists (
          select 1 from ${bulkRunItems} where ${bulkRunItems.runId} = ${bulkRuns.id} and ${bulkRunItems.status} = 'queued')))`,
      ),
    )
    .orderBy(asc(bulkRuns.updatedAt))
    .limit(500)
  return rows.map((r) => r.id)
}

/**
 * One pass over a run, by whichever process gets its lock first (others get
 * 'busy' and move on). Safe to repeat and to kill at any point.
 */
export async function advanceBulkRun(runId: string, opts: AdvanceOptions = {}): Promise<Advance> {
  return db().transaction(async (tx): Promise<Advance> => {
    // why NO KEY UPDATE: it excludes other feeders and status changes, but not
    // the foreign-key checks of item rows inserted meanwhile by our own
    // catalog read on another connection (FOR UPDATE would block them: deadlock).
    const [run] = await tx.select().from(bulkRuns).where(eq(bulkRuns.id, runId)).for('no key update', { skipLocked: true })
    if (!run) {
      const exists = await tx.query.bulkRuns.findFirst({ where: eq(bulkRuns.id, runId) })
      return exists ? { outcome: 'busy', ticking: true } : { outcome: 'gone', ticking: false }
    }
    const tenant = await tx.query.tenants.findFirst({ where: eq(tenants.id, run.tenantId) })
    if (!tenant) return { outcome: 'gone', ticking: false }
    if (tenant.uninstalledAt && (OPEN as readonly string[]).includes(run.status)) {
      // why: uninstall canceled the shop's renders; the run must not make new ones.
      await tx
        .update(bulkRunItems)
        .set({ status: 'canceled', updatedAt: new Date() })
        .where(and(eq(bulkRunItems.runId, run.id), eq(bulkRunItems.status, 'pending')))
      await tx
        .update(bulkRuns)
        .set({ status: 'canceled', finishedAt: new Date(), updatedAt: new Date() })
        .where(eq(bulkRuns.id, run.id))
      await reconcile(tx, run)
      const after = await refreshCounts(tx, { ...run, status: 'canceled' })
      return { outcome: 'canceled', ticking: after.counts.queued > 0 }
    }
    switch (run.status) {
      case 'estimating': {
        const outcome = await readCatalog(tx, run, tenant)
        return { outcome, ticking: outcome === 'reading' || outcome === 'retry' }
      }
      case 'running': {
        await reconcile(tx, run)
        const fed = await feed(tx, run, tenant, opts)
        const after = await refreshCounts(tx, fed.paused ? { ...run, status: 'paused' } : run)
        if (after.status === 'completed') return { outcome: 'completed', ticking: false }
        return { outcome: 'fed', ticking: after.status === 'running' || after.counts.queued > 0 }
      }
      case 'paused':
      case 'canceled': {
        await reconcile(tx, run)
        const after = await refreshCounts(tx, run)
        return { outcome: 'idle', ticking: after.counts.queued > 0 }
      }
      default:
        return { outcome: 'idle', ticking: false }
    }
  })
}

/** Items whose render finished take its outcome. */
async function reconcile(tx: Tx, run: BulkRun): Promise<void> {
  await tx.execute(sql`
    update ${bulkRunItems} as i
    set status = (case r.status when 'succeeded' then 'succeeded' when 'failed' then 'failed' else 'canceled' end)::bulk_item_status,
        error_code = case when r.status = 'succeeded' then null else coalesce(r.error_code, case when r.status = 'canceled' then 'RENDER_CANCELED' end) end,
        error_message = case when r.status = 'succeeded' then null else r.error_message end,
        updated_at = now()
    from ${renders} as r
    where i.run_id = ${run.id} and i.status = 'queued' and r.id = i.render_id and r.tenant_id = ${run.tenantId}
      and r.status in ('succeeded', 'failed', 'canceled')`)
  // why: a render row can only vanish with its tenant or by hand; the item must not wait for it forever.
  await tx
    .update(bulkRunItems)
    .set({
      status: 'failed',
      errorCode: 'INTERNAL',
      errorMessage: 'The render of this item no longer exists',
      updatedAt: new Date(),
    })
    .where(and(eq(bulkRunItems.runId, run.id), eq(bulkRunItems.status, 'queued'), isNull(bulkRunItems.renderId)))
}

export async function itemCounts(exec: Db | Tx, runId: string): Promise<BulkCounts> {
  const rows = await exec
    .select({ status: bulkRunItems.status, n: count() })
    .from(bulkRunItems)
    .where(eq(bulkRunItems.runId, runId))
    .groupBy(bulkRunItems.status)
  const counts: BulkCounts = { total: 0, pending: 0, queued: 0, succeeded: 0, failed: 0, canceled: 0 }
  for (const r of rows) {
    counts[r.status] = r.n
    counts.total += r.n
  }
  return counts
}

/**
 * Writes the counters on the run row, and completes a running run with
 * nothing left. why always a write: updated_at says the run is being
 * advanced (the sweep leaves such runs alone).
 */
async function refreshCounts(tx: Tx, run: BulkRun): Promise<{ status: BulkRun['status']; counts: BulkCounts }> {
  const counts = await itemCounts(tx, run.id)
  const completed = run.status === 'running' && counts.pending === 0 && counts.queued === 0
  const status = completed ? 'completed' : run.status
  await tx
    .update(bulkRuns)
    .set({
      total: counts.total,
      done: counts.succeeded,
      failed: counts.failed,
      updatedAt: new Date(),
      ...(completed ? { status, finishedAt: new Date() } : {}),
    })
    .where(eq(bulkRuns.id, run.id))
  return { status, counts }
}

/**
 * The seed of an item's n-th attempt: a function of the run and the item, so
 * a feeder that dies after creating the render and is run again asks
 * createRenders for the same seed and gets the same render back (never a
 * second one); a retry of a failed item is a new attempt, hence a new seed.
 */
export function itemSeed(
  runId: string,
  item: Pick<BulkRunItem, 'productRef' | 'imageRef' | 'lookIndex'>,
  attempt: number,
): number {
  const digest = createHash('sha256')
    .update(`${runId}\u0000${item.productRef}\u0000${item.imageRef}\u0000${item.lookIndex}\u0000${attempt}`)
    .digest()
  return digest.readUInt32BE(0) & 0x7fffffff
}

const BILLING = ['BILLING_REQUIRED', 'BILLING_CAP_REACHED']

/** Tops the run up to max_in_flight open renders. */
async function feed(tx: Tx, run: BulkRun, tenant: Tenant, opts: AdvanceOptions): Promise<{ created: number; paused: boolean }> {
  // why count renders, not items: a render created by a feeder that died
  // before recording it on its item is in flight too (batch_id says whose).
  const [{ open }] = await tx
    .select({ open: count() })
    .from(renders)
    .where(and(eq(renders.tenantId, run.tenantId), eq(renders.batchId, run.id), inArray(renders.status, [...ACTIVE_RENDER])))
  const slots = Math.min(run.maxInFlight - open, FEED_BATCH)
  if (slots <= 0) return { created: 0, paused: false }
  const picked = await tx
    .select()
    .from(bulkRunItems)
    .where(and(eq(bulkRunItems.runId, run.id), eq(bulkRunItems.status, 'pending')))
    .orderBy(asc(bulkRunItems.updatedAt), asc(bulkRunItems.id))
    .limit(slots)
    .for('update', { skipLocked: true })
  // Renders are created in parallel (outside the transaction: each is its own
  // row, committed at once); what each item became is then written through
  // the transaction one statement at a time.
  type Started = { item: BulkRunItem } & ({ renderId: string } | { error: unknown })
  const started: Started[] = []
  let billing: AppError | undefined
  // why one at a time near the plan's cap: parallel creates are each checked
  // under the shop's cap lock, so some are refused at random and the first
  // refusal pauses the run; one at a time, every render that fits is made.
  const nearCap = await assertCanRender(tenant, picked.length).then(
    () => false,
    (e: unknown) => {
      if (isAppError(e) && BILLING.includes(e.code)) return true
      throw e
    },
  )
  await forEachLimited(picked, nearCap ? 1 : CREATE_CONCURRENCY, async (item) => {
    if (billing) return
    const look = run.looks[item.lookIndex]
    let renderId: string
    try {
      if (!look) throw new AppError('LOOK_UNKNOWN', `Look ${item.lookIndex} is not part of this run`)
      const [render] = await createRenders(tenant, {
        productId: item.productRef,
        imageId: item.imageRef,
        look: { personaId: look.personaId, marketId: look.marketId, sceneId: look.sceneId },
        operation: look.operation as Operation,
        seeds: [itemSeed(run.id, item, item.attempts)],
        priority: 'bulk',
        batchId: run.id,
      })
      renderId = render.id
    } catch (error) {
      if (isAppError(error) && BILLING.includes(error.code)) billing ??= error
      else started.push({ item, error })
      return
    }
    opts.onRenderCreated?.(item, renderId)
    started.push({ item, renderId })
  })
  let created = 0
  for (const s of started) {
    if ('renderId' in s) {
      await tx
        .update(bulkRunItems)
        .set({
          status: 'queued',
          renderId: s.renderId,
          attempts: s.item.attempts + 1,
          errorCode: null,
          errorMessage: null,
          updatedAt: new Date(),
        })
        .where(eq(bulkRunItems.id, s.item.id))
      created++
    } else if (isAppError(s.error) && !s.error.retryable) {
      await fail(tx, s.item, s.error)
    } else {
      // why not an attempt: nothing was rendered (Shopify or Redis busy, a
      // hiccup); the item goes to the back of the line with the same seed,
      // so a render that did get recorded is found again, never doubled.
      const e = s.error
      logger().warn(
        { runId: run.id, itemId: s.item.id, err: isAppError(e) ? e.message : e },
        'bulk item could not be started yet',
      )
      await tx
        .update(bulkRunItems)
        .set({
          errorCode: isAppError(e) ? e.code : 'INTERNAL',
          errorMessage: isAppError(e) ? e.message : 'Could not start the render yet; retrying',
          updatedAt: new Date(),
        })
        .where(eq(bulkRunItems.id, s.item.id))
    }
  }
  if (billing) {
    // why pause, not fail: the items are fine; the merchant raises the cap or picks a plan, then resumes.
    await tx
      .update(bulkRuns)
      .set({ status: 'paused', errorMessage: runError(billing), updatedAt: new Date() })
      .where(eq(bulkRuns.id, run.id))
    return { created, paused: true }
  }
  return { created, paused: false }
}

/** Why a run stopped, as `CODE: message` (the page translates the code and shows the message). */
function runError(e: unknown): string {
  return isAppError(e) ? `${e.code}: ${e.message}` : 'INTERNAL: Something went wrong on our side.'
}

/** The code and message of a run's stop reason (see runError). */
export function parseRunError(text: string | null): { code: string; message: string } | null {
  if (!text) return null
  const match = /^([A-Z_]+): ([\s\S]*)$/.exec(text)
  return match ? { code: match[1], message: match[2] } : { code: 'INTERNAL', message: text }
}

async function fail(tx: Tx, item: BulkRunItem, e: AppError): Promise<void> {
  await tx
    .update(bulkRunItems)
    .set({ status: 'failed', attempts: item.attempts + 1, errorCode: e.code, errorMessage: e.message, updatedAt: new Date() })
    .where(eq(bulkRunItems.id, item.id))
}

// ---------------------------------------------------------------------------
// Reading the catalog into items, then the estimate

async function readCatalog(tx: Tx, run: BulkRun, tenant: Tenant): Promise<Outcome> {
  const log = logger().child({ runId: run.id, tenantId: tenant.id })
  const selection = run.selection
  try {
    const missing: string[] = []
    const read = await platformFor(tenant).readCatalog(selection, {
      operation: run.sourceOperation,
      onMissing: (id) => missing.push(id),
    })
    if (read.state === 'started') {
      await tx.update(bulkRuns).set({ sourceOperation: read.operation, updatedAt: new Date() }).where(eq(bulkRuns.id, run.id))
      log.info({ operation: read.operation }, 'catalog read started')
      return 'reading'
    }
    if (read.state === 'running') {
      await tx.update(bulkRuns).set({ updatedAt: new Date() }).where(eq(bulkRuns.id, run.id))
      return 'reading'
    }
    await writeItems(run, read.images, { checkOurs: read.mayIncludeOurs, tenantId: tenant.id })
    if (missing.length > 0) log.info({ missing: missing.length }, 'selected products no longer exist; skipped')
  } catch (e) {
    if (isAppError(e) && e.retryable) {
      log.warn({ code: e.code, reason: e.message }, 'reading the catalog failed; will retry')
      await tx.update(bulkRuns).set({ updatedAt: new Date() }).where(eq(bulkRuns.id, run.id))
      return 'retry'
    }
    log.warn({ err: isAppError(e) ? e.message : e }, 'reading the catalog failed')
    await tx
      .update(bulkRuns)
      .set({ status: 'failed', errorMessage: runError(e), finishedAt: new Date(), updatedAt: new Date() })
      .where(eq(bulkRuns.id, run.id))
    return 'failed'
  }
  const estimate = await estimateRun(tx, run, tenant)
  await tx
    .update(bulkRuns)
    .set({ status: 'awaiting_confirmation', estimate, total: estimate.renders, updatedAt: new Date() })
    .where(eq(bulkRuns.id, run.id))
  log.info({ renders: estimate.renders }, 'catalog read; waiting for the merchant to confirm')
  return 'estimated'
}

/**
 * Turns catalog images into items (× looks) as they arrive, in batches, each
 * INSERT … ON CONFLICT DO NOTHING on the item's unique key: a read that is
 * repeated after a crash adds only what is missing. Memory stays flat: a
 * batch at a time, plus a count per product when only the first N images count.
 */
export async function writeItems(
  run: Pick<BulkRun, 'id' | 'tenantId' | 'looks' | 'images'>,
  source: AsyncIterable<CatalogImage>,
  opts: { checkOurs: boolean; tenantId?: string },
): Promise<{ images: number; items: number }> {
  const limit = imagesPerProduct(run.images)
  const taken = new Map<string, number>()
  let batch: CatalogImage[] = []
  let images = 0
  let items = 0
  const flush = async () => {
    const candidates = batch
    batch = []
    // why also here: a Shopify image whose publish died before our name stuck is ours by the publications table only.
    const ours = opts.checkOurs
      ? await publishedMediaIds(
          run.tenantId,
          candidates.map((c) => c.imageRef),
        )
      : new Set<string>()
    const rows = { productRef: [] as string[], productTitle: [] as string[], imageRef: [] as string[], lookIndex: [] as number[] }
    for (const c of candidates) {
      if (ours.has(c.imageRef)) continue
      if (limit !== null) {
        const n = taken.get(c.productRef) ?? 0
        if (n >= limit) continue
        taken.set(c.productRef, n + 1)
      }
      images++
      for (let lookIndex = 0; lookIndex < run.looks.length; lookIndex++) {
        rows.productRef.push(c.productRef)
        rows.productTitle.push(c.productTitle)
        rows.imageRef.push(c.imageRef)
        rows.lookIndex.push(lookIndex)
      }
    }
    for (let i = 0; i < rows.imageRef.length; i += INSERT_CHUNK) {
      const slice = <T>(a: T[]) => sql.param(a.slice(i, i + INSERT_CHUNK))
      // why unnest: one statement with four array parameters per chunk, not
      // thousands of bound values; the unique index makes a repeat a no-op.
      const result = await db().execute(sql`
        insert into ${bulkRunItems} (run_id, tenant_id, product_ref, product_title, image_ref, look_index)
        select ${run.id}, ${run.tenantId}, u.product_ref, u.product_title, u.image_ref, u.look_index
        from unnest(${slice(rows.productRef)}::text[], ${slice(rows.productTitle)}::text[], ${slice(rows.imageRef)}::text[], ${slice(rows.lookIndex)}::int[])
          as u(product_ref, product_title, image_ref, look_index)
        on conflict do nothing`)
      items += result.rowCount ?? 0
    }
  }
  for await (const image of source) {
    batch.push(image)
    if (batch.length >= CANDIDATE_BATCH) await flush()
  }
  if (batch.length > 0) await flush()
  return { images, items }
}

/** Average backend time of recent finished renders: the shop's, else the deployment's, else the default. */
export async function measuredRenderMs(tenantId: string): Promise<{ ms: number; from: 'shop' | 'deployment' | 'default' }> {
  const recent = async (scope: 'shop' | 'deployment', limit: number) => {
    const where = [eq(usageLedger.kind, 'render'), gt(usageLedger.backendMs, 0)]
    if (scope === 'shop') where.push(eq(usageLedger.tenantId, tenantId))
    const inner = db()
      .select({ ms: usageLedger.backendMs })
      .from(usageLedger)
      .where(and(...where))
      .orderBy(desc(usageLedger.createdAt))
      .limit(limit)
      .as('recent')
    const [row] = await db()
      .select({ avg: sql<number | null>`avg(${inner.ms})::float8`, n: count() })
      .from(inner)
    return row.n > 0 && row.avg ? Math.round(row.avg) : null
  }
  const shop = await recent('shop', 200)
  if (shop) return { ms: shop, from: 'shop' }
  // why a number only: another shop's timings say how fast the GPUs are, nothing else leaves the database.
  const deployment = await recent('deployment', 500)
  if (deployment) return { ms: deployment, from: 'deployment' }
  return { ms: DEFAULT_RENDER_MS, from: 'default' }
}

async function estimateRun(tx: Tx, run: BulkRun, tenant: Tenant): Promise<BulkEstimate> {
  const [c] = await tx
    .select({
      renders: count(),
      products: countDistinct(bulkRunItems.productRef),
      images: sql<number>`count(distinct (${bulkRunItems.productRef}, ${bulkRunItems.imageRef}))::int`,
    })
    .from(bulkRunItems)
    .where(eq(bulkRunItems.runId, run.id))
  // why kept with the estimate: the page says what it was measured from, which later renders must not change.
  const { ms, from } = await measuredRenderMs(tenant.id)
  // why it can be 0: local (and not yet billed) catalogs render for free.
  const price = await billingFor(tenant).pricePerRender()
  const backendSeconds = Math.round((c.renders * ms) / 1000)
  return {
    products: c.products,
    images: c.images,
    renders: c.renders,
    backendSeconds,
    renderMs: ms,
    timingFrom: from,
    wallSeconds: wallSeconds({ renders: c.renders, backendSeconds }, run.maxInFlight),
    cost: Math.round(c.renders * price.amount * 100) / 100,
    currency: price.currency,
  }
}

// ---------------------------------------------------------------------------
// Progress and report

export async function bulkRunProgress(run: BulkRun): Promise<BulkProgress> {
  const c = await itemCounts(db(), run.id)
  const remaining = c.pending + c.queued
  const base = { ...c, etaSeconds: null, etaFrom: null, perMinute: null }
  if (run.status !== 'running' || remaining === 0) return base
  const [{ finished }] = await db()
    .select({ finished: count() })
    .from(renders)
    .where(
      and(
        eq(renders.tenantId, run.tenantId),
        eq(renders.batchId, run.id),
        inArray(renders.status, ['succeeded', 'failed']),
        sql`${renders.finishedAt} > now() - make_interval(secs => ${RATE_WINDOW_S})`,
      ),
    )
  const elapsed = Math.min(RATE_WINDOW_S, (Date.now() - (run.startedAt ?? run.createdAt).getTime()) / 1000)
  if (finished > 0 && elapsed >= 1) {
    const perSecond = finished / elapsed
    return {
      ...base,
      etaSeconds: Math.round(remaining / perSecond),
      etaFrom: 'observed',
      perMinute: Math.round(perSecond * 600) / 10,
    }
  }
  const e = run.estimate
  const msPerRender = e?.renderMs ?? (e && e.renders > 0 ? (e.backendSeconds * 1000) / e.renders : DEFAULT_RENDER_MS)
  const parallel = Math.max(1, Math.min(run.maxInFlight, remaining))
  return { ...base, etaSeconds: Math.round((remaining * msPerRender) / parallel / 1000), etaFrom: 'estimate' }
}

export async function failedItems(tenantId: string, runId: string, limit = 20) {
  return db()
    .select({
      productRef: bulkRunItems.productRef,
      productTitle: bulkRunItems.productTitle,
      imageRef: bulkRunItems.imageRef,
      lookIndex: bulkRunItems.lookIndex,
      renderId: bulkRunItems.renderId,
      errorCode: bulkRunItems.errorCode,
      errorMessage: bulkRunItems.errorMessage,
    })
    .from(bulkRunItems)
    .where(and(eq(bulkRunItems.runId, runId), eq(bulkRunItems.tenantId, tenantId), eq(bulkRunItems.status, 'failed')))
    .orderBy(asc(bulkRunItems.productRef), asc(bulkRunItems.imageRef), asc(bulkRunItems.lookIndex))
    .limit(limit)
}

export const REPORT_COLUMNS = [
  'product_id',
  'product_title',
  'image_id',
  'look',
  'status',
  'render_id',
  'fidelity_score',
  'error_code',
  'error',
] as const

/**
 * The run's report as CSV, read a page at a time in item order while the
 * response is being sent (a run can have tens of thousands of items).
 */
export function bulkRunReport(tenantId: string, run: BulkRun): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  let after: { productRef: string; imageRef: string; lookIndex: number } | null = null
  let headerSent = false
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true
        controller.enqueue(encoder.encode(CSV_BOM + csvLine([...REPORT_COLUMNS])))
        return
      }
      const where = [eq(bulkRunItems.runId, run.id), eq(bulkRunItems.tenantId, tenantId)]
      if (after)
        where.push(
          sql`(${bulkRunItems.productRef}, ${bulkRunItems.imageRef}, ${bulkRunItems.lookIndex}) > (${after.productRef}, ${after.imageRef}, ${after.lookIndex})`,
        )
      const rows = await db()
        .select({
          productRef: bulkRunItems.productRef,
          productTitle: bulkRunItems.productTitle,
          imageRef: bulkRunItems.imageRef,
          lookIndex: bulkRunItems.lookIndex,
          status: bulkRunItems.status,
          renderId: bulkRunItems.renderId,
          fidelityScore: renders.fidelityScore,
          errorCode: bulkRunItems.errorCode,
          errorMessage: bulkRunItems.errorMessage,
        })
        .from(bulkRunItems)
        .leftJoin(renders, and(eq(renders.id, bulkRunItems.renderId), eq(renders.tenantId, tenantId)))
        .where(and(...where))
        .orderBy(asc(bulkRunItems.productRef), asc(bulkRunItems.imageRef), asc(bulkRunItems.lookIndex))
        .limit(CSV_PAGE)
      if (rows.length === 0) {
        controller.close()
        return
      }
      const text = rows
        .map((r) =>
          csvLine([
            r.productRef,
            r.productTitle,
            r.imageRef,
            run.looks[r.lookIndex] ? lookLabel(run.looks[r.lookIndex]) : String(r.lookIndex),
            r.status,
            r.renderId,
            r.fidelityScore === null ? null : Math.round(r.fidelityScore * 10) / 10,
            r.errorCode,
            r.errorMessage,
          ]),
        )
        .join('')
      controller.enqueue(encoder.encode(text))
      const last = rows[rows.length - 1]
      after = { productRef: last.productRef, imageRef: last.imageRef, lookIndex: last.lookIndex }
    },
  })
}

// ---------------------------------------------------------------------------
// The platform's notice (Shopify's bulk_operations/finish webhook)

/**
 * The platform says a catalog read (`operationId`, as readCatalog started it)
 * is done or failed. Only nudges the run: reading the result is the worker's
 * job, and the poll would find it anyway, whichever comes first; the run's
 * lock and status make the second one a no-op.
 */
export async function catalogReadFinished(tenantId: string, operationId: string): Promise<string | null> {
  const run = await db().query.bulkRuns.findFirst({
    where: and(eq(bulkRuns.tenantId, tenantId), eq(bulkRuns.sourceOperation, operationId), eq(bulkRuns.status, 'estimating')),
  })
  if (!run) return null
  await armRun(run.id)
  return run.id
}

// ---------------------------------------------------------------------------

/**
 * Runs `work` over `items`, at most `limit` at once. On the first error no
 * new work starts, the started ones settle, then the error is thrown.
 */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failure: { error: unknown } | undefined
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failure && next < items.length) {
      const item = items[next++]
      try {
        await work(item)
      } catch (error) {
        failure ??= { error }
      }
    }
  })
  await Promise.all(lanes)
  if (failure) throw failure.error
}
