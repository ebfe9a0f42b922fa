// The scheduler benchmark's family of pools and workloads (issue 15): what a
// real deployment looks like, not one kind workload. Each scenario is a fleet
// and a list of renders for simulate(); measureScenario() reads a run the way
// the targets are stated. Times are in ms of a speed-1 backend's render (D).
import { seededRandom as random } from '#app/lib/seeded-random.ts'
import { percentile } from './support.ts'
import type { SimBackend, SimRender, SimResult, SimStart } from '#app/modules/scheduler/simulate.ts'

export interface Scenario {
  name: string
  backends: SimBackend[]
  /** Load time of a backend without its own. */
  switchMs: number
  /** Share of renders whose first start fails partway, and the draws' seed. */
  failureRate?: number
  seed?: number
  renders: SimRender[]
  /** Shops whose bulk runs overlap: their shares of throughput are compared. */
  bulkRuns?: string[]
  /** A shop that submits a burst of interactive renders: the others' waits during it are read. */
  burst?: { tenant: string; from: number }
}

/** Render and load of a speed-1 backend: the production policy's ratio (2.5). */
export const RENDER_MS = 20_000
const LOAD_MS = 2.5 * RENDER_MS

const workflows = (n: number): string[] =>
  [
    'model_swap:studio-white',
    'model_swap:street-paris',
    'product_scene:beach-dusk',
    'try_on:loft',
    'mannequin:cafe',
    'model_swap:tokyo-night',
  ].slice(0, n)

/** A model drawn with the given popularity (weights summing to 1), or uniformly. */
function pick(rand: () => number, models: string[], weights?: number[]): string {
  if (!weights) return models[Math.floor(rand() * models.length)]
  let u = rand()
  for (let i = 0; i < models.length; i++) if ((u -= weights[i]) < 0) return models[i]
  return models[models.length - 1]
}

interface Mix {
  rand: () => number
  models: string[]
  weights?: number[]
}

const duration = (rand: () => number): number => Math.round(RENDER_MS * (0.8 + 0.4 * rand()))

function bulkRun(mix: Mix, tenant: string, count: number, at: number): SimRender[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${tenant}-b${i}`,
    tenant,
    workClass: 'bulk' as const,
    model: pick(mix.rand, mix.models, mix.weights),
    at,
    durationMs: duration(mix.rand),
  }))
}

/** Interactive renders from `shops` shops, each a Poisson stream `gap` renders apart, until `until`. */
function trickle(mix: Mix, shops: number, gap: number, until: number): SimRender[] {
  const out: SimRender[] = []
  for (let s = 0; s < shops; s++) {
    const tenant = `shop-${s}`
    let at = -Math.log(1 - mix.rand()) * gap * RENDER_MS
    for (let n = 0; at < until; n++) {
      out.push({
        id: `${tenant}-i${n}`,
        tenant,
        workClass: 'interactive',
        model: pick(mix.rand, mix.models, mix.weights),
        at: Math.round(at),
        durationMs: duration(mix.rand),
      })
      at += -Math.log(1 - mix.rand()) * gap * RENDER_MS
    }
  }
  return out
}

const gpus = (n: number, spec: Omit<SimBackend, 'id'> = {}, from = 1): SimBackend[] =>
  Array.from({ length: n }, (_, i) => ({ id: `gpu-${from + i}`, ...spec }))

/** The family: identical GPUs with 3 and 6 workflows, mixed speeds, staggered bulk runs, failures with an outage, a burst. */
export function scenarios(seed: number, bulk = 2000): Scenario[] {
  const out: Scenario[] = []
  for (const n of [3, 6]) {
    const mix = { rand: random(seed), models: workflows(n) }
    const horizon = ((bulk * RENDER_MS) / 4) * 0.9
    out.push({
      name: `identical-${n}`,
      backends: gpus(4),
      switchMs: LOAD_MS,
      renders: [...bulkRun(mix, 'shop-bulk', bulk, 0), ...trickle(mix, 5, 40, horizon)],
    })
  }
  {
    const mix = { rand: random(seed + 1), models: workflows(4), weights: [0.4, 0.3, 0.2, 0.1] }
    const count = Math.round(bulk * 0.75)
    // Capacity 2 + 2 / 2.5 = 2.8 fast GPUs.
    const horizon = ((count * RENDER_MS) / 2.8) * 0.9
    out.push({
      name: 'mixed-speeds',
      backends: [...gpus(2), ...gpus(2, { speed: 2.5, loadMs: 2.5 * LOAD_MS }, 3)],
      switchMs: LOAD_MS,
      renders: [...bulkRun(mix, 'shop-bulk', count, 0), ...trickle(mix, 5, 40, horizon)],
    })
  }
  {
    const mix = { rand: random(seed + 2), models: workflows(4) }
    const each = Math.round(bulk * 0.3)
    const runs = ['shop-a', 'shop-b', 'shop-c']
    const horizon = ((3 * each * RENDER_MS) / 4) * 0.9
    out.push({
      name: 'staggered-bulk',
      backends: gpus(4),
      switchMs: LOAD_MS,
      renders: [...runs.flatMap((t, k) => bulkRun(mix, t, each, k * 50 * RENDER_MS)), ...trickle(mix, 12, 120, horizon)],
      bulkRuns: runs,
    })
  }
  {
    const mix = { rand: random(seed + 4), models: workflows(3) }
    const count = Math.round(bulk * 0.75)
    const horizon = ((count * RENDER_MS) / 4) * 0.9
    out.push({
      name: 'failures',
      // One GPU down for a fifth of the run, early in it.
      backends: [...gpus(1), { id: 'gpu-2', down: [{ from: horizon * 0.2, until: horizon * 0.4 }] }, ...gpus(2, {}, 3)],
      switchMs: LOAD_MS,
      failureRate: 0.05,
      seed,
      renders: [...bulkRun(mix, 'shop-bulk', count, 0), ...trickle(mix, 5, 40, horizon)],
    })
  }
  {
    const mix = { rand: random(seed + 3), models: workflows(3) }
    const count = Math.round(bulk / 2)
    const horizon = ((count * RENDER_MS) / 4) * 0.9
    const from = 100 * RENDER_MS
    const burst: SimRender[] = Array.from({ length: 200 }, (_, i) => ({
      id: `shop-burst-i${i}`,
      tenant: 'shop-burst',
      workClass: 'interactive',
      model: pick(mix.rand, mix.models),
      at: from + Math.round(mix.rand() * 5_000),
      durationMs: duration(mix.rand),
    }))
    out.push({
      name: 'burst',
      backends: gpus(4),
      switchMs: LOAD_MS,
      renders: [...bulkRun(mix, 'shop-bulk', count, 0), ...trickle(mix, 5, 20, horizon), ...burst],
      burst: { tenant: 'shop-burst', from },
    })
  }
  return out
}

export interface ScenarioFigures {
  makespan: number
  /** Interactive delays (`delays`; a burst's own shop left out), sorted. */
  interactive: number[]
  /**
   * Share of those that waited for a model load: with a load of 2.5 renders,
   * past 5 % no schedule of this pool gets the p95 under 1.5 without holding
   * that model somewhere already.
   */
  interactiveLoaded: number
  loads: number
  /** Other shops' interactive p95 (renders) while the burst was being served; NaN without a burst. */
  othersDuringBurst: number
  /** Largest distance of a concurrent bulk run's share of throughput from an equal share, in points; NaN without. */
  bulkShareSpread: number
}

export function measureScenario(s: Scenario, r: SimResult): ScenarioFigures {
  const byId = new Map(s.renders.map((x) => [x.id, x]))
  const mine = interactiveStarts(r.starts, byId, s.burst?.tenant)
  return {
    makespan: r.makespanMs,
    interactive: delays(s, mine, byId).sort((a, b) => a - b),
    interactiveLoaded: mine.length === 0 ? 0 : mine.filter((x) => x.switched).length / mine.length,
    loads: r.loads,
    othersDuringBurst: s.burst ? othersDuringBurst(s, r, byId) : Number.NaN,
    bulkShareSpread: s.bulkRuns ? shareSpread(s.bulkRuns, r, byId) : Number.NaN,
  }
}

/** The interactive renders' starts, a shop's (a burst's own) left out. */
function interactiveStarts(starts: SimStart[], byId: Map<string, SimRender>, leaveOut?: string): SimStart[] {
  return starts.filter((x) => byId.get(x.id)!.workClass === 'interactive' && byId.get(x.id)!.tenant !== leaveOut)
}

/**
 * Per start, how much later its result came than on an idle fastest backend
 * holding its model, in renders of that backend: the wait and any slowness
 * of the backend it ran on (a load included).
 */
function delays(s: Scenario, starts: SimStart[], byId: Map<string, SimRender>): number[] {
  const quickest = Math.min(...s.backends.map((b) => b.speed ?? 1))
  return starts.map((x) => {
    const render = byId.get(x.id)!
    return (x.endAt - render.at - render.durationMs * quickest) / (RENDER_MS * quickest)
  })
}

/** p95 of the other shops' interactive delays among renders submitted from the burst's start until its last render started. */
function othersDuringBurst(s: Scenario, r: SimResult, byId: Map<string, SimRender>): number {
  const burst = s.burst!
  const burstEnd = Math.max(...r.starts.filter((x) => byId.get(x.id)!.tenant === burst.tenant).map((x) => x.startAt))
  const inBurst = r.starts.filter((x) => {
    const render = byId.get(x.id)!
    return render.at >= burst.from && render.at <= burstEnd
  })
  const late = delays(s, interactiveStarts(inBurst, byId, burst.tenant), byId).sort((a, b) => a - b)
  return late.length === 0 ? 0 : percentile(late, 95)
}

/** Over the time every run had work (last run's start → first run's last completion): each run's share of bulk completions. */
function shareSpread(runs: string[], r: SimResult, byId: Map<string, SimRender>): number {
  const from = Math.max(...runs.map((t) => Math.min(...[...byId.values()].filter((x) => x.tenant === t).map((x) => x.at))))
  const until = Math.min(
    ...runs.map((t) => Math.max(...r.starts.filter((x) => byId.get(x.id)!.tenant === t).map((x) => x.endAt))),
  )
  const done = new Map(runs.map((t) => [t, 0]))
  for (const x of r.starts) {
    const t = byId.get(x.id)!.tenant
    if (done.has(t) && x.endAt > from && x.endAt <= until) done.set(t, done.get(t)! + 1)
  }
  const total = [...done.values()].reduce((a, b) => a + b, 0)
  if (total === 0) return 0
  return Math.max(...[...done.values()].map((n) => Math.abs(n / total - 1 / runs.length))) * 100
}

/**
 * A floor under the interactive p95 (renders of the fastest backend) for any
 * scheduler that does not know future submissions. Each backend of the
 * fastest speed holds one model, so at most that many models are ready there
 * when a render arrives; its model is drawn independently of the past, so
 * at best the most requested ones are held. A render of any other model
 * either waits for a load on a fastest backend or runs on a slower one that
 * holds it, idle: the cheaper of the two is its floor, the others' is 0.
 */
export function interactiveFloor(s: Scenario): number {
  const byId = new Map(s.renders.map((x) => [x.id, x]))
  const mine = s.renders.filter((x) => x.workClass === 'interactive' && x.tenant !== s.burst?.tenant)
  if (mine.length === 0) return 0
  const quickest = Math.min(...s.backends.map((b) => b.speed ?? 1))
  const fastest = s.backends.filter((b) => (b.speed ?? 1) === quickest)
  const slower = s.backends.filter((b) => (b.speed ?? 1) > quickest)
  const held = fastest.reduce((n, b) => n + (b.slots ?? 1), 0)
  const counts = new Map<string, number>()
  for (const x of mine) counts.set(x.model, (counts.get(x.model) ?? 0) + 1)
  const ready = new Set(
    [...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, held)
      .map(([m]) => m),
  )
  const unit = RENDER_MS * quickest
  const load = Math.min(...fastest.map((b) => b.loadMs ?? s.switchMs)) / unit
  const floors = mine.map((x) => {
    if (ready.has(x.model)) return 0
    const r = byId.get(x.id)!
    const slowest = Math.min(Infinity, ...slower.map((b) => ((b.speed ?? 1) - quickest) * r.durationMs))
    return Math.min(load, slowest / unit)
  })
  return percentile(
    floors.sort((a, b) => a - b),
    95,
  )
}
