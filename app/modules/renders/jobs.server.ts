import { UnrecoverableError, Worker, type Job } from 'bullmq'
import { and, eq, inArray, sql } from 'drizzle-orm'
import { db, isDatabaseUnavailable } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { AppError, isAppError } from '#app/lib/errors.ts'
import { logger, throttledErrorLog } from '#app/lib/logger.server.ts'
import { RENDER_QUEUE, cancelChannel, renderJobSchema, type RenderJob } from './queue.server.ts'
import { onReconnect, redisConnection } from '#app/lib/redis.server.ts'
import { imageStore } from '#app/lib/storage.server.ts'
import { notAnswering, renderFailureReason } from '#app/modules/backends/failure.server.ts'
import { pooledBackendById } from '#app/modules/backends/pool.server.ts'
import { availableBackends } from '#app/modules/backends/registry.server.ts'
import type { Framing, SourceImage } from '#app/modules/backends/types.ts'
import { postprocessRemote, prepareSource, referenceKey, type PreparedReference } from '#app/modules/imaging/postprocess.server.ts'
import { normaliseImage } from '#app/modules/imaging/normalise.server.ts'
import { explainFidelity } from '#app/modules/imaging/fidelity-reasons.ts'
import { getMarket, getPersona, getScene } from '#app/modules/looks/index.ts'
import type { Operation } from '#app/modules/looks/schema.ts'
import { seedInSlot, variationOf, variationSlot } from '#app/modules/looks/variation.ts'
import { renders, tenants, usageLedger, type Render } from '#db/schema.ts'
import { billingFor } from '#app/modules/billing/service.server.ts'
import {
  reconcile,
  renderFinished,
  slotsOf,
  startDispatchLoop,
  type DispatchLoopOptions,
  type RenderOutcome,
} from '#app/modules/scheduler/dispatcher.server.ts'
import { keepLayerPng } from './mask.server.ts'
import { watchBackend } from './watchdog.server.ts'

const finished = ['succeeded', 'failed', 'canceled'] as const

/**
 * The source as the merchant uploaded it (stored by content at creation, after
 * it passed validation), normalised again here: decoding is cheaper than
 * storing and re-reading a lossless copy, and normalising is deterministic.
 */
async function loadSource(render: Render): Promise<SourceImage> {
  return normaliseImage(await imageStore().get(render.sourceKey))
}

/**
 * Charges a finished render on the shop's usage plan. A failed charge does
 * not fail the render: the ledger row stays uncharged and the next attempt
 * (idempotent by render id on both sides) charges it.
 */
async function chargeIfBilled(tenantId: string, log: ReturnType<typeof logger>): Promise<void> {
  const tenant = await db().query.tenants.findFirst({ where: eq(tenants.id, tenantId) })
  const biller = tenant && billingFor(tenant)
  if (!biller || !biller.billed) return
  try {
    // why all outstanding: this render, and any whose charge failed before.
    await biller.chargeOutstanding()
  } catch (e) {
    log.warn({ code: isAppError(e) ? e.code : undefined, reason: (e as Error).message }, 'charging the render failed; will retry')
  }
}

/**
 * A new, deterministic seed for the gate's i-th retry (so a redelivered job
 * retries the same seeds), in the seed's variation slot: a retry renders the
 * same variant again, not another variant's framing and light. The last
 * retry (`last`) falls back to slot 0, the look as its scene frames it: a
 * variant's smaller framing can cost a thin strap its measured outline (a
 * slip dress at 70 % scored 69.4 three times), and a faithful render beats
 * a varied one.
 */
export function gateSeed(seed: number, i: number, last = false): number {
  return seedInSlot((Math.imul(seed ^ 0x9e3779b9, 2654435761 + i * 40503) >>> 1) % 2 ** 31, last ? 0 : variationSlot(seed))
}

/** The bar's share for the backend's own work; the rest is checking and storing the result. */
const BACKEND_SHARE = 0.9
/** What the worker does once the backend has finished (its "done"). */
const CHECKING = 'checking product fidelity'

/** Writes progress through to the row, at most a few times a second. */
function progressWriter(renderId: string, job?: Job) {
  let last = 0
  let lastPercent = -1
  let lastMessage = ''
  return async (percent: number, message: string) => {
    const p = Math.max(0, Math.min(99, Math.round(percent)))
    const now = Date.now()
    // why a new step always: the step says what is happening; dropping it left a finished step on show.
    if (message === lastMessage && (p === lastPercent || (now - last < 200 && p < 99))) return
    last = now
    lastPercent = p
    lastMessage = message
    await db()
      .update(renders)
      .set({ progress: p, progressMessage: message, updatedAt: new Date() })
      .where(and(eq(renders.id, renderId), eq(renders.status, 'running')))
    await job?.updateProgress(p)
  }
}

async function markFailed(render: Render, e: unknown, final: boolean): Promise<void> {
  const code = isAppError(e) ? e.code : 'BACKEND_FAILED'
  const message = isAppError(e) ? e.message : 'The render failed on the backend.'
  await db()
    .update(renders)
    .set({
      status: final ? 'failed' : 'retrying',
      errorCode: code,
      errorMessage: message,
      errorReason: renderFailureReason(e) ?? null,
      finishedAt: final ? new Date() : null,
      progressMessage: null,
      updatedAt: new Date(),
    })
    .where(and(eq(renders.id, render.id), eq(renders.status, 'running')))
}

/**
 * Runs one render, on `backendId` (the scheduler's choice) or else the backend
 * the render names. Safe to run twice for the same id (a redelivered job, a
 * worker killed mid-render): every transition is a conditional UPDATE, the
 * result is content-addressed, and the usage ledger is keyed by render id.
 * A retryable failure is final once the render has had RENDER_ATTEMPTS attempts.
 */
export async function processRender(
  renderId: string,
  opts: { signal?: AbortSignal; job?: Job; finalAttempt?: boolean; backendId?: string } = {},
): Promise<Render | undefined> {
  const log = logger().child({ renderId })
  const current = await db().query.renders.findFirst({ where: eq(renders.id, renderId) })
  if (!current) throw new UnrecoverableError(`render ${renderId} does not exist`)
  if ((finished as readonly string[]).includes(current.status)) {
    log.info({ status: current.status }, 'render already finished; nothing to do')
    return current
  }
  // why: 'running' is accepted too, so a render whose worker died can be
  // taken over by the worker that picks up the stalled job.
  const [render] = await db()
    .update(renders)
    .set({
      status: 'running',
      // why recorded: the row says where it ran (usage, support), whichever backend it was made for.
      backend: opts.backendId ?? current.backend,
      attempts: sql`${renders.attempts} + 1`,
      startedAt: current.startedAt ?? new Date(),
      progress: 0,
      progressMessage: 'starting',
      errorCode: null,
      errorMessage: null,
      errorReason: null,
      updatedAt: new Date(),
    })
    .where(and(eq(renders.id, renderId), inArray(renders.status, ['queued', 'retrying', 'running'])))
    .returning()
  if (!render) return undefined

  const onProgress = progressWriter(render.id, opts.job)
  const watchdog = watchBackend(render.backend)
  try {
    const backend = await pooledBackendById(render.backend)
    const persona = render.personaId ? getPersona(render.personaId) : null
    const [market, scene] = [getMarket(render.marketId), getScene(render.sceneId)]
    const source = await loadSource(render)
    // why the Keep layer only: the Backend contract's mask is "white = product".
    // The stored mask keeps all three layers for GPU backends (mask.server.ts).
    const mask = render.maskKey ? await keepLayerPng(await imageStore().get(render.maskKey)) : undefined
    const signal = AbortSignal.any([
      opts.signal ?? new AbortController().signal,
      AbortSignal.timeout(env().RENDER_TIMEOUT_MS),
      watchdog.signal,
    ])
    // The source side of the fidelity check, kept across the gate's attempts when they share mask and placement.
    let reference: Promise<PreparedReference | undefined> | undefined
    const renderWith = async (seed: number, progress: (p: number, m: string) => Promise<void>) => {
      // why: the source side of post-processing is prepared while the backend
      // renders (it announces its framing first); a later attempt framed the same way reuses it.
      const onFramed = (framing: Framing) => {
        const operation = render.operation as Operation
        reference = Promise.resolve(reference)
          .then((earlier) => (earlier?.key === referenceKey(framing, operation) ? earlier : prepareSource(source, framing, operation)))
          .catch((e: unknown) => {
            log.warn({ err: e }, 'preparing the source side failed; post-processing prepares it again')
            return undefined
          })
      }
      const result = await backend.render(
        {
          renderId: render.id,
          operation: render.operation as Operation,
          source,
          mask,
          persona,
          market,
          scene,
          seed,
          variation: variationOf(seed),
          output: { width: render.outputWidth, height: render.outputHeight },
        },
        { onProgress: progress, signal, onFramed },
      )
      // why: an in-process backend (CPU studio) composites the original pixels
      // and measures while its JPEG encodes; a remote backend's result is
      // protected and measured here, against our own copy of the source.
      if (result.fidelity && result.image) return { result: { ...result, image: result.image }, fidelity: result.fidelity, seed }
      await progress(100, CHECKING)
      const done = await postprocessRemote({ source, result, operation: render.operation as Operation, reference })
      reference = Promise.resolve(done.reference)
      return { result: done.result, fidelity: done.fidelity, seed }
    }
    // The QA gate: below the threshold, render again with a new seed (at most
    // GATE_RETRIES times); the best attempt is kept and, if it still fails,
    // waits for the merchant with the reasons in words.
    const tries = env().GATE_RETRIES + 1
    let best: Awaited<ReturnType<typeof renderWith>> | undefined
    let backendMs = 0
    let retried = 0
    for (let i = 0; i < tries; i++) {
      retried = i
      const seed = i === 0 ? render.seed : gateSeed(render.seed, i, i === tries - 1)
      // why not a third of the bar per possible attempt: most renders pass the first time, and a
      // bar stuck at 33 % beside "done" while the result was still being checked read as broken.
      const attempt = await renderWith(seed, (p, m) => {
        const step = m === 'done' ? CHECKING : m
        return onProgress(p * BACKEND_SHARE, i === 0 ? step : `retry ${i}: ${step}`)
      })
      backendMs += attempt.result.backendMs
      if (!best || attempt.fidelity.score > best.fidelity.score) best = attempt
      if (best.fidelity.score >= env().FIDELITY_THRESHOLD) break
      log.info({ score: attempt.fidelity.score, seed }, 'below the fidelity threshold; rendering again with a new seed')
    }
    const { result, fidelity } = best!
    const passed = fidelity.score >= env().FIDELITY_THRESHOLD
    const tenant = await db().query.tenants.findFirst({ where: eq(tenants.id, render.tenantId) })
    const autoApprove = tenant?.settings.autoApproveAbove
    const reviewState = passed && autoApprove !== undefined && fidelity.score >= autoApprove ? 'approved' : 'pending'
    const resultKey = await imageStore().put(result.image)
    const { score, ...metrics } = fidelity
    // why one transaction: the render is 'succeeded' exactly when its usage is
    // recorded; a render canceled meanwhile (or finished by another worker)
    // updates nothing and records nothing.
    const done = await db().transaction(async (tx) => {
      const [row] = await tx
        .update(renders)
        .set({
          status: 'succeeded',
          progress: 100,
          progressMessage: null,
          resultKey,
          fidelity: metrics,
          fidelityScore: score,
          workflow: result.workflow,
          backendMs: Math.round(backendMs),
          seed: best!.seed,
          variation: result.variation ?? null,
          gateRetries: retried,
          gatePassed: passed,
          reviewReasons: passed ? [] : explainFidelity(fidelity),
          reviewState,
          finishedAt: new Date(),
          updatedAt: new Date(),
        })
        .where(and(eq(renders.id, render.id), eq(renders.status, 'running')))
        .returning()
      if (!row) return undefined
      await tx
        .insert(usageLedger)
        .values({
          tenantId: render.tenantId,
          renderId: render.id,
          kind: 'render',
          backend: render.backend,
          backendMs: Math.round(backendMs),
          idempotencyKey: `render:${render.id}`,
        })
        .onConflictDoNothing()
      return row
    })
    if (!done) {
      log.info('render was canceled or finished elsewhere while it ran; result discarded')
      return db().query.renders.findFirst({ where: eq(renders.id, render.id) })
    }
    await chargeIfBilled(render.tenantId, log)
    log.info({ score, backendMs, passed }, 'render succeeded')
    return done
  } catch (e) {
    // why not recorded: a database that cannot be reached says nothing about
    // the render or its backend, and the row could not take the failure
    // anyway; it stays as it is and the scheduler tries it again (failureOutcome).
    if (isDatabaseUnavailable(e)) {
      log.warn({ reason: (e as Error).message.split('\n')[0] }, 'the database was unreachable during the render; it will be tried again')
      throw e
    }
    const retryable = !isAppError(e) ? !(e instanceof UnrecoverableError) : e.retryable
    const final = !retryable || (opts.finalAttempt ?? render.attempts >= env().RENDER_ATTEMPTS)
    // why: an expected refusal (busy background, bad input) is one line, not a stack trace.
    if (isAppError(e)) log.warn({ code: e.code, reason: e.message, final }, 'render failed')
    else log.warn({ err: e, final }, 'render failed')
    await markFailed(render, e, final)
    if (!retryable) throw new UnrecoverableError(isAppError(e) ? `${e.code}: ${e.message}` : String(e))
    throw e
  } finally {
    watchdog.stop()
  }
}

export interface RenderWorkerOptions {
  concurrency?: number
  /** Lock and stalled-check timings; short in tests so a killed worker's job is picked up quickly. */
  lockDurationMs?: number
  stalledIntervalMs?: number
  /** The scheduler's timer in this process (dispatch, health checks, reconciler); false = none. */
  dispatchLoop?: DispatchLoopOptions | false
}

/** What the scheduler learns from an attempt that threw. */
async function failureOutcome(renderId: string, e: unknown): Promise<RenderOutcome> {
  // why: processRender turns every non-retryable failure into an UnrecoverableError.
  if (e instanceof UnrecoverableError) return { kind: 'failed', backendFault: false, attempt: 0 }
  const [row] = await db().select({ status: renders.status, attempts: renders.attempts }).from(renders).where(eq(renders.id, renderId))
  // why: an attempt aborted because the merchant canceled says nothing about the backend.
  if (row?.status === 'canceled') return { kind: 'noop', backendFault: false, attempt: row.attempts }
  // why: a row still queued or running after a throw never recorded the
  // failure (the database was unreachable); the attempt is unknown, so it is
  // tried again, and it says nothing about the backend.
  if (row?.status === 'queued' || row?.status === 'running') return { kind: 'retry', backendFault: false, attempt: 1 }
  return { kind: row?.status === 'retrying' ? 'retry' : 'failed', backendFault: true, unreachable: notAnswering(e), attempt: row?.attempts ?? 1 }
}

/** The outcome when even the row cannot be read (the database is down): try again after a backoff, no fault of the backend. */
const UNKNOWN_OUTCOME: RenderOutcome = { kind: 'retry', backendFault: false, attempt: 1 }

/**
 * Worker concurrency: the in-process work the machine can do, plus a slot for
 * every remote backend slot, so that the scheduler (which enforces slots
 * across all processes) is never held back by a worker. why: a job waiting on
 * a GPU server costs this process almost nothing.
 */
function defaultConcurrency(): number {
  const remote = availableBackends()
    .map((b) => b.capabilities())
    .filter((c) => c.type !== 'cpu-studio')
    .reduce((sum, c) => sum + slotsOf(c), 0)
  // why the headroom: shops connect their own servers in Settings while the worker runs.
  return env().WORKER_CONCURRENCY + remote + SHOP_BACKEND_HEADROOM
}

/** Worker slots kept for renders waiting on backends that shops connect at run time (they cost almost nothing while they wait). */
const SHOP_BACKEND_HEADROOM = 16

// Renders running in this process: a cancel from any process reaches the
// backend through it (enqueue.server.ts removeRenderJob), and a shutdown that
// runs out of time names them.
const running = new Map<string, AbortController>()

/** Ids of the renders this process is running now. */
export function rendersRunningHere(): string[] {
  return [...running.keys()]
}

/** How long a render must be unknown to the scheduler and the queue before a reconnect resubmits it. */
const RECONNECT_RECONCILE_MS = 5_000

/**
 * After Redis comes back, perhaps empty (its queued jobs and the scheduler's
 * state gone): the reconciler runs a few seconds later, not at its next
 * minute. why the delay: work handed off just before the loss settles first.
 */
function reconcileAfterReconnect(worker: Worker<RenderJob>): void {
  const timer = setTimeout(() => {
    if (worker.closing) return
    reconcile({ olderThanMs: RECONNECT_RECONCILE_MS }).catch((err: unknown) =>
      logger().warn({ err: (err as Error).message }, 'reconciling renders after Redis came back failed; the next round retries'),
    )
  }, RECONNECT_RECONCILE_MS)
  timer.unref()
}

export function startRenderWorker(opts: RenderWorkerOptions = {}): Worker<RenderJob> {
  const e = env()
  const connection = redisConnection('worker')
  const listener = redisConnection('worker')
  void listener.subscribe(cancelChannel()).catch((err: unknown) => logger().warn({ err }, 'cancel channel unavailable'))
  listener.on('message', (_channel: string, renderId: string) => {
    running.get(renderId)?.abort(new AppError('RENDER_CANCELED', 'The merchant canceled the render.'))
  })
  const worker = new Worker<RenderJob>(
    RENDER_QUEUE,
    async (job, _token, signal) => {
      const payload = renderJobSchema.safeParse(job.data)
      // why: a malformed payload will be malformed on every attempt.
      if (!payload.success) throw new UnrecoverableError(`invalid render job payload: ${payload.error.message}`)
      const { renderId, backendId } = payload.data
      const startedAt = Date.now()
      let outcome: RenderOutcome = { kind: 'noop', backendFault: false, attempt: 0 }
      const cancel = new AbortController()
      running.set(renderId, cancel)
      try {
        const done = await processRender(renderId, { job, signal: signal ? AbortSignal.any([signal, cancel.signal]) : cancel.signal, backendId })
        // why: a render that was already finished (a redelivery) says nothing about the backend.
        const ranHere = done?.status === 'succeeded' && (done.finishedAt?.getTime() ?? 0) >= startedAt
        outcome = { kind: ranHere ? 'succeeded' : 'noop', backendFault: false, attempt: done?.attempts ?? 0 }
      } catch (err) {
        outcome = await failureOutcome(renderId, err).catch(() => UNKNOWN_OUTCOME)
        throw err
      } finally {
        running.delete(renderId)
        // why only with a backend id: a job queued before the scheduler holds
        // no slot and keeps BullMQ's own retries.
        if (backendId) {
          await renderFinished(renderId, backendId, outcome).catch((err: unknown) =>
            logger().warn({ err, renderId }, 'reporting a finished render to the scheduler failed; the reconciler frees its slot'),
          )
        }
      }
    },
    {
      connection,
      prefix: e.QUEUE_PREFIX,
      concurrency: opts.concurrency ?? defaultConcurrency(),
      lockDuration: opts.lockDurationMs ?? 30_000,
      stalledInterval: opts.stalledIntervalMs ?? 30_000,
      maxStalledCount: 2,
    },
  )
  const loop = opts.dispatchLoop === false ? undefined : startDispatchLoop(opts.dispatchLoop)
  if (loop) onReconnect(connection, () => reconcileAfterReconnect(worker))
  worker.on('error', throttledErrorLog('render worker error'))
  worker.on('closing', () => void loop?.stop())
  // why: BullMQ does not close a connection it was handed.
  worker.on('closed', () => {
    void connection.quit().catch(() => connection.disconnect())
    void listener.quit().catch(() => listener.disconnect())
  })
  worker.on('failed', (job, err) => logger().warn({ jobId: job?.id, err: err.message }, 'render job failed'))
  return worker
}
