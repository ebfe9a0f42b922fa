// The dispatcher: takes the policy's decisions (policy.ts) against the shared
// Redis state (store.server.ts) and hands each render to execution, a BullMQ
// job {renderId, backendId} on the `renders` queue. Any number of web and
// worker processes may call dispatch() at once: one at a time decides, under a
// lock; a caller that finds it taken asks the holder for one more round.
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { and, asc, eq, gt, inArray, lt, or } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { logger } from '#app/lib/logger.server.ts'
import { priorities, RENDER_QUEUE, renderJobSchema, renderQueue } from '#app/modules/renders/queue.server.ts'
import { redisConnection } from '#app/lib/redis.server.ts'
import { backendTypes } from '#app/modules/backends/descriptors.ts'
import { onBackendHealth } from '#app/modules/backends/health.server.ts'
import { configuredBackends, environmentBackends } from '#app/modules/backends/pool.server.ts'
import { slotsOf } from '#app/modules/backends/slots.ts'
import type { Backend, BackendCapabilities } from '#app/modules/backends/types.ts'
import { getPersona, getScene } from '#app/modules/looks/index.ts'
import { renders, type Render } from '#db/schema.ts'
import { failWaitingRender } from './expire.server.ts'
import {
  applyAssignment,
  canTake,
  capable,
  modelKey,
  nextAssignment,
  type BackendView,
  type Needs,
  type PolicyConfig,
  type WorkClass,
  type WorkView,
} from './policy.ts'
import { createSchedulerStore, type BackendState, type CircuitConfig, type Popped, type SchedulerStore } from './store.server.ts'
import { waitingOn } from './waiting.ts'

export type Priority = keyof typeof priorities

/** What the dispatcher needs of a backend: what it can do, how many at once, what it has loaded. */
export type DispatchBackend = Pick<Backend, 'id' | 'capabilities'> & Partial<Pick<Backend, 'loadedModel' | 'health'>> & {
  /** The shop that connected it (pool backends); absent or null = the deployment's. */
  tenantId?: string | null
  /** What a second of its time costs (pool backends). */
  costPerSecond?: number
  /** What the merchant calls it (a Settings row's name); the id otherwise. */
  name?: string
}

export interface HandOff {
  renderId: string
  backendId: string
  priority: string
  /** Runs inside the worker process (the CPU studio), not on a remote server. */
  inProcess: boolean
  /** A job with this id exists (an earlier attempt's). */
  jobExists: boolean
}

/**
 * Added to an in-process render's BullMQ priority. why: a worker slot waiting
 * on a GPU server costs nothing, and a GPU's slot is the scarce thing; remote
 * jobs (never more than the GPU slots) must not queue behind CPU work that
 * the dispatcher lets in by the dozen.
 */
const IN_PROCESS_PRIORITY_OFFSET = 20

/** 'queued': execution has it. 'busy': an earlier attempt is still finishing; try again shortly. */
export type Execute = (handOff: HandOff) => Promise<'queued' | 'busy'>

export interface SchedulerConfig {
  policy: Partial<PolicyConfig>
  circuit: CircuitConfig
  /** Dispatch lock lease; a round takes milliseconds. */
  lockMs: number
  /** Longest waiting work waits for backends that do not answer; undefined = RENDER_WAIT_TIMEOUT. */
  waitTimeoutMs?: number
}

export const defaultSchedulerConfig: SchedulerConfig = {
  policy: {},
  circuit: { threshold: 5, cooldownMs: 30_000 },
  lockMs: 10_000,
}

/** How a dispatched render ended, as far as the scheduler cares. */
export interface RenderOutcome {
  kind: 'succeeded' | 'failed' | 'retry' | 'noop'
  /** The backend was at fault (crashed, unreachable, timed out): feeds its circuit. */
  backendFault: boolean
  /** The fault was that it did not answer: it is passed over until a health check or render says it answers. */
  unreachable?: boolean
  /** Attempts so far (the render row's), for the retry's backoff. */
  attempt: number
}

export interface DispatchResult {
  dispatched: number
  /** Another process held the lock and was asked to run one more round. */
  deferred: boolean
  /** When something becomes dispatchable without any event (a backoff ends, a circuit half-opens). */
  nextWakeAt?: number
}

export interface Dispatcher {
  readonly store: SchedulerStore
  readonly config: SchedulerConfig
  submit(item: Parameters<SchedulerStore['submit']>[0]): Promise<boolean>
  dispatch(): Promise<DispatchResult>
  complete(renderId: string, backendId: string, outcome: RenderOutcome): Promise<'done' | 'resubmitted' | 'gone'>
  cancel(renderId: string): Promise<'dropped' | 'inflight' | 'unknown'>
  positionOf(renderId: string): Promise<number | null>
  /** Asks every remote backend for its health (an answer later than `timeoutMs` is a failure) and feeds the circuits. */
  checkHealth(timeoutMs?: number): Promise<void>
  /** Called with the time of the next wake-up whenever a round learns one. */
  onWake(listener: (at: number) => void): () => void
}

/** Slots a backend offers: its own figure, else one per GPU server, and "as many as the workers run" in-process. */
export { slotsOf }

/** Whether loading a different model costs anything on this backend type (in-process work loads none). */
function switchesModels(c: BackendCapabilities): boolean {
  return !backendTypes[c.type].inProcess
}

/** The policy's view of a backend; `models` are the model keys in play (a reported model outside them is not ours). */
export function backendView(b: DispatchBackend, state?: BackendState, models?: ReadonlySet<string>): BackendView {
  const c = b.capabilities()
  const switching = switchesModels(c)
  const reported = b.loadedModel?.()
  return {
    id: b.id,
    costPerSecond: b.costPerSecond,
    type: c.type,
    operations: c.operations,
    personas: c.personas,
    maxEdge: c.maxEdge,
    garmentMaskFor: c.garmentMaskFor,
    slots: slotsOf(c),
    busy: state?.busy ?? 0,
    model: switching ? (reported && models?.has(reported) ? reported : state?.model) : undefined,
    switchesModels: switching,
    circuit: state?.circuit ?? 'closed',
    downSince: downSinceOf(state),
    faults: state?.failures ?? 0,
    renderMs: state?.renderMs,
    loadMs: state?.loadMs,
    busySince: state?.busySince,
    byModel: state?.byModel,
  }
}

/** When a backend stopped answering. why the open circuit too: state recorded before liveness was (it opened on faults). */
export function downSinceOf(state: BackendState | undefined): number | undefined {
  return state?.downSince ?? (state?.circuit === 'open' ? state.openedAt : undefined)
}

/** The backends_configs rows' backends (the deployment's and every shop's), as last read; see refreshDispatchBackends. */
let configured: DispatchBackend[] = []
let refreshed = 0
let refreshing: Promise<void> | undefined
/** How stale the list of configured rows may be: a backend a shop adds in Settings is used within this. */
const REFRESH_MS = 2_000

/**
 * The backends dispatch chooses from: the pool's (app/modules/backends/pool.server.ts)
 * configured rows as last read, and the environment's, read now. why a
 * snapshot of the rows: queue positions and ETAs ask synchronously, many
 * times a page.
 */
export function backendsForDispatch(): DispatchBackend[] {
  return [...configured, ...environmentBackends()]
}

export async function refreshDispatchBackends(force = false): Promise<DispatchBackend[]> {
  if (force || Date.now() - refreshed >= REFRESH_MS) {
    refreshing ??= configuredBackends()
      .then((list) => {
        configured = list
        refreshed = Date.now()
      })
      .catch((err: unknown) => {
        // why the last list: a database blip must not stop dispatch, nor a
        // worker's report that frees a slot and resubmits a retry.
        if (refreshed === 0) throw err
        logger().warn({ reason: (err as Error).message.split('\n')[0] }, 'backend list not refreshed; dispatching with the last one read')
      })
      .finally(() => {
        refreshing = undefined
      })
    await refreshing
  }
  return backendsForDispatch()
}

/**
 * Where a render may run. Remote GPU servers of the type it was made for are
 * interchangeable (that is what failover and affinity move work between);
 * an in-process backend is not: the render stays on the one it names.
 */
export function needsOf(
  render: Pick<Render, 'tenantId' | 'operation' | 'personaId' | 'backend' | 'outputWidth' | 'outputHeight'> & { sceneId?: string; maskKey?: string | null },
  backends: readonly DispatchBackend[],
): Needs {
  const base: Needs = { operation: render.operation, persona: render.personaId !== null, edge: Math.max(render.outputWidth, render.outputHeight) }
  // why only when known: a render moved between types must not land where its missing garment mask is refused.
  if (render.maskKey !== undefined) base.masked = render.maskKey !== null
  const named = backends.find((b) => b.id === render.backend)
  const type = named?.capabilities().type
  if (!type || backendTypes[type].inProcess) return { ...base, only: [render.backend] }
  // why: a shop's own servers (Settings → GPU backends) render that shop's work only.
  const shops = (b: DispatchBackend) => !b.tenantId || b.tenantId === render.tenantId
  const fallback = fallbackIds(render, backends.filter((b) => shops(b) && b.capabilities().type !== type))
  const withFallback = fallback.length > 0 ? { fallback } : {}
  const foreign = backends.some((b) => b.tenantId && b.tenantId !== render.tenantId && b.capabilities().type === type)
  if (!foreign) return { ...base, type, ...withFallback }
  const visible = backends.filter((b) => shops(b) && b.capabilities().type === type)
  return { ...base, type, only: visible.map((b) => b.id), ...withFallback }
}

/** Backends of other types whose type realises the render's scene and persona (what they can do now is the policy's question). */
function fallbackIds(render: Pick<Render, 'personaId'> & { sceneId?: string }, others: readonly DispatchBackend[]): string[] {
  const scene = render.sceneId ? safe(() => getScene(render.sceneId!)) : undefined
  const persona = render.personaId ? safe(() => getPersona(render.personaId!)) : undefined
  if (!scene || (render.personaId && !persona)) return []
  return others
    .filter((b) => {
      const info = backendTypes[b.capabilities().type]
      return info.realisesScene(scene) && (!persona || info.realisesPersona(persona))
    })
    .map((b) => b.id)
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read()
  } catch {
    return undefined
  }
}

export function classOf(priority: string): WorkClass {
  return priority === 'bulk' ? 'bulk' : 'interactive'
}

/** The retry delay after a failure on the only backend that can take the render (BullMQ's exponential backoff with jitter). */
export function backoffMs(attempt: number): number {
  const delay = env().RENDER_BACKOFF_MS * 2 ** Math.max(0, attempt - 1)
  return Math.round(delay * (1 - 0.5 * Math.random()))
}

/** Execution on the `renders` queue: one job per render (jobId = render id). */
export const executeWithBullmq: Execute = async ({ renderId, backendId, priority, inProcess, jobExists }) => {
  const queue = renderQueue()
  if (jobExists) {
    const job = await queue.getJob(renderId)
    if (job) {
      // why: a retry reuses the render's job id, and BullMQ ignores an add
      // while a job with that id exists; the finished attempt's job goes first.
      if ((await job.getState()) === 'active') return 'busy'
      try {
        await job.remove()
      } catch {
        return 'busy'
      }
    }
  }
  await queue.add('render', renderJobSchema.parse({ renderId, backendId }), {
    jobId: renderId,
    priority: (priorities[priority as Priority] ?? priorities.interactive) + (inProcess ? IN_PROCESS_PRIORITY_OFFSET : 0),
  })
  return 'queued'
}

export interface DispatcherOptions {
  redis: Redis
  prefix: string
  /** The backends to dispatch to (may be read per call: a pool that changes). */
  backends: () => readonly DispatchBackend[] | Promise<readonly DispatchBackend[]>
  execute?: Execute
  /** Fails a render that waited too long for backends that do not answer (default: its row, BACKEND_UNAVAILABLE). */
  expire?: (renderId: string, backendName: string, since: number) => Promise<unknown>
  now?: () => number
  config?: Partial<SchedulerConfig>
}

export function createDispatcher(opts: DispatcherOptions): Dispatcher {
  const config: SchedulerConfig = { ...defaultSchedulerConfig, ...opts.config, policy: { ...defaultSchedulerConfig.policy, ...opts.config?.policy } }
  const store = createSchedulerStore(opts.redis, opts.prefix, `${opts.prefix}:${RENDER_QUEUE}`)
  const execute = opts.execute ?? executeWithBullmq
  const expire = opts.expire ?? failWaitingRender
  const clock = opts.now ?? Date.now
  const wakeListeners = new Set<(at: number) => void>()
  const log = () => logger().child({ component: 'scheduler' })

  async function handOff(popped: Popped, backendId: string, inProcess: boolean): Promise<void> {
    try {
      const r = await execute({ renderId: popped.renderId, backendId, priority: popped.priority, inProcess, jobExists: popped.jobExists })
      if (r === 'busy') {
        const now = clock()
        await store.requeue(popped.renderId, backendId, now, now + 250)
        for (const l of wakeListeners) l(now + 250)
      }
    } catch (err) {
      log().warn({ err, renderId: popped.renderId, backendId }, 'handing a render to execution failed; it waits for the next round')
      const now = clock()
      await store.requeue(popped.renderId, backendId, now, now + 1000).catch(() => {})
    }
  }

  async function round(token: string): Promise<Omit<DispatchResult, 'deferred'>> {
    const now = clock()
    const list = await opts.backends()
    const view = await store.view(
      list.map((b) => b.id),
      now,
      config.circuit,
    )
    const models = new Set(view.groups.map((g) => g.model))
    for (const s of Object.values(view.backends)) if (s.model) models.add(s.model)
    const backends = list.map((b) => backendView(b, view.backends[b.id], models))
    // why the view itself: it carries every field the policy reads, and the round's decisions update it.
    const work: WorkView = view
    const expiresAt = await expireWaiting(work, backends, list, now)
    const pending: Promise<void>[] = []
    let dispatched = 0
    for (let guard = 0; guard < 10_000; guard++) {
      const a = nextAssignment(backends, work, now, config.policy)
      if (!a) break
      const g = work.groups.find((x) => x.key === a.group)!
      const b = backends.find((x) => x.id === a.backend)!
      const popped = await store.pop(a.group, a.backend, now, b.switchesModels ? g.model : undefined)
      if (!popped) {
        // Canceled since the view was read.
        g.count = 0
        continue
      }
      applyAssignment(backends, work, a, popped.next, now)
      pending.push(handOff(popped, a.backend, !b.switchesModels))
      if (++dispatched % 200 === 0) await store.extendLock(token, config.lockMs)
    }
    // Work no connected backend can do goes to the backend it was made for,
    // whose worker fails it as unavailable (retried with backoff, then failed)
    // rather than letting it wait unseen.
    for (const g of work.groups) {
      if (g.count <= 0 || list.some((b) => canTake(backendView(b), g.needs))) continue
      for (let n = Math.min(g.count, 100); n > 0; n--) {
        const popped = await store.pop(g.key, '', now, undefined)
        if (!popped) break
        g.count -= 1
        pending.push(handOff(popped, popped.home, false))
        dispatched++
      }
    }
    await Promise.all(pending)
    let nextWakeAt = expiresAt ?? view.nextReadyAt
    if (view.nextReadyAt !== undefined) nextWakeAt = Math.min(nextWakeAt!, view.nextReadyAt)
    const waiting = work.groups.some((g) => g.count > 0)
    for (const [id, s] of Object.entries(view.backends)) {
      if (waiting && s.circuit === 'open' && s.openedAt !== undefined && list.some((b) => b.id === id)) {
        nextWakeAt = Math.min(nextWakeAt ?? Infinity, s.openedAt + config.circuit.cooldownMs)
      }
    }
    return { dispatched, nextWakeAt }
  }

  /**
   * Fails waiting work that has waited RENDER_WAIT_TIMEOUT for backends that
   * do not answer (none of those that could take it does); returns when the
   * next such wait ends, so the timer wakes for it.
   */
  async function expireWaiting(work: WorkView, backends: BackendView[], list: readonly DispatchBackend[], now: number): Promise<number | undefined> {
    const timeoutMs = config.waitTimeoutMs ?? env().RENDER_WAIT_TIMEOUT
    let next: number | undefined
    for (const g of work.groups) {
      if (g.count <= 0) continue
      const wait = waitingOn(backends, g.needs, undefined, g.oldestAt, timeoutMs)
      if (!wait) continue
      if (wait.until > now) {
        next = Math.min(next ?? Infinity, wait.until)
        continue
      }
      for (const { renderId, home } of await store.expire(g.key, now - timeoutMs)) {
        const named = waitingOn(backends, g.needs, home, 0, timeoutMs) ?? wait
        const name = list.find((b) => b.id === named.backend)?.name ?? named.backend
        await expire(renderId, name, named.since)
        g.count -= 1
      }
      // why soon and not at once: the rest arrived later; the timer looks again shortly.
      if (g.count > 0) next = Math.min(next ?? Infinity, now + Math.max(50, Math.min(1_000, timeoutMs / 10)))
    }
    return next
  }

  async function lockedRounds(): Promise<DispatchResult> {
    const token = randomUUID()
    if (!(await store.lock(token, config.lockMs))) return { dispatched: 0, deferred: true }
    let dispatched = 0
    let nextWakeAt: number | undefined
    try {
      for (;;) {
        const r = await round(token)
        dispatched += r.dispatched
        nextWakeAt = r.nextWakeAt
        if ((await store.unlock(token, config.lockMs)) !== 'again') break
      }
    } catch (err) {
      // why loop: unlock keeps the lock while someone asked for another round.
      for (let i = 0; i < 3 && (await store.unlock(token, config.lockMs).catch(() => 'lost')) === 'again'; i++);
      throw err
    }
    if (nextWakeAt !== undefined) for (const l of wakeListeners) l(nextWakeAt)
    return { dispatched, deferred: false, nextWakeAt }
  }

  let running: Promise<DispatchResult> | undefined
  let queued: Promise<DispatchResult> | undefined
  function dispatch(): Promise<DispatchResult> {
    if (!running) {
      running = lockedRounds().finally(() => {
        running = undefined
      })
      return running
    }
    // why: a round that started before this call may have missed what the
    // caller just submitted; one more round after it serves every such caller.
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined
        return dispatch()
      })
    return queued
  }

  return {
    store,
    config,
    submit: (item) => store.submit(item, clock()),
    dispatch,
    async complete(renderId, backendId, outcome) {
      const now = clock()
      // why a refusal is neutral: bad input says nothing about the backend's health.
      const completion = outcome.backendFault ? (outcome.unreachable ? 'down' : 'fault') : outcome.kind === 'succeeded' ? 'ok' : 'neutral'
      let retry: { readyAt: number; excluded: string[] } | undefined
      if (outcome.kind === 'retry') {
        const item = await store.item(renderId)
        const excluded = [...new Set([...(item?.excluded ?? []), backendId])]
        // why no backoff when another backend can take it: failover is what
        // the other server is for; the backoff protects the one that failed.
        const list = await opts.backends()
        const states = await store.backendStates(list.map((b) => b.id), now, config.circuit)
        // why only backends that answer: going straight back to a dead one would spend the attempts without a backoff.
        const answers = (b: DispatchBackend) => downSinceOf(states[b.id]) === undefined && states[b.id]?.circuit !== 'open'
        const elsewhere = item !== undefined && list.some((b) => !excluded.includes(b.id) && canTake(backendView(b), item.needs) && answers(b))
        retry = { readyAt: now + (elsewhere ? 0 : backoffMs(outcome.attempt)), excluded }
      }
      const result = await store.complete(renderId, backendId, now, completion, config.circuit, retry)
      if (retry && result === 'resubmitted') for (const l of wakeListeners) l(retry.readyAt)
      return result
    },
    cancel: (renderId) => store.cancel(renderId),
    async positionOf(renderId) {
      return (await store.positionOf(renderId))?.position ?? null
    },
    async checkHealth(timeoutMs = 5_000) {
      for (const b of await opts.backends()) {
        if (!b.health || !switchesModels(b.capabilities())) continue
        const ok = await Promise.race([
          b.health().then((h) => h.ok, () => false),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
        ])
        await store.recordHealth(b.id, ok, clock(), config.circuit)
      }
    },
    onWake(listener) {
      wakeListeners.add(listener)
      return () => wakeListeners.delete(listener)
    },
  }
}

// --- This process's dispatcher, on the deployment's Redis and backends ---

let shared: { dispatcher: Dispatcher; redis: Redis; ready: Promise<void> } | undefined
let sharedConfig: Partial<SchedulerConfig> | undefined

/** Overrides the scheduler settings of this process (tests, the bench); call before first use. */
export function configureScheduler(config: Partial<SchedulerConfig> | undefined): void {
  sharedConfig = config
}

function untilReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Redis is not reachable (scheduler)')), 5_000)
    redis.once('ready', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** This process's dispatcher. */
export async function scheduler(): Promise<Dispatcher> {
  if (!shared) {
    // why a producer connection: a web request must fail fast when Redis is down.
    const redis = redisConnection('producer')
    const dispatcher = createDispatcher({ redis, prefix: env().QUEUE_PREFIX, backends: () => refreshDispatchBackends(), config: sharedConfig })
    shared = { dispatcher, redis, ready: untilReady(redis) }
  }
  const current = shared
  await current.ready.catch((e: unknown) => {
    if (shared === current) shared = undefined
    current.redis.disconnect()
    throw e
  })
  return current.dispatcher
}

/** Dispatches started in the background (after a completion), so closing waits for them. */
const background = new Set<Promise<unknown>>()

function inBackground(work: Promise<unknown>): void {
  const tracked = work.catch((err: unknown) => logger().warn({ err }, 'a background dispatch failed; the next tick retries'))
  background.add(tracked)
  void tracked.finally(() => background.delete(tracked))
}

export async function closeScheduler(): Promise<void> {
  await Promise.allSettled([...background])
  const s = shared
  shared = undefined
  if (s) await s.redis.quit().catch(() => s.redis.disconnect())
}

type RenderForScheduling = Pick<
  Render,
  'id' | 'tenantId' | 'operation' | 'sceneId' | 'personaId' | 'backend' | 'outputWidth' | 'outputHeight' | 'status' | 'queuedAt' | 'maskKey'
>

const schedulingColumns = {
  id: renders.id,
  tenantId: renders.tenantId,
  operation: renders.operation,
  sceneId: renders.sceneId,
  personaId: renders.personaId,
  backend: renders.backend,
  outputWidth: renders.outputWidth,
  outputHeight: renders.outputHeight,
  status: renders.status,
  queuedAt: renders.queuedAt,
  maskKey: renders.maskKey,
}

function itemFor(render: RenderForScheduling, priority: string, readyAt?: number) {
  return {
    renderId: render.id,
    tenant: render.tenantId,
    workClass: classOf(priority),
    priority,
    model: modelKey(render),
    needs: needsOf(render, backendsForDispatch()),
    home: render.backend,
    at: Date.now(),
    readyAt,
  }
}

/**
 * Queues a recorded render with the scheduler and dispatches. Idempotent: a
 * render the scheduler already has (waiting or dispatched) is left as it is.
 */
export async function scheduleRender(renderId: string, priority: Priority = 'interactive'): Promise<void> {
  const [render] = await db().select(schedulingColumns).from(renders).where(eq(renders.id, renderId))
  if (!render || (render.status !== 'queued' && render.status !== 'retrying')) return
  const d = await scheduler()
  await refreshDispatchBackends()
  await d.submit(itemFor(render, priority))
  await d.dispatch()
}

/**
 * Drops a canceled render: from the scheduler while it waits; from the queue
 * (freeing its slot) when it was dispatched but no worker has taken it yet. A
 * running render is left to its worker, which discards the result.
 */
const WAITING_JOB = ['waiting', 'prioritized', 'delayed', 'waiting-children']

/**
 * Takes a render that no worker has started out of the scheduler: waiting
 * there, or handed to BullMQ and not yet taken (its slot is freed). False
 * when a worker has it (or it has ended), and then nothing changes.
 */
export async function withdrawScheduled(renderId: string): Promise<boolean> {
  const d = await scheduler()
  const state = await d.cancel(renderId)
  if (state === 'dropped') return true
  const job = await renderQueue().getJob(renderId)
  if (!job) return state === 'unknown'
  if (!WAITING_JOB.includes(await job.getState())) return false
  return removeHandedOff(d, renderId, state, job)
}

export async function cancelScheduled(renderId: string): Promise<void> {
  const d = await scheduler()
  const state = await d.cancel(renderId)
  const job = await renderQueue().getJob(renderId)
  if (!job || (await job.isActive())) return
  await removeHandedOff(d, renderId, state, job)
}

/**
 * Removes a render's job no worker has taken and frees the slot its dispatch
 * held. why remove decides: a worker that took the job meanwhile holds its
 * lock, and removing it then fails.
 */
async function removeHandedOff(d: Dispatcher, renderId: string, state: string, job: { remove(): Promise<void> }): Promise<boolean> {
  const removed = await job.remove().then(
    () => true,
    () => false,
  )
  if (removed && state === 'inflight') {
    const item = await d.store.item(renderId)
    if (item?.backend) {
      await d.complete(renderId, item.backend, { kind: 'noop', backendFault: false, attempt: 0 })
      await d.dispatch()
    }
  }
  return removed
}

/**
 * The worker's report: frees the slot, feeds the circuit, resubmits a retry
 * (elsewhere when it can), and starts dispatching what that made possible.
 */
export async function renderFinished(renderId: string, backendId: string, outcome: RenderOutcome): Promise<void> {
  const d = await scheduler()
  const result = await d.complete(renderId, backendId, outcome)
  if (result === 'gone' && outcome.kind === 'retry') {
    // The scheduler lost it (Redis restarted, or a job from before it existed): resubmit from the row.
    const [render] = await db().select(schedulingColumns).from(renders).where(eq(renders.id, renderId))
    if (render?.status === 'retrying') {
      await d.submit({ ...itemFor(render, 'interactive', Date.now() + backoffMs(outcome.attempt)), excluded: [backendId] })
    }
  }
  // why not awaited: the slot is already free; the job need not wait for who gets it.
  inBackground(d.dispatch())
}

/**
 * A health check's result for a backend's circuit breaker (backends/health.server.ts
 * runs the checks): a failure counts as a fault, a pass half-opens an open circuit.
 */
export async function reportHealth(backendId: string, ok: boolean): Promise<void> {
  const d = await scheduler()
  await d.store.recordHealth(backendId, ok, Date.now(), d.config.circuit)
}

/** Feeds every backend health check into the circuit breaker; called at startup by each process that checks backends. */
export function listenToHealthChecks(): void {
  onBackendHealth(reportHealth)
}

/** Queue position for the UI (1 = next), null when the scheduler does not know the render. */
export async function queuePosition(renderId: string): Promise<number | null> {
  return (await scheduler()).positionOf(renderId)
}

/** Slots that can work on this render at once (for ETAs); in-process backends count as the worker concurrency. */
export function capacityFor(render: Pick<Render, 'tenantId' | 'operation' | 'personaId' | 'backend' | 'outputWidth' | 'outputHeight'>): number {
  const list = backendsForDispatch()
  const needs = needsOf(render, list)
  const slots = list
    .filter((b) => capable(backendView(b), needs))
    .reduce((sum, b) => sum + Math.min(slotsOf(b.capabilities()), env().WORKER_CONCURRENCY), 0)
  return Math.max(1, slots)
}

const liveJobStates = new Set(['active', 'waiting', 'prioritized', 'delayed', 'waiting-children'])

async function jobIsLive(renderId: string): Promise<boolean> {
  const job = await renderQueue().getJob(renderId)
  return job !== undefined && liveJobStates.has(await job.getState())
}

export interface ReconcileOptions {
  /** Only look at renders and dispatches older than this (a fresh one may be mid-hand-off). */
  olderThanMs?: number
  /** Only this tenant's renders (tests share one database). */
  tenantId?: string
}

/**
 * Repairs what a crash or a Redis restart leaves behind:
 * - a slot held by a render whose job is gone or finished without reporting
 *   (a killed process) is freed, and the render queued again if unfinished;
 * - a render Postgres says is queued or retrying (or running long past any
 *   timeout) that neither the scheduler nor BullMQ knows is submitted again.
 * why as bulk: its original priority was lost with Redis; bulk keeps a large
 * recovered backlog from crowding out merchants waiting now.
 */
export async function reconcile(opts: ReconcileOptions = {}): Promise<{ freed: string[]; resubmitted: string[] }> {
  const olderThanMs = opts.olderThanMs ?? 60_000
  const d = await scheduler()
  const now = Date.now()
  const freed: string[] = []
  const resubmitted: string[] = []

  for (const entry of await d.store.inflight()) {
    if (now - entry.dispatchedAt < olderThanMs) continue
    if (await jobIsLive(entry.renderId)) continue
    const [row] = await db().select(schedulingColumns).from(renders).where(eq(renders.id, entry.renderId))
    if (opts.tenantId && row && row.tenantId !== opts.tenantId) continue
    if (row && ['queued', 'retrying', 'running'].includes(row.status)) {
      await d.store.requeue(entry.renderId, entry.backend, now, now)
      resubmitted.push(entry.renderId)
    } else {
      await d.store.complete(entry.renderId, entry.backend, now, 'neutral', d.config.circuit)
      freed.push(entry.renderId)
    }
  }

  const cutoff = new Date(now - olderThanMs)
  const stuckRunning = new Date(now - Math.max(olderThanMs, env().RENDER_TIMEOUT_MS + 60_000))
  let after = ''
  for (;;) {
    const where = [
      or(
        and(inArray(renders.status, ['queued', 'retrying']), lt(renders.updatedAt, cutoff)),
        and(eq(renders.status, 'running'), lt(renders.updatedAt, stuckRunning)),
      ),
      gt(renders.id, after || '00000000-0000-0000-0000-000000000000'),
    ]
    if (opts.tenantId) where.push(eq(renders.tenantId, opts.tenantId))
    const page = await db()
      .select(schedulingColumns)
      .from(renders)
      .where(and(...where))
      .orderBy(asc(renders.id))
      .limit(500)
    if (page.length === 0) break
    after = page[page.length - 1].id
    const known = await d.store.known(page.map((r) => r.id))
    for (const row of page) {
      if (known.has(row.id) || (await jobIsLive(row.id))) continue
      if (await d.submit(itemFor(row, 'bulk'))) resubmitted.push(row.id)
    }
  }
  if (freed.length + resubmitted.length > 0) {
    logger().warn({ freed: freed.length, resubmitted: resubmitted.length }, 'scheduler reconciled lost work')
    await d.dispatch()
  }
  return { freed, resubmitted }
}

export interface DispatchLoopOptions {
  /** Dispatch at least this often (ms). */
  tickMs?: number
  /** Run the reconciler this often (ms); 0 = never. */
  reconcileEveryMs?: number
  /** Check remote backends' health this often (ms); 0 = never. */
  healthEveryMs?: number
  /** A health check answered later than this fails (ms). */
  healthTimeoutMs?: number
}

/**
 * Worker processes dispatch on a timer as well as on every completion, so a
 * backoff that ends, a circuit that half-opens, or work submitted while every
 * dispatcher was busy is picked up without a new event.
 */
export function startDispatchLoop(opts: DispatchLoopOptions = {}): { stop(): Promise<void> } {
  const tickMs = opts.tickMs ?? 2_000
  const reconcileEveryMs = opts.reconcileEveryMs ?? 0
  const healthEveryMs = opts.healthEveryMs ?? 0
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let dueAt = Infinity
  let current: Promise<void> | undefined
  let unsubscribe: (() => void) | undefined
  // why delayed first runs: a fresh process should not reconcile work another
  // process handed off a moment ago.
  let nextReconcile = reconcileEveryMs > 0 ? Date.now() + reconcileEveryMs : Infinity
  let nextHealth = healthEveryMs > 0 ? Date.now() : Infinity

  const schedule = (at: number) => {
    if (stopped || at >= dueAt) return
    if (timer) clearTimeout(timer)
    dueAt = at
    timer = setTimeout(() => void run(), Math.max(5, at - Date.now()))
  }
  const run = async () => {
    timer = undefined
    dueAt = Infinity
    if (stopped) return
    const tick = (async () => {
      const d = await scheduler()
      unsubscribe ??= d.onWake((at) => schedule(at))
      await d.dispatch()
      if (Date.now() >= nextHealth) {
        nextHealth = Date.now() + healthEveryMs
        await d.checkHealth(opts.healthTimeoutMs)
      }
      if (Date.now() >= nextReconcile) {
        nextReconcile = Date.now() + reconcileEveryMs
        await reconcile()
      }
    })().catch((err: unknown) => logger().warn({ err }, 'scheduler tick failed; retrying on the next one'))
    current = tick
    await tick
    current = undefined
    schedule(Date.now() + tickMs)
  }
  schedule(Date.now())

  return {
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      unsubscribe?.()
      await current
    },
  }
}
