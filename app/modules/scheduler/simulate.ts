// A discrete-event simulation of the render fleet: a simulated clock, no
// timers, the same policy as the real dispatcher (policy.ts). The benchmark
// compares the policy with a FIFO dispatcher on it; tests use it to check the
// policy's behaviour over a whole run, not one decision.
import {
  applyAssignment,
  fifoAssignment,
  learnTiming,
  nextAssignment,
  type Assignment,
  type BackendView,
  type GroupView,
  type PolicyConfig,
  type WorkClass,
  type WorkView,
} from './policy.ts'
import {
  FAULT_TIMES,
  FAILS_AT,
  MAX_ATTEMPTS,
  failingRenders,
  fault,
  halfOpen,
  health,
  isDown,
  success,
  type DownWindow,
  type FaultTimes,
} from './sim-faults.ts'

export interface SimRender {
  id: string
  tenant: string
  workClass: WorkClass
  model: string
  /** When it is submitted, ms on the simulated clock. */
  at: number
  /** On a backend of speed 1. */
  durationMs: number
}

export interface SimBackend {
  id: string
  slots?: number
  /** Loaded at the start (default: cold). */
  model?: string
  /** Its render time as a multiple of a speed-1 backend's (2.5 = 2.5× slower); default 1. */
  speed?: number
  /** Its time to load another model (default: the options' switchMs). */
  loadMs?: number
  /** When it does not answer: renders sent to it fail fast, health checks fail. */
  down?: DownWindow[]
}

export interface SimOptions {
  backends: SimBackend[]
  /** Time to load another model on a backend without a loadMs of its own. */
  switchMs: number
  dispatcher: 'policy' | 'fifo'
  policy?: Partial<PolicyConfig>
  /** Share of renders whose first start fails partway (a transient fault), drawn from `seed`. */
  failureRate?: number
  seed?: number
  /** The breaker's, health checks' and failing connections' times (default ADR 006's). */
  faultTimes?: FaultTimes
}

export interface SimStart {
  id: string
  backend: string
  /** Dispatched (the slot is taken; a model load may follow). */
  dispatchedAt: number
  /** The render itself starts (after any model load). */
  startAt: number
  endAt: number
  switched: boolean
}

export interface SimResult {
  /** First submission to last completion. */
  makespanMs: number
  /** Time slots spent rendering. */
  renderMs: number
  /** Time slots spent loading models. */
  loadMs: number
  loads: number
  starts: SimStart[]
  /** Enqueue → render start (model load included), per render. */
  waits: { id: string; workClass: WorkClass; tenant: string; waitMs: number }[]
  /** Starts that failed (and were retried, or failed the render). */
  failedStarts: number
  /** Renders failed for good (MAX_ATTEMPTS starts failed). */
  failed: number
}

const speedOf = (b: SimBackend): number => b.speed ?? 1
const loadOf = (b: SimBackend, opts: Pick<SimOptions, 'switchMs'>): number => b.loadMs ?? opts.switchMs

const NEEDS = { operation: 'render', persona: false, edge: 0 }

/** A render on a backend: it ends at endAt, rendered or failed. */
interface Running {
  endAt: number
  backend: string
  render: SimRender
  ok: boolean
  /** It failed because the backend was down (a refused connection). */
  unreachable: boolean
  start: SimStart
}

/**
 * Runs every render to completion and reports what happened. `starts` holds
 * each render's last start (the one that rendered it), in completion order.
 */
export function simulate(renders: readonly SimRender[], opts: SimOptions): SimResult {
  const arrivals = [...renders].sort((a, b) => a.at - b.at)
  const backends: BackendView[] = opts.backends.map((b) => ({
    id: b.id,
    type: 'comfyui',
    operations: [NEEDS.operation],
    personas: true,
    maxEdge: Infinity,
    slots: b.slots ?? 1,
    busy: 0,
    model: b.model,
    switchesModels: true,
    circuit: 'closed',
  }))
  const specs = new Map(opts.backends.map((b) => [b.id, b]))
  const times = opts.faultTimes ?? FAULT_TIMES
  const breakers = new Map(opts.backends.map((b) => [b.id, { failures: 0, openedAt: 0 }]))
  const failing = failingRenders(
    renders.map((r) => r.id),
    opts.failureRate ?? 0,
    opts.seed ?? 1,
  )
  const faulty = failing.size > 0 || opts.backends.some((b) => b.down?.length)
  /** What each backend really has loaded (the view's model changes at dispatch, loads finish later). */
  const loaded = new Map(opts.backends.map((b) => [b.id, b.model]))
  const freeAt = new Map(opts.backends.map((b) => [b.id, 0]))
  const queues = new Map<string, SimRender[]>()
  const seqOf = new Map<string, number>()
  const attempts = new Map<string, number>()
  const excludedOf = new Map<string, string[]>()
  const work: WorkView = {
    groups: [],
    cursor: {},
    interactiveSeen: {},
    lastServed: {},
    tenantServed: {},
    bulkTurn: {},
    inflight: {},
  }
  const groupByKey = new Map<string, GroupView>()
  const running: Running[] = []
  const starts: SimStart[] = []
  let loads = 0
  let loadMs = 0
  let renderMs = 0
  let failedStarts = 0
  let failed = 0
  let next = 0
  let seq = 0
  let now = arrivals[0]?.at ?? 0
  const first = now
  let last = now
  let nextHealth = faulty ? first : Infinity

  const submit = (r: SimRender) => {
    const excluded = excludedOf.get(r.id) ?? []
    const key = `${r.workClass}|${r.tenant}|${r.model}|${excluded.join(',')}`
    if (!seqOf.has(r.id)) seqOf.set(r.id, ++seq)
    const q = queues.get(key) ?? []
    q.push(r)
    q.sort((x, y) => seqOf.get(x.id)! - seqOf.get(y.id)!)
    queues.set(key, q)
    let g = groupByKey.get(key)
    if (!g) {
      g = {
        key,
        workClass: r.workClass,
        tenant: r.tenant,
        model: r.model,
        needs: NEEDS,
        excluded,
        count: 0,
        oldestSeq: 0,
        oldestAt: 0,
      }
      groupByKey.set(key, g)
      work.groups.push(g)
    }
    g.count = q.length
    g.oldestSeq = seqOf.get(q[0].id)!
    g.oldestAt = q[0].at
    if (r.workClass === 'interactive') work.interactiveSeen[r.model] = r.at
  }

  const decide = (): Assignment | undefined =>
    opts.dispatcher === 'policy' ? nextAssignment(backends, work, now, opts.policy) : fifoAssignment(backends, work)

  const finish = (run: Running) => {
    const view = backends.find((x) => x.id === run.backend)!
    const breaker = breakers.get(run.backend)!
    view.busy -= 1
    work.inflight![run.render.tenant] -= 1
    view.busySince = running.reduce<number | undefined>(
      (m, o) => (o.backend === view.id ? Math.min(m ?? Infinity, o.start.dispatchedAt) : m),
      undefined,
    )
    if (run.ok) {
      // why learned, not read from the spec: the policy sees what production measures.
      learnTiming(view, run.endAt - run.start.dispatchedAt, run.start.switched, run.render.model)
      success(view, breaker)
      starts.push(run.start)
      last = Math.max(last, run.endAt)
      return
    }
    // why: a render that failed partway had its backend answering; one sent to a backend that is down did not.
    fault(view, breaker, now, run.unreachable)
    failedStarts += 1
    if (attempts.get(run.render.id)! >= MAX_ATTEMPTS) {
      failed += 1
      last = Math.max(last, run.endAt)
      return
    }
    // A retry goes back pending at once, the backend it failed on excluded (soft: the policy retries in place when none is left).
    excludedOf.set(run.render.id, [...new Set([...(excludedOf.get(run.render.id) ?? []), run.backend])].sort())
    submit(run.render)
  }

  const dispatch = (a: Assignment) => {
    const q = queues.get(a.group)!
    const r = q.shift()!
    applyAssignment(backends, work, a, q.length > 0 ? { seq: seqOf.get(q[0].id)!, at: q[0].at } : null, now)
    const view = backends.find((x) => x.id === a.backend)!
    view.busySince ??= now
    const spec = specs.get(a.backend)!
    const attempt = (attempts.get(r.id) ?? 0) + 1
    attempts.set(r.id, attempt)
    if (isDown(spec.down, now)) {
      const endAt = now + times.failFastMs
      running.push({
        endAt,
        backend: a.backend,
        render: r,
        ok: false,
        unreachable: true,
        start: { id: r.id, backend: a.backend, dispatchedAt: now, startAt: endAt, endAt, switched: false },
      })
      return
    }
    // why per backend, not per slot: one GPU loads one model at a time, so a
    // multi-slot backend's renders queue behind its load.
    let startAt = Math.max(now, freeAt.get(a.backend)!)
    const switched = loaded.get(a.backend) !== r.model
    if (switched) {
      startAt += loadOf(spec, opts)
      loaded.set(a.backend, r.model)
      freeAt.set(a.backend, startAt)
      loads += 1
      loadMs += loadOf(spec, opts)
    }
    const fails = attempt === 1 && failing.has(r.id)
    const duration = r.durationMs * speedOf(spec) * (fails ? FAILS_AT : 1)
    const endAt = startAt + duration
    renderMs += duration
    running.push({
      endAt,
      backend: a.backend,
      render: r,
      ok: !fails,
      unreachable: false,
      start: { id: r.id, backend: a.backend, dispatchedAt: now, startAt, endAt, switched },
    })
  }

  const pending = () => work.groups.some((g) => g.count > 0)
  while (next < arrivals.length || running.length > 0 || pending()) {
    // Advance to the next event: an arrival, a completion, a health check or a circuit's cooldown ending.
    const nextArrival = next < arrivals.length ? arrivals[next].at : Infinity
    const nextEnd = running.reduce((m, r) => Math.min(m, r.endAt), Infinity)
    let nextProbe = Infinity
    for (const b of backends)
      if (b.circuit === 'open') nextProbe = Math.min(nextProbe, breakers.get(b.id)!.openedAt + times.cooldownMs)
    now = Math.min(nextArrival, nextEnd, nextHealth, nextProbe)
    if (now === Infinity) throw new Error('simulation stalled: work waits and nothing can happen')
    for (let i = running.length - 1; i >= 0; i--) {
      if (running[i].endAt <= now) finish(running.splice(i, 1)[0])
    }
    if (now >= nextHealth) {
      for (const b of backends) health(b, breakers.get(b.id)!, isDown(specs.get(b.id)!.down, now), now, times)
      nextHealth += times.healthEveryMs
    }
    for (const b of backends) halfOpen(b, breakers.get(b.id)!, now, times)
    while (next < arrivals.length && arrivals[next].at <= now) submit(arrivals[next++])
    for (let a = decide(); a; a = decide()) dispatch(a)
  }

  const byId = new Map(renders.map((r) => [r.id, r]))
  return {
    makespanMs: last - first,
    renderMs,
    loadMs,
    loads,
    starts,
    waits: starts.map((s) => {
      const r = byId.get(s.id)!
      return { id: s.id, workClass: r.workClass, tenant: r.tenant, waitMs: s.startAt - r.at }
    }),
    failedStarts,
    failed,
  }
}

/**
 * A lower bound on the makespan. Backend b renders slots / speed of a
 * speed-1 backend's work per unit of time; over the k fastest backends (for
 * each k), all work spread at that rate, plus the loads no schedule avoids
 * (each cold backend used once, and each model no backend starts with at
 * least once), each placed where it costs least (on the slowest of them),
 * the time each is down, and the part of each failing render's first start
 * that is lost. Never less than the last arrival rendered on the fastest backend.
 */
export function makespanLowerBound(
  renders: readonly SimRender[],
  opts: Pick<SimOptions, 'backends' | 'switchMs' | 'failureRate' | 'seed'>,
): number {
  const start = Math.min(...renders.map((r) => r.at))
  // The part of every failing render's first start that no schedule gets back.
  const failing = failingRenders(
    renders.map((r) => r.id),
    opts.failureRate ?? 0,
    opts.seed ?? 1,
  )
  const work = renders.reduce((s, r) => s + r.durationMs * (failing.has(r.id) ? 1 + FAILS_AT : 1), 0)
  const models = new Set(renders.map((r) => r.model))
  const preloaded = new Set(opts.backends.flatMap((b) => (b.model ? [b.model] : [])))
  const toLoad = [...models].filter((m) => !preloaded.has(m)).length
  const rate = (b: SimBackend): number => (b.slots ?? 1) / speedOf(b)
  const fastest = [...opts.backends].sort((a, b) => rate(b) - rate(a))
  let spread = Infinity
  for (let used = 1; used <= fastest.length; used++) {
    const chosen = fastest.slice(0, used)
    const capacity = chosen.reduce((s, b) => s + rate(b), 0)
    // Work a load keeps a backend from: its time at that backend's rate; the cheapest loads are counted.
    const cold = chosen.filter((b) => !b.model).map((b) => loadOf(b, opts) * rate(b))
    const any = chosen.map((b) => loadOf(b, opts) * rate(b)).sort((a, b) => a - b)
    const extra = Math.max(0, toLoad - cold.length)
    const lost = cold.reduce((s, v) => s + v, 0) + any.slice(0, extra).reduce((s, v) => s + v, 0)
    // Downtime counts as far as it falls before the end: the least T with T = (work + lost + down before T) / capacity.
    const downBefore = (end: number): number =>
      chosen.reduce(
        (s, b) =>
          s + (b.down ?? []).reduce((t, w) => t + Math.max(0, Math.min(w.until, end) - Math.max(w.from, start)) * rate(b), 0),
        0,
      )
    let t = (work + lost) / capacity
    for (let k = 0; k < 50; k++) {
      const next = (work + lost + downBefore(start + t)) / capacity
      if (next - t < 1e-6) break
      t = next
    }
    spread = Math.min(spread, t)
  }
  const quickest = Math.min(...opts.backends.map(speedOf))
  const lastArrival = Math.max(...renders.map((r) => r.at + r.durationMs * quickest - start))
  return Math.max(spread, lastArrival)
}

/** The fewest model loads of a schedule that uses every backend: each model no backend starts with, each cold backend once. */
export function minimumLoads(renders: readonly SimRender[], opts: Pick<SimOptions, 'backends'>): number {
  const models = new Set(renders.map((r) => r.model))
  const preloaded = new Set(opts.backends.flatMap((b) => (b.model ? [b.model] : [])))
  return Math.max(1, [...models].filter((m) => !preloaded.has(m)).length, opts.backends.filter((b) => !b.model).length)
}
