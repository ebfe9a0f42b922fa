// A discrete-event simulation of the render fleet: a simulated clock, no
// timers, the same policy as the real dispatcher (policy.ts). The benchmark
// compares the policy with a FIFO dispatcher on it; tests use it to check the
// policy's behaviour over a whole run, not one decision.
import {
  applyAssignment,
  fifoAssignment,
  nextAssignment,
  type Assignment,
  type BackendView,
  type GroupView,
  type PolicyConfig,
  type WorkClass,
  type WorkView,
} from './policy.ts'

export interface SimRender {
  id: string
  tenant: string
  workClass: WorkClass
  model: string
  /** When it is submitted, ms on the simulated clock. */
  at: number
  durationMs: number
}

export interface SimBackend {
  id: string
  slots?: number
  /** Loaded at the start (default: cold). */
  model?: string
}

export interface SimOptions {
  backends: SimBackend[]
  /** Time to load another model on a backend. */
  switchMs: number
  dispatcher: 'policy' | 'fifo'
  policy?: Partial<PolicyConfig>
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
}

const NEEDS = { operation: 'render', persona: false, edge: 0 }

/** Runs every render to completion and reports what happened, in dispatch order. */
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
  /** What each backend really has loaded (the view's model changes at dispatch, loads finish later). */
  const loaded = new Map(opts.backends.map((b) => [b.id, b.model]))
  const freeAt = new Map(opts.backends.map((b) => [b.id, 0]))
  const queues = new Map<string, SimRender[]>()
  const seqOf = new Map<string, number>()
  const work: WorkView = { groups: [], cursor: {}, interactiveSeen: {}, lastServed: {} }
  const groupByKey = new Map<string, GroupView>()
  const running: { endAt: number; backend: string }[] = []
  const starts: SimStart[] = []
  let loads = 0
  let loadMs = 0
  let renderMs = 0
  let next = 0
  let seq = 0
  let now = arrivals[0]?.at ?? 0
  const first = now
  let last = now

  const submit = (r: SimRender) => {
    const key = `${r.workClass}|${r.tenant}|${r.model}`
    seqOf.set(r.id, ++seq)
    const q = queues.get(key) ?? []
    q.push(r)
    queues.set(key, q)
    let g = groupByKey.get(key)
    if (!g) {
      g = { key, workClass: r.workClass, tenant: r.tenant, model: r.model, needs: NEEDS, excluded: [], count: 0, oldestSeq: 0, oldestAt: 0 }
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

  while (next < arrivals.length || running.length > 0) {
    // Advance to the next event: an arrival or a completion.
    const nextArrival = next < arrivals.length ? arrivals[next].at : Infinity
    const nextEnd = running.reduce((m, r) => Math.min(m, r.endAt), Infinity)
    now = Math.min(nextArrival, nextEnd)
    for (let i = running.length - 1; i >= 0; i--) {
      if (running[i].endAt <= now) {
        const b = backends.find((x) => x.id === running[i].backend)!
        b.busy -= 1
        running.splice(i, 1)
      }
    }
    while (next < arrivals.length && arrivals[next].at <= now) submit(arrivals[next++])

    for (let a = decide(); a; a = decide()) {
      const q = queues.get(a.group)!
      const r = q.shift()!
      applyAssignment(backends, work, a, q.length > 0 ? { seq: seqOf.get(q[0].id)!, at: q[0].at } : null, now)
      // why per backend, not per slot: one GPU loads one model at a time, so a
      // multi-slot backend's renders queue behind its load.
      let startAt = Math.max(now, freeAt.get(a.backend)!)
      const switched = loaded.get(a.backend) !== r.model
      if (switched) {
        startAt += opts.switchMs
        loaded.set(a.backend, r.model)
        freeAt.set(a.backend, startAt)
        loads += 1
        loadMs += opts.switchMs
      }
      const endAt = startAt + r.durationMs
      renderMs += r.durationMs
      running.push({ endAt, backend: a.backend })
      starts.push({ id: r.id, backend: a.backend, dispatchedAt: now, startAt, endAt, switched })
      last = Math.max(last, endAt)
    }
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
  }
}

/**
 * A lower bound on the makespan: all work spread evenly over every slot, plus
 * the loads no schedule avoids (each model once, and each backend at least
 * once when it starts cold), and never before the last arrival is rendered.
 */
export function makespanLowerBound(renders: readonly SimRender[], opts: Pick<SimOptions, 'backends' | 'switchMs'>): number {
  const slots = opts.backends.reduce((s, b) => s + (b.slots ?? 1), 0)
  const start = Math.min(...renders.map((r) => r.at))
  const work = renders.reduce((s, r) => s + r.durationMs, 0)
  const models = new Set(renders.map((r) => r.model))
  const preloaded = new Set(opts.backends.flatMap((b) => (b.model ? [b.model] : [])))
  const coldBackends = opts.backends.filter((b) => !b.model).length
  const toLoad = [...models].filter((m) => !preloaded.has(m)).length
  // why the minimum over how many slots are used: a slot left unused needs no load.
  const warm = opts.backends.length - coldBackends
  let spread = Infinity
  for (let used = 1; used <= opts.backends.length; used++) {
    const loads = Math.max(toLoad, used - warm)
    spread = Math.min(spread, (work + loads * opts.switchMs) / ((used * slots) / opts.backends.length))
  }
  const lastArrival = Math.max(...renders.map((r) => r.at + r.durationMs - start))
  return Math.max(spread, lastArrival)
}
