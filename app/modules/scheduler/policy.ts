// The scheduling policy: which waiting render a backend with a free slot runs
// next. Pure (no I/O, no clock of its own) so the same code drives the
// discrete-event simulation (simulate.ts), the benchmark and the Redis
// dispatcher (dispatcher.server.ts). See docs/decisions/006-scheduler.md.
import type { BackendType } from '#app/modules/looks/schema.ts'
import { freeIn, loadTime, renderTime } from './timing.ts'
import { fairest, roundRobin, roundRobinOrder } from './turns.ts'

// why re-exported: the scheduler's callers read "the same model" here; backends own the key they report.
export { modelKey } from '#app/modules/backends/model-key.ts'
// why re-exported: callers read the policy's whole surface here.
export { learnTiming, renderTime, TIMING_WEIGHT } from './timing.ts'
export { fairest, roundRobin } from './turns.ts'

export type WorkClass = 'interactive' | 'bulk'
export type CircuitState = 'closed' | 'open' | 'half-open'

/** What a render asks of a backend. */
export interface Needs {
  operation: string
  persona: boolean
  /** Longest output edge, px. */
  edge: number
  /** The render carries the merchant's mask (backends that need a garment mask for the operation require it). */
  masked?: boolean
  /** Only backends of this type (interchangeable servers of one kind). */
  type?: BackendType
  /** Only these backends (a render made for one in-process backend). */
  only?: readonly string[]
  /**
   * Backends of other types that can realise the look too: the render fails
   * over to them when no backend of its own type is usable.
   */
  fallback?: readonly string[]
}

/** Measured times of a render and of a model load, ms (moving averages). */
export interface Timing {
  renderMs?: number
  loadMs?: number
}

export interface BackendView {
  id: string
  /** What a second of its time costs (Settings → GPU backends); among free backends the cheaper is served first. */
  costPerSecond?: number
  type: BackendType
  operations: readonly string[]
  personas: boolean
  maxEdge: number
  slots: number
  /** Renders dispatched to it and not yet completed. */
  busy: number
  /** The model it has loaded (or was last given); undefined = cold. */
  model?: string
  /** False for backends with nothing to load (the CPU studio): affinity does not apply. */
  switchesModels: boolean
  circuit: CircuitState
  /** Not answering since then (a render could not reach it, or a health check failed); undefined = answering. */
  downSince?: number
  /** Consecutive faults (failed renders and health checks) since it last rendered or answered. */
  faults?: number
  /** Operations it does only with the merchant's garment mask. */
  garmentMaskFor?: readonly string[]
  /** Its typical render and model load, measured (moving averages); unmeasured: the policy's renderMs and switchMs. */
  renderMs?: number
  loadMs?: number
  /** The same per model (workflows differ several-fold); a model not measured here takes the backend's. */
  byModel?: Record<string, Timing>
  /** When its oldest render in flight was dispatched. */
  busySince?: number
}

/** Waiting renders that are alike: same class, tenant, model and constraints; FIFO inside. */
export interface GroupView {
  key: string
  workClass: WorkClass
  tenant: string
  model: string
  needs: Needs
  /** Backends this work failed on (failover: tried elsewhere first). */
  excluded: readonly string[]
  count: number
  oldestSeq: number
  oldestAt: number
}

export interface WorkView {
  groups: GroupView[]
  /** The tenant served last, per class (round robin). */
  cursor: Partial<Record<WorkClass, string>>
  /** When each model last had interactive work submitted. */
  interactiveSeen: Record<string, number>
  /** When each model last had a render dispatched: how long its work has gone without a GPU (absent: never). */
  lastServed?: Record<string, number>
  /** When each tenant last had a render dispatched, of any model. */
  tenantServed?: Record<string, number>
  /** Each tenant's place in the order of bulk dispatches (higher = served more recently). */
  bulkTurn?: Record<string, number>
  /** Renders each tenant has dispatched and not yet completed. */
  inflight?: Record<string, number>
}

export interface PolicyConfig {
  /** A typical render, and what loading another model costs; only their ratio and the ages below matter. */
  renderMs: number
  switchMs: number
  /** A model that had interactive work this recently is kept loaded on at least one backend. */
  interactiveMemoryMs: number
  /** Work whose model nobody holds gets a backend by force after waiting this long. */
  starvationMs: number
  /** Renders per holder that make the last holder of an interactive model leave it for a bulk group. */
  bigGroupRenders: number
  /** Share of the answering backends' slots past which a shop's interactive turn comes after every other shop's. */
  shopSlotShare: number
}

export const defaultPolicy: PolicyConfig = {
  renderMs: 20_000,
  switchMs: 50_000,
  interactiveMemoryMs: 30 * 60_000,
  starvationMs: 10 * 60_000,
  bigGroupRenders: 10,
  shopSlotShare: 0.5,
}

export interface Assignment {
  backend: string
  group: string
  /** The backend loads another model for it. */
  switched: boolean
}

type Abilities = Pick<BackendView, 'id' | 'type' | 'operations' | 'personas' | 'maxEdge' | 'garmentMaskFor'>

export function capable(b: Abilities, needs: Needs): boolean {
  return (!needs.only || needs.only.includes(b.id)) && (!needs.type || b.type === needs.type) && does(b, needs)
}

/** The operation, persona, size and mask the work asks for, whatever the backend's type. */
function does(b: Abilities, needs: Needs): boolean {
  return (
    b.operations.includes(needs.operation) &&
    (!needs.persona || b.personas) &&
    b.maxEdge >= needs.edge &&
    (needs.masked === undefined || needs.masked || !b.garmentMaskFor?.includes(needs.operation))
  )
}

/** A backend of another type the render may fail over to. */
export function fallbackFor(b: Abilities, needs: Needs): boolean {
  return !!needs.fallback?.includes(b.id) && does(b, needs)
}

/** Can this backend run the work at all: one of its type, or a fallback of another type. */
export function canTake(b: Abilities, needs: Needs): boolean {
  return capable(b, needs) || fallbackFor(b, needs)
}

/** Answering, circuit not open, and the work has not failed on it. */
function usableFor(b: BackendView, g: GroupView): boolean {
  return b.circuit !== 'open' && b.downSince === undefined && !g.excluded.includes(b.id)
}

/**
 * The work failed on `b` in the only fault `b` has had since it last rendered,
 * `b` still answers and holds the model, and no other usable backend holds it:
 * the work is retried there. why: failing over would load the model elsewhere
 * (a load is several renders) for what was most likely a one-off; a second
 * fault in a row moves it (ADR 006).
 */
function retryInPlace(b: BackendView, g: GroupView, backends: readonly BackendView[]): boolean {
  return (
    g.excluded.includes(b.id) &&
    b.switchesModels &&
    b.model === g.model &&
    b.circuit === 'closed' &&
    b.downSince === undefined &&
    (b.faults ?? 0) <= 1 &&
    !backends.some((o) => o.id !== b.id && o.model === g.model && capable(o, g.needs) && usableFor(o, g))
  )
}

/** Slots a backend offers now: none while its circuit is open, one probe when half-open. */
export function freeSlots(b: BackendView): number {
  if (b.circuit === 'open') return 0
  if (b.circuit === 'half-open') return b.busy > 0 ? 0 : 1
  return Math.max(0, b.slots - b.busy)
}

/**
 * Can `b` take this work? A backend of the render's type that answers and
 * where it has not failed: yes. A fallback of another type: only when no
 * backend of its type is usable. One that is down, open or failed it: only
 * when no other backend is left to try (then it is retried where it is).
 */
export function eligible(b: BackendView, g: GroupView, backends: readonly BackendView[]): boolean {
  const primary = capable(b, g.needs)
  if (!primary && !fallbackFor(b, g.needs)) return false
  if (primary && (usableFor(b, g) || retryInPlace(b, g, backends))) return true
  if (!primary && backends.some((o) => capable(o, g.needs) && usableFor(o, g))) return false
  if (usableFor(b, g)) return true
  return !backends.some((o) => o.id !== b.id && canTake(o, g.needs) && usableFor(o, g))
}

/**
 * The next render to dispatch, as (backend, group), or undefined when no free
 * backend should take anything now. Call again after applying it.
 *
 * In order:
 * 1. interactive work, shops in turn: on a free backend that has its model,
 *    or, when nobody (usable) holds its model, loaded on an idle backend that
 *    is cold, has nothing left to do, is not the last holder of its model, or
 *    holds only bulk work;
 * 2. a second holder for interactive work whose backlog per holder is longer
 *    than a model load (never the last holder of another model);
 * 3. bulk work: a backend switches when its model has no work left and
 *    another's would take longer than a load, when a model with work has no
 *    holder, or (holding a model with others) when its model can be finished
 *    by the others in time and another model is behind; otherwise it stays
 *    on its model. The last holder of a model interactive users had recently
 *    stays unless a large bulk group would otherwise idle.
 * Interactive work: shops in turn (round robin); bulk work: the shop served
 * longest ago (fairest); inside a shop, oldest first. A shop holding its
 * share of the slots (shopSlotShare) or more takes its interactive turn
 * after every other shop's: it gets another slot only when no other shop's
 * work can use it.
 */
export function nextAssignment(
  backends: readonly BackendView[],
  work: WorkView,
  now: number,
  config: Partial<PolicyConfig> = {},
): Assignment | undefined {
  const cfg = { ...defaultPolicy, ...config }
  const capped = atCap(backends, work, cfg)
  const loadCost = cfg.switchMs / cfg.renderMs
  // why by cost: when several servers could take the work, the cheaper one's time is spent first (stable: equal costs keep their order).
  const free = backends.filter((b) => freeSlots(b) > 0).sort((a, b) => (a.costPerSecond ?? 0) - (b.costPerSecond ?? 0))
  if (free.length === 0) return undefined
  const groups = work.groups.filter((g) => g.count > 0)
  if (groups.length === 0) return undefined

  const usableSwitching = backends.filter((b) => b.switchesModels && b.circuit !== 'open')
  // why "can take its work": a holder the work failed on (excluded) does not
  // serve it, and counting it would leave the work waiting for nobody.
  const holders = new Map<string, number>()
  for (const b of usableSwitching) {
    if (b.model === undefined) continue
    const ofModel = groups.filter((g) => g.model === b.model)
    if (ofModel.length === 0 || ofModel.some((g) => eligible(b, g, backends)))
      holders.set(b.model, (holders.get(b.model) ?? 0) + 1)
  }
  const mineOf = (b: BackendView) => groups.filter((g) => eligible(b, g, backends))
  const assign = (b: BackendView, g: GroupView): Assignment => ({
    backend: b.id,
    group: g.key,
    switched: b.switchesModels && b.model !== g.model,
  })

  // 1–2. Interactive work, shops in turn.
  const interactive = interactiveAssignment(free, groups, backends, usableSwitching, holders, work, now, cfg, capped)
  if (interactive) return assign(interactive.b, interactive.g)

  // 3. Bulk work (and interactive work reached by a switch decided here).
  for (const b of free) {
    if (!b.switchesModels) {
      const any = groups.filter((g) => g.workClass === 'bulk' && eligible(b, g, backends))
      if (any.length > 0) return assign(b, fairest(any, work))
      continue
    }
    const own = groups.filter((g) => g.workClass === 'bulk' && g.model === b.model && eligible(b, g, backends))
    // why: a GPU holds one model; a multi-slot backend only changes it when idle.
    const target =
      b.busy === 0 ? switchTarget(b, mineOf(b), holders, usableSwitching.length, work, now, cfg, loadCost) : undefined
    if (target !== undefined) {
      const there = groups.filter((g) => g.model === target && eligible(b, g, backends))
      const inClass = there.filter((g) => g.workClass === 'interactive')
      return assign(b, inClass.length > 0 ? roundRobin(inClass, work.cursor.interactive, capped) : fairest(there, work))
    }
    if (own.length > 0) return assign(b, fairest(own, work))
  }
  return undefined
}

/** Shops holding their share of the answering slots (PolicyConfig.shopSlotShare) or more: their interactive turns come last. */
function atCap(backends: readonly BackendView[], work: WorkView, cfg: PolicyConfig): Set<string> {
  const out = new Set<string>()
  if (!work.inflight) return out
  const slots = backends.reduce((n, b) => n + (b.circuit === 'open' || b.downSince !== undefined ? 0 : b.slots), 0)
  const cap = Math.max(1, Math.floor(slots * cfg.shopSlotShare))
  for (const [tenant, n] of Object.entries(work.inflight)) if (n >= cap) out.add(tenant)
  return out
}

/**
 * Interactive work, shops in turn (round robin from the cursor), each shop's
 * oldest group first. A group goes to a free backend that holds its model. If
 * nobody usable holds it, or its holders' backlog is longer than a load (and
 * it is its model's largest group: a shop's single render takes the holder's
 * next slot rather than wait for a load), an idle backend loads it, one that
 * is cold, has nothing left to do, is not the last holder of its model, or
 * holds only bulk work. Otherwise the next shop gets its turn. why shops
 * first: placed backend by backend, a free GPU always took the interactive
 * work of the model it held, so while one shop's burst kept every GPU busy on
 * its models, another shop's render whose model nobody held waited for the
 * whole burst (issue 15).
 */
function interactiveAssignment(
  free: readonly BackendView[],
  groups: readonly GroupView[],
  backends: readonly BackendView[],
  switching: readonly BackendView[],
  holders: Map<string, number>,
  work: WorkView,
  now: number,
  cfg: PolicyConfig,
  capped: ReadonlySet<string>,
): { b: BackendView; g: GroupView } | undefined {
  const loadCost = cfg.switchMs / cfg.renderMs
  const interactive = groups.filter((g) => g.workClass === 'interactive')
  if (interactive.length === 0) return undefined
  const pendingInteractive = new Map<string, number>()
  const largest = new Map<string, GroupView>()
  for (const g of interactive) {
    pendingInteractive.set(g.model, (pendingInteractive.get(g.model) ?? 0) + g.count)
    const top = largest.get(g.model)
    if (!top || g.count > top.count) largest.set(g.model, g)
  }
  const pendingOf = (b: BackendView, model: string) =>
    groups.filter((g) => g.model === model && eligible(b, g, backends)).reduce((n, g) => n + g.count, 0)
  const loader = (g: GroupView, worst: number): BackendView | undefined => {
    let best: { b: BackendView; rank: number; ends: number } | undefined
    for (const b of free) {
      if (!b.switchesModels || b.busy > 0 || !eligible(b, g, backends)) continue
      const cur = b.model
      const rank =
        cur === undefined
          ? 0
          : pendingOf(b, cur) === 0
            ? 1
            : (holders.get(cur) ?? 0) >= 2
              ? 2
              : (pendingInteractive.get(cur) ?? 0) === 0
                ? 3
                : undefined
      const ends = loadTime(b, cfg, g.model) + renderTime(b, cfg, g.model)
      if (rank !== undefined && rank <= worst && (!best || rank < best.rank || (rank === best.rank && ends < best.ends)))
        best = { b, rank, ends }
    }
    return best?.b
  }
  const ready = (g: GroupView) => switching.filter((o) => o.model === g.model && eligible(o, g, backends)).length
  // Renders left waiting for a faster holder in this pass, per model: they go before the next one.
  const deferred = new Map<string, number>()
  for (const g of roundRobinOrder(interactive, work.cursor.interactive, capped)) {
    const holds = (b: BackendView) => (!b.switchesModels || b.model === g.model) && eligible(b, g, backends)
    const holder = free.find(holds)
    if (holder) {
      // why: a free slow GPU that has the model is not the quickest result when a fast one holding it
      // is about to free. Only a clearly faster one (FASTER): alike GPUs' estimates differ by noise.
      const ahead = deferred.get(g.model) ?? 0
      const mine = renderTime(holder, cfg, g.model)
      const faster = backends.some((o) => {
        if (o === holder || freeSlots(o) > 0 || !holds(o)) return false
        const theirs = renderTime(o, cfg, g.model)
        return theirs * FASTER < mine && freeIn(o, now, cfg) + (ahead + 1) * theirs < mine
      })
      if (!faster) return { b: holder, g }
      deferred.set(g.model, ahead + 1)
      continue
    }
    const b = ready(g) === 0 ? loader(g, 3) : undefined
    if (b) return { b, g }
  }
  // Then a second holder for the longest backlog that is longer than a load; never
  // the last holder of another model (its shops' next render would wait for a load).
  const behind = [...largest.values()].filter((g) => ready(g) > 0 && pendingInteractive.get(g.model)! / ready(g) > loadCost)
  for (const g of behind.sort((a, b) => b.count - a.count)) {
    const b = loader(g, 2)
    if (b) return { b, g }
  }
  return undefined
}

/** How much quicker a backend's render must be for interactive work to wait for it rather than take a free one. */
const FASTER = 1.25

/** Waiting renders per model (count, oldest) among `groups`. */
function pendingByModel(groups: readonly GroupView[]): Map<string, { count: number; oldestAt: number }> {
  const byModel = new Map<string, { count: number; oldestAt: number }>()
  for (const g of groups) {
    const m = byModel.get(g.model) ?? { count: 0, oldestAt: Infinity }
    m.count += g.count
    m.oldestAt = Math.min(m.oldestAt, g.oldestAt)
    byModel.set(g.model, m)
  }
  return byModel
}

/** The model an idle switching backend should load now, if any; `mine` is the work it can take. */
function switchTarget(
  b: BackendView,
  mine: readonly GroupView[],
  holders: Map<string, number>,
  usable: number,
  work: WorkView,
  now: number,
  cfg: PolicyConfig,
  loadCost: number,
): string | undefined {
  const pending = pendingByModel(mine)
  const cur = b.model
  const others = [...pending.entries()].filter(([m, p]) => m !== cur && p.count > 0)
  if (others.length === 0) return undefined
  const held = (m: string) => holders.get(m) ?? 0
  const score = (m: string, count: number) => count / (held(m) + 1)
  const best = (candidates: [string, { count: number; oldestAt: number }][]) => {
    let pick: string | undefined
    let top = -Infinity
    for (const [m, p] of candidates) {
      // why unserved first: work nobody holds would otherwise wait for ever.
      const s = held(m) === 0 ? Infinity : score(m, p.count)
      if (s > top || (s === top && pick !== undefined && p.oldestAt < pending.get(pick)!.oldestAt)) {
        top = s
        pick = m
      }
    }
    return pick
  }
  const unserved = others.filter(([m]) => held(m) === 0)
  const curCount = cur === undefined ? 0 : (pending.get(cur)?.count ?? 0)

  if (cur === undefined || curCount === 0) {
    const seen = cur === undefined ? undefined : work.interactiveSeen[cur]
    const lastNeeded = cur !== undefined && held(cur) <= 1 && seen !== undefined && now - seen < cfg.interactiveMemoryMs
    const worth = others.filter(
      ([m, p]) => held(m) === 0 || (lastNeeded ? score(m, p.count) >= cfg.bigGroupRenders : p.count / held(m) > loadCost),
    )
    return best(worth)
  }

  if (held(cur) >= 2) {
    if (unserved.length > 0) return best(unserved)
    // why the estimate: with every model finished together the run ends soonest;
    // a holder leaves only when the others can finish its model by then.
    let total = 0
    for (const [, p] of pending) total += p.count
    const finishAll = total / Math.max(1, usable)
    if (curCount / (held(cur) - 1) > finishAll) return undefined
    const behind = others.filter(([m, p]) => p.count / held(m) - finishAll > loadCost)
    return best(behind)
  }

  // The only holder of a model that still has work: leaves only for work starving elsewhere.
  return starvingModel(mine, held, work, now, cfg)
}

/**
 * The model of the work that has gone longest without a GPU, if that is
 * longer than starvationMs: the time since its oldest render, since its model
 * last had a render dispatched and since its shop last had one, whichever is
 * shortest. why not its oldest render alone: a model just dropped has waited
 * no time without a GPU, however old its work, and a shop whose run renders on
 * other models is served; counted from the oldest render, work starves at
 * once, and every only holder drops its model for it after each render, a
 * reload storm (ADR 006).
 */
function starvingModel(
  groups: readonly GroupView[],
  held: (m: string) => number,
  work: WorkView,
  now: number,
  cfg: PolicyConfig,
): string | undefined {
  let pick: string | undefined
  let longest = cfg.starvationMs
  for (const g of groups) {
    if (g.count <= 0 || held(g.model) > 0) continue
    const since = Math.max(g.oldestAt, work.lastServed?.[g.model] ?? -Infinity, work.tenantServed?.[g.tenant] ?? -Infinity)
    if (now - since > longest) {
      longest = now - since
      pick = g.model
    }
  }
  return pick
}

/**
 * The naive baseline: the first free backend takes the oldest waiting render,
 * loading its model if needed. Only the simulation and the benchmark use it.
 */
export function fifoAssignment(backends: readonly BackendView[], work: WorkView): Assignment | undefined {
  for (const b of backends) {
    if (freeSlots(b) === 0) continue
    let oldest: GroupView | undefined
    for (const g of work.groups) {
      if (g.count > 0 && eligible(b, g, backends) && (!oldest || g.oldestSeq < oldest.oldestSeq)) oldest = g
    }
    if (oldest) return { backend: b.id, group: oldest.key, switched: b.switchesModels && b.model !== oldest.model }
  }
  return undefined
}

/**
 * Applies an assignment to the views, so the next decision sees it. `next` is
 * the group's new oldest render (undefined when the caller does not know it:
 * the old values are kept, which only affects ordering among one tenant's groups);
 * `now`, when given, is recorded as the last dispatch of the group's model and shop.
 */
export function applyAssignment(
  backends: BackendView[],
  work: WorkView,
  a: Assignment,
  next?: { seq: number; at: number } | null,
  now?: number,
): void {
  const b = backends.find((x) => x.id === a.backend)
  const g = work.groups.find((x) => x.key === a.group)
  if (!b || !g) return
  b.busy += 1
  if (b.switchesModels) b.model = g.model
  g.count -= 1
  if (work.inflight) work.inflight[g.tenant] = (work.inflight[g.tenant] ?? 0) + 1
  if (next) {
    g.oldestSeq = next.seq
    g.oldestAt = next.at
  }
  if (next === null) g.count = 0
  work.cursor[g.workClass] = g.tenant
  if (g.workClass === 'bulk') {
    const turns = (work.bulkTurn ??= {})
    turns[g.tenant] = Math.max(0, ...Object.values(turns)) + 1
  }
  if (now !== undefined) {
    ;(work.lastServed ??= {})[g.model] = now
    ;(work.tenantServed ??= {})[g.tenant] = now
  }
}
