import { describe, expect, it } from 'vitest'
import {
  applyAssignment,
  capable,
  freeSlots,
  learnTiming,
  modelKey,
  nextAssignment,
  type BackendView,
  type GroupView,
  type Needs,
  type PolicyConfig,
  type WorkClass,
  type WorkView,
} from './policy.ts'
import { makespanLowerBound, minimumLoads, simulate, type SimRender } from './simulate.ts'

const NEEDS: Needs = { operation: 'model_swap', persona: true, edge: 1024 }
// Loading a model costs 2.5 renders; interactive work is remembered for 100 renders.
const CONFIG: Partial<PolicyConfig> = { renderMs: 1000, switchMs: 2500, interactiveMemoryMs: 100_000, starvationMs: 20_000, bigGroupRenders: 10 }

function gpu(id: string, model?: string, extra: Partial<BackendView> = {}): BackendView {
  return {
    id,
    type: 'comfyui',
    operations: ['model_swap', 'scene_swap', 'product_scene'],
    personas: true,
    maxEdge: 2048,
    slots: 1,
    busy: 0,
    model,
    switchesModels: true,
    circuit: 'closed',
    ...extra,
  }
}

let seq = 0
function group(workClass: WorkClass, tenant: string, model: string, count: number, extra: Partial<GroupView> = {}): GroupView {
  seq += 1
  return {
    key: `${workClass}|${tenant}|${model}|${extra.excluded?.join(',') ?? ''}`,
    workClass,
    tenant,
    model,
    needs: NEEDS,
    excluded: [],
    count,
    oldestSeq: seq,
    oldestAt: 0,
    ...extra,
  }
}

function view(groups: GroupView[], extra: Partial<WorkView> = {}): WorkView {
  return { groups, cursor: {}, interactiveSeen: {}, ...extra }
}

function decide(backends: BackendView[], work: WorkView, now = 0) {
  const a = nextAssignment(backends, work, now, CONFIG)
  if (!a) return undefined
  const g = work.groups.find((x) => x.key === a.group)!
  return { ...a, tenant: g.tenant, model: g.model, workClass: g.workClass }
}

/** Dispatches to one 1-slot backend n times, freeing it after each render; returns the tenants served. */
function serveInTurn(backend: BackendView, work: WorkView, n: number): string[] {
  const served: string[] = []
  for (let i = 0; i < n; i++) {
    const a = nextAssignment([backend], work, 0, CONFIG)
    if (!a) break
    served.push(work.groups.find((g) => g.key === a.group)!.tenant)
    applyAssignment([backend], work, a)
    backend.busy = 0
  }
  return served
}

describe('modelKey', () => {
  it('derives the model from operation and scene, so variants and personas of one look share it', () => {
    expect(modelKey({ operation: 'model_swap', sceneId: 'studio-white' })).toBe('model_swap:studio-white')
    expect(modelKey({ operation: 'model_swap', sceneId: 'studio-white' })).not.toBe(modelKey({ operation: 'scene_swap', sceneId: 'studio-white' }))
  })
})

describe('capability', () => {
  it('takes only work the backend can do: operation, persona, size, type and pinned backends', () => {
    const b = gpu('gpu-1')
    expect(capable(b, NEEDS)).toBe(true)
    expect(capable(b, { ...NEEDS, operation: 'tryon' })).toBe(false)
    expect(capable({ ...b, personas: false }, NEEDS)).toBe(false)
    expect(capable(b, { ...NEEDS, edge: 4096 })).toBe(false)
    expect(capable(b, { ...NEEDS, type: 'sdwebui' })).toBe(false)
    expect(capable(b, { ...NEEDS, only: ['gpu-2'] })).toBe(false)
    expect(capable(b, { ...NEEDS, only: ['gpu-1'], type: 'comfyui' })).toBe(true)
    const work = view([group('bulk', 'a', 'm1', 3, { needs: { ...NEEDS, operation: 'tryon' } })])
    expect(decide([b], work)).toBeUndefined()
  })
})

describe('classes and fairness', () => {
  it('runs interactive work before bulk work, even when the bulk work is older', () => {
    const work = view([group('bulk', 'big', 'm1', 500), group('interactive', 'small', 'm1', 1)])
    expect(decide([gpu('gpu-1', 'm1')], work)).toMatchObject({ tenant: 'small', workClass: 'interactive' })
  })

  it("takes turns between tenants: one shop's 10,000 bulk renders never starve another's single render", () => {
    const work = view([group('bulk', 'big', 'm1', 10_000), group('bulk', 'small', 'm1', 1)])
    const served = serveInTurn(gpu('gpu-1', 'm1'), work, 4)
    expect(served.slice(0, 2).sort()).toEqual(['big', 'small'])
    expect(served.slice(2)).toEqual(['big', 'big'])
  })

  it('rotates through every tenant in a class before serving one twice', () => {
    const work = view(['t1', 't2', 't3'].map((t) => group('interactive', t, 'm1', 5)))
    expect(serveInTurn(gpu('gpu-1', 'm1'), work, 6)).toEqual(['t1', 't2', 't3', 't1', 't2', 't3'])
  })

  it('keeps a tenant’s own renders in order (oldest group first)', () => {
    const newer = group('bulk', 't1', 'm1', 1)
    const older = { ...group('bulk', 't1', 'm1', 1), key: 'older', oldestSeq: 0 }
    const a = decide([gpu('gpu-1', 'm1')], view([newer, older]))
    expect(a?.group).toBe('older')
  })
})

describe('model affinity', () => {
  it('gives each backend work for the model it already has', () => {
    const backends = [gpu('gpu-1', 'm1'), gpu('gpu-2', 'm2')]
    const work = view([group('bulk', 't', 'm2', 50), group('bulk', 't', 'm1', 50)])
    const first = decide(backends, work)!
    applyAssignment(backends, work, first)
    const second = decide(backends, work)!
    expect([first, second].map((a) => `${a.backend}:${a.model}`).sort()).toEqual(['gpu-1:m1', 'gpu-2:m2'])
    expect(first.switched || second.switched).toBe(false)
  })

  it('makes interactive work wait for the busy backend that has its model rather than load it on an idle one', () => {
    const backends = [gpu('gpu-1', 'm1', { busy: 1 }), gpu('gpu-2', 'm2')]
    const work = view([group('interactive', 't', 'm1', 1)])
    expect(decide(backends, work)).toBeUndefined()
  })

  it('loads a model for interactive work nobody has loaded, on the backend that can best spare it', () => {
    // gpu-1 is the last holder of m1 with work left; gpu-2 holds m2, which gpu-3 holds too.
    const backends = [gpu('gpu-1', 'm1'), gpu('gpu-2', 'm2'), gpu('gpu-3', 'm2', { busy: 1 })]
    const work = view([group('bulk', 'big', 'm1', 100), group('bulk', 'big', 'm2', 100), group('interactive', 'shop', 'm3', 1)])
    expect(decide(backends, work)).toMatchObject({ backend: 'gpu-2', model: 'm3', switched: true })
  })

  it('switches a backend whose model has no work left to a model whose backlog is longer than a load', () => {
    const backends = [gpu('gpu-1', 'm1'), gpu('gpu-2', 'm2', { busy: 1 })]
    expect(decide(backends, view([group('bulk', 't', 'm2', 40)]))).toMatchObject({ backend: 'gpu-1', model: 'm2', switched: true })
    // Two renders behind a holder finish sooner than a load: stay.
    expect(decide(backends, view([group('bulk', 't', 'm2', 2)]))).toBeUndefined()
  })

  it('gives work whose model nobody holds a backend at once, from a model that has other holders', () => {
    const backends = [gpu('gpu-1', 'm1'), gpu('gpu-2', 'm1', { busy: 1 })]
    const work = view([group('bulk', 'big', 'm1', 1000), group('bulk', 'small', 'm2', 1)])
    expect(decide(backends, work)).toMatchObject({ backend: 'gpu-1', tenant: 'small', switched: true })
  })

  it('keeps the last copy of a model interactive users had recently, unless a large bulk group would idle', () => {
    const seen = { interactiveSeen: { m1: 0 } }
    const backends = [gpu('gpu-1', 'm1'), gpu('gpu-2', 'm2', { busy: 1 })]
    expect(decide(backends, view([group('bulk', 't', 'm2', 12)], seen), 10)).toBeUndefined()
    expect(decide(backends, view([group('bulk', 't', 'm2', 30)], seen), 10)).toMatchObject({ backend: 'gpu-1', switched: true })
    // Once interactive users have not needed m1 for a while, the smaller group is worth the load.
    expect(decide(backends, view([group('bulk', 't', 'm2', 12)], seen), 500_000)).toMatchObject({ backend: 'gpu-1', switched: true })
  })

  it('moves a second holder to the model that is behind, and not before its own model can be finished without it', () => {
    const backends = [gpu('gpu-1', 'm1'), gpu('gpu-2', 'm1', { busy: 1 }), gpu('gpu-3', 'm2', { busy: 1 })]
    // m1: 400 left on two holders, m2: 400 on one. Estimated finish 800/3 ≈ 267; m1 without gpu-1 takes 400: stay.
    expect(decide(backends, view([group('bulk', 't', 'm1', 400), group('bulk', 't', 'm2', 400)]))).toMatchObject({ model: 'm1', switched: false })
    // m1: 100 left; m2: 400. Finish ≈ 167; m1 without gpu-1 takes 100 ≤ 167, m2 per holder 400: move.
    expect(decide(backends, view([group('bulk', 't', 'm1', 100), group('bulk', 't', 'm2', 400)]))).toMatchObject({ model: 'm2', switched: true })
  })

  it('lets the only holder of a model leave it only for work that has starved', () => {
    const backends = [gpu('gpu-1', 'm1'), gpu('gpu-2', 'm2', { busy: 1 })]
    const starved = group('bulk', 'small', 'm3', 1, { oldestAt: 0 })
    expect(decide(backends, view([group('bulk', 'big', 'm1', 100), starved]), 5_000)).toMatchObject({ model: 'm1', switched: false })
    expect(decide(backends, view([group('bulk', 'big', 'm1', 100), starved]), 25_000)).toMatchObject({ model: 'm3', switched: true })
  })

  it("counts starving from when a model's work last had a GPU, not from its oldest render", () => {
    const backends = [gpu('gpu-1', 'm1'), gpu('gpu-2', 'm2', { busy: 1 })]
    const old = () => group('bulk', 'small', 'm3', 50, { oldestAt: 0 })
    // m3's work is an hour old, but a GPU rendered it 5 s ago: dropping m1 for it would start a reload storm.
    const justServed = view([group('bulk', 'big', 'm1', 100), old()], { lastServed: { m3: 3_595_000 } })
    expect(decide(backends, justServed, 3_600_000)).toMatchObject({ model: 'm1', switched: false })
    const longAgo = view([group('bulk', 'big', 'm1', 100), old()], { lastServed: { m3: 3_500_000 } })
    expect(decide(backends, longAgo, 3_600_000)).toMatchObject({ model: 'm3', switched: true })
  })

  it("does not count a shop's work as starving while its run renders on other models", () => {
    const backends = [gpu('gpu-1', 'm1'), gpu('gpu-2', 'm2', { busy: 1 })]
    const work = (tenantServed: Record<string, number>) =>
      view([group('bulk', 'run', 'm1', 100), group('bulk', 'run', 'm3', 100, { oldestAt: 0 })], { tenantServed })
    expect(decide(backends, work({ run: 3_599_000 }), 3_600_000)).toMatchObject({ model: 'm1', switched: false })
    // Another shop's work on m3, whose shop has had nothing for an hour, does starve.
    const other = view([group('bulk', 'run', 'm1', 100), group('bulk', 'small', 'm3', 1, { oldestAt: 0 })], { tenantServed: { run: 3_599_000 } })
    expect(decide(backends, other, 3_600_000)).toMatchObject({ model: 'm3', switched: true })
  })

  it('records the dispatch time of the model and the shop it assigns', () => {
    const backends = [gpu('gpu-1', 'm1')]
    const work = view([group('bulk', 'big', 'm1', 2)])
    applyAssignment(backends, work, decide(backends, work, 7)!, undefined, 7)
    expect(work.lastServed).toEqual({ m1: 7 })
    expect(work.tenantServed).toEqual({ big: 7 })
  })

  it('leaves interactive work to a faster backend with its model that frees sooner than a free slow one would finish it', () => {
    const fast = gpu('fast', 'm1', { busy: 1, renderMs: 1000, busySince: 0 })
    const slow = gpu('slow', 'm1', { renderMs: 2500 })
    const work = view([group('interactive', 't', 'm1', 1)])
    // Fast frees at 1000 and renders by 2000; slow would take until 2500.
    expect(decide([fast, slow], work, 0)).toBeUndefined()
    // Two renders waiting: the second would end at 3000 on the fast one, so the slow one takes one.
    expect(decide([fast, slow], view([group('interactive', 't', 'm1', 1), group('interactive', 'u', 'm1', 1)]), 0)).toMatchObject({ backend: 'slow' })
    // Only a little faster and just started: the slow one takes it now.
    expect(decide([{ ...fast, renderMs: 2000, busySince: 1000 }, slow], work, 1000)).toMatchObject({ backend: 'slow' })
  })

  it("learns a backend's render and load times as moving averages of its completions, overall and per model", () => {
    const b: Pick<BackendView, 'renderMs' | 'loadMs' | 'byModel'> = {}
    learnTiming(b, 3000, true, 'm1')
    expect(b.renderMs).toBeUndefined()
    learnTiming(b, 1000, false, 'm1')
    learnTiming(b, 2000, false, 'm1')
    expect(b.renderMs).toBeCloseTo(1200, 6)
    learnTiming(b, 4200, true, 'm1')
    expect(b.loadMs).toBeCloseTo(3000, 6)
    // Another workflow, five times slower: its own time, and the backend's moves toward it.
    learnTiming(b, 6000, false, 'm2')
    expect(b.byModel).toEqual({ m1: { renderMs: expect.closeTo(1200, 6), loadMs: expect.closeTo(3000, 6) }, m2: { renderMs: 6000 } })
    expect(b.renderMs).toBeCloseTo(2160, 6)
    // Loading m2: the part beyond m2's own render is the load.
    learnTiming(b, 9000, true, 'm2')
    expect(b.byModel!.m2.loadMs).toBe(3000)
  })

  it('never switches a multi-slot backend while it renders', () => {
    const backends = [gpu('gpu-1', 'm1', { slots: 2, busy: 1 })]
    expect(decide(backends, view([group('bulk', 't', 'm2', 100)]))).toBeUndefined()
    expect(decide(backends, view([group('bulk', 't', 'm1', 1), group('bulk', 't', 'm2', 100)]))).toMatchObject({ model: 'm1' })
  })

  it('gives work that two idle servers could take to the cheaper one', () => {
    const work = view([group('interactive', 'shop-a', 'm1', 1)])
    const dear = gpu('dear', 'm1', { costPerSecond: 0.004 })
    const cheap = gpu('cheap', 'm1', { costPerSecond: 0.001 })
    expect(nextAssignment([dear, cheap], work, 0, CONFIG)?.backend).toBe('cheap')
    expect(nextAssignment([cheap, dear], work, 0, CONFIG)?.backend).toBe('cheap')
  })

  it('ignores models on backends with nothing to load (the CPU studio)', () => {
    const cpu = { ...gpu('cpu-studio'), type: 'cpu-studio' as const, switchesModels: false, slots: 32 }
    const work = view([group('bulk', 't', 'm1', 1, { needs: { ...NEEDS, only: ['cpu-studio'] } }), group('interactive', 't', 'm2', 1, { needs: { ...NEEDS, only: ['cpu-studio'] } })])
    expect(decide([cpu], work)).toMatchObject({ model: 'm2', switched: false })
  })
})

describe("one shop's burst", () => {
  it("loads another shop's model nobody holds in its turn, while one shop's burst keeps every GPU busy on its own models", () => {
    const backends = [gpu('gpu-1', 'm1'), gpu('gpu-2', 'm1', { busy: 1 }), gpu('gpu-3', 'm2', { busy: 1 })]
    const work = view([group('interactive', 'shop-burst', 'm1', 80), group('interactive', 'shop-burst', 'm2', 80), group('interactive', 'shop-z', 'm3', 1)], {
      cursor: { interactive: 'shop-burst' },
    })
    expect(decide(backends, work)).toMatchObject({ backend: 'gpu-1', tenant: 'shop-z', model: 'm3', switched: true })
    // The only holder of a model with the burst's work does not leave it for a backlog elsewhere.
    const single = [gpu('gpu-1', 'm2'), gpu('gpu-2', 'm1', { busy: 1 })]
    expect(decide(single, view([group('interactive', 'shop-burst', 'm1', 80), group('interactive', 'shop-burst', 'm2', 1)]))).toMatchObject({
      backend: 'gpu-1',
      model: 'm2',
      switched: false,
    })
  })

  it('lets a shop holding half the slots take its interactive turn only after every other shop', () => {
    const backends = [gpu('gpu-1', 'm1'), ...['gpu-2', 'gpu-3', 'gpu-4'].map((id) => gpu(id, 'm1', { busy: 1 }))]
    const groups = () => [group('interactive', 'shop-burst', 'm1', 50), group('interactive', 'shop-z', 'm1', 1)]
    // In turn (the cursor is before it), the burst's shop would go first; with 3 of 4 slots it goes last.
    expect(decide(backends, view(groups(), { cursor: { interactive: 'shop-a' } }))).toMatchObject({ tenant: 'shop-burst' })
    const capped = view(groups(), { cursor: { interactive: 'shop-a' }, inflight: { 'shop-burst': 3 } })
    expect(decide(backends, capped)).toMatchObject({ tenant: 'shop-z' })
    // Nobody else waiting: it still gets the free slot.
    expect(decide(backends, view([group('interactive', 'shop-burst', 'm1', 50)], { inflight: { 'shop-burst': 3 } }))).toMatchObject({ tenant: 'shop-burst' })
  })

  it("loads the model for the shop with the backlog, leaving another shop's single render to the holder", () => {
    const backends = [gpu('gpu-1', 'm1', { busy: 1 }), gpu('gpu-2')]
    // shop-a comes first in turn, but its one render waits less for gpu-1 than for a load.
    const work = view([group('interactive', 'shop-a', 'm1', 1), group('interactive', 'shop-z', 'm1', 10)])
    expect(decide(backends, work)).toMatchObject({ backend: 'gpu-2', tenant: 'shop-z', switched: true })
  })
})

describe('failover and circuits', () => {
  it('does not give work back to the backend it failed on while another can take it, even a busy one', () => {
    const backends = [gpu('gpu-1', 'm1'), gpu('gpu-2', 'm1', { busy: 1 })]
    const work = view([group('interactive', 't', 'm1', 1, { excluded: ['gpu-1'] })])
    expect(decide(backends, work)).toBeUndefined()
    backends[1].busy = 0
    expect(decide(backends, work)).toMatchObject({ backend: 'gpu-2' })
  })

  it('moves work off the backend it failed on, the only one with its model, once that backend has failed twice in a row', () => {
    const backends = [gpu('gpu-1', 'm1', { faults: 2 }), gpu('gpu-2', 'm2')]
    const work = view([group('bulk', 't', 'm1', 1, { excluded: ['gpu-1'] })])
    expect(decide(backends, work)).toMatchObject({ backend: 'gpu-2', model: 'm1', switched: true })
  })

  it('retries a one-off failure where it failed when no other backend holds the model, rather than load it elsewhere', () => {
    const backends = [gpu('gpu-1', 'm1', { faults: 1 }), gpu('gpu-2', 'm2')]
    const work = view([group('interactive', 't', 'm1', 1, { excluded: ['gpu-1'] })])
    expect(decide(backends, work)).toMatchObject({ backend: 'gpu-1', switched: false })
    // Busy: it waits for that backend, no load on another.
    backends[0].busy = 1
    expect(decide(backends, work)).toBeUndefined()
  })

  it('fails over, not in place, when another backend holds the model, or the one it failed on is not answering', () => {
    const holder = [gpu('gpu-1', 'm1', { faults: 1 }), gpu('gpu-2', 'm1', { busy: 1 })]
    const work = view([group('interactive', 't', 'm1', 1, { excluded: ['gpu-1'] })])
    expect(decide(holder, work)).toBeUndefined()
    const down = [gpu('gpu-1', 'm1', { faults: 1, downSince: 0 }), gpu('gpu-2', 'm2')]
    expect(decide(down, work)).toMatchObject({ backend: 'gpu-2', switched: true })
  })

  it('retries on the backend it failed on when every other is excluded or open', () => {
    const backends = [gpu('gpu-1', 'm1'), gpu('gpu-2', 'm1', { circuit: 'open' })]
    const work = view([group('interactive', 't', 'm1', 1, { excluded: ['gpu-1'] })])
    expect(decide(backends, work)).toMatchObject({ backend: 'gpu-1' })
  })

  it('gives an open circuit nothing and a half-open one a single probe', () => {
    const work = view([group('bulk', 't', 'm1', 10)])
    expect(decide([gpu('gpu-1', 'm1', { circuit: 'open' })], work)).toBeUndefined()
    const halfOpen = gpu('gpu-1', 'm1', { circuit: 'half-open', slots: 4 })
    expect(freeSlots(halfOpen)).toBe(1)
    const a = decide([halfOpen], work)!
    applyAssignment([halfOpen], work, a)
    expect(freeSlots(halfOpen)).toBe(0)
    expect(decide([halfOpen], work)).toBeUndefined()
  })

  it('counts a backend whose circuit is open as holding nothing, so its model is loaded elsewhere', () => {
    const backends = [gpu('gpu-1', 'm1', { circuit: 'open' }), gpu('gpu-2', 'm2')]
    const work = view([group('interactive', 't', 'm1', 1)])
    expect(decide(backends, work)).toMatchObject({ backend: 'gpu-2', model: 'm1', switched: true })
  })
})

describe('over a whole run (simulated)', () => {
  // A small version of the benchmark: 4 GPUs, 3 models, one shop's bulk run, a trickle of interactive renders.
  const D = 1000
  const models = ['m1', 'm2', 'm3']
  const renders: SimRender[] = []
  for (let i = 0; i < 300; i++) renders.push({ id: `b${i}`, tenant: 'bulk', workClass: 'bulk', model: models[(i * 7) % 3], at: 0, durationMs: D })
  for (let i = 0; i < 20; i++) renders.push({ id: `i${i}`, tenant: `shop-${i % 5}`, workClass: 'interactive', model: models[i % 3], at: 3 * D + i * 3.3 * D, durationMs: D })
  const backends = ['g1', 'g2', 'g3', 'g4'].map((id) => ({ id }))
  const opts = { backends, switchMs: 2.5 * D, policy: CONFIG }

  it('finishes close to the lower bound, far ahead of FIFO, and starts interactive renders within about one render', () => {
    const policy = simulate(renders, { ...opts, dispatcher: 'policy' })
    const fifo = simulate(renders, { ...opts, dispatcher: 'fifo' })
    const bound = makespanLowerBound(renders, opts)
    expect(policy.starts).toHaveLength(renders.length)
    expect(policy.makespanMs / bound).toBeLessThanOrEqual(1.1)
    expect(policy.makespanMs / fifo.makespanMs).toBeLessThanOrEqual(0.75)
    const waits = policy.waits.filter((w) => w.workClass === 'interactive').map((w) => w.waitMs / D)
    expect(Math.max(...waits)).toBeLessThanOrEqual(2)
  })

  it('keeps interactive renders off a slow GPU while a fast one holding the model frees sooner', () => {
    const rs: SimRender[] = []
    for (let i = 0; i < 400; i++) rs.push({ id: `b${i}`, tenant: 'bulk', workClass: 'bulk', model: 'm1', at: 0, durationMs: D * (0.8 + ((i * 37) % 40) / 100) })
    for (let i = 0; i < 40; i++) rs.push({ id: `i${i}`, tenant: `s${i % 4}`, workClass: 'interactive', model: 'm1', at: Math.round(5 * D + i * 7.3 * D), durationMs: D })
    const pool = [{ id: 'fast', model: 'm1' }, { id: 'slow', model: 'm1', speed: 2.5 }]
    const { starts } = simulate(rs, { backends: pool, switchMs: 2.5 * D, dispatcher: 'policy', policy: CONFIG })
    const interactive = starts.filter((x) => x.id.startsWith('i'))
    expect(interactive.filter((x) => x.backend === 'slow')).toHaveLength(0)
    const late = interactive.map((x) => (x.endAt - rs.find((r) => r.id === x.id)!.at - D) / D)
    expect(Math.max(...late)).toBeLessThan(1.5)
  })

  it("shares bulk throughput between shops' runs, not between models", () => {
    // Shop a's run is all on m1; shops b and c have work on every model. Shared per model, a got a
    // third of m1's GPU (about 6 % of the renders); shared per shop, all of it while a is behind.
    const ms = ['m1', 'm2', 'm3', 'm4']
    const jitter = (i: number) => D * (0.8 + ((i * 37) % 40) / 100)
    const runs: SimRender[] = []
    for (let i = 0; i < 100; i++) runs.push({ id: `a${i}`, tenant: 'shop-a', workClass: 'bulk', model: 'm1', at: 0, durationMs: jitter(i) })
    for (const t of ['b', 'c'])
      for (let i = 0; i < 400; i++) runs.push({ id: `${t}${i}`, tenant: `shop-${t}`, workClass: 'bulk', model: ms[i % 4], at: 0, durationMs: jitter(i + 7) })
    const pool = ms.map((m, i) => ({ id: `g${i}`, model: m }))
    const { starts } = simulate(runs, { backends: pool, switchMs: 2.5 * D, dispatcher: 'policy', policy: CONFIG })
    const a = starts.slice(0, 200).filter((x) => x.id.startsWith('a')).length
    expect(a).toBeGreaterThanOrEqual(45)
  })

  it('gives bulk work to the shop whose last bulk render was dispatched longest ago', () => {
    const work = view([group('bulk', 'shop-a', 'm1', 5), group('bulk', 'shop-b', 'm1', 5)], { bulkTurn: { 'shop-a': 7, 'shop-b': 3 } })
    expect(decide([gpu('gpu-1', 'm1')], work)).toMatchObject({ tenant: 'shop-b' })
    const a = nextAssignment([gpu('gpu-1', 'm1')], work, 0, CONFIG)!
    applyAssignment([gpu('gpu-1', 'm1')], work, a)
    expect(work.bulkTurn).toEqual({ 'shop-a': 7, 'shop-b': 8 })
  })

  it('never runs more renders on a backend than it has slots', () => {
    const { starts } = simulate(renders, { ...opts, dispatcher: 'policy' })
    for (const b of backends) {
      const mine = starts.filter((s) => s.backend === b.id).sort((x, y) => x.dispatchedAt - y.dispatchedAt)
      for (let i = 1; i < mine.length; i++) expect(mine[i].dispatchedAt).toBeGreaterThanOrEqual(mine[i - 1].endAt)
    }
  })

  it('never drops a model within a load’s worth of renders of loading it while that model still has work waiting', () => {
    const { starts } = simulate(renders, { ...opts, dispatcher: 'policy' })
    const started = new Map(starts.map((s) => [s.id, s.dispatchedAt]))
    const modelOf = new Map(renders.map((r) => [r.id, r.model]))
    for (const b of backends) {
      const mine = starts.filter((s) => s.backend === b.id).sort((x, y) => x.dispatchedAt - y.dispatchedAt)
      let run = 0
      for (let i = 0; i < mine.length - 1; i++) {
        run = mine[i].switched ? 1 : run + 1
        if (!mine[i + 1].switched || run >= 3) continue
        const at = mine[i + 1].dispatchedAt
        const left = renders.filter((r) => r.model === modelOf.get(mine[i].id) && r.at <= at && started.get(r.id)! > at)
        expect(left, `${b.id} left ${modelOf.get(mine[i].id)} after ${run} renders`).toHaveLength(0)
      }
    }
  })
})

describe('the simulator and its bound on a pool of mixed speeds', () => {
  const D = 1000
  const bulk = (n: number, model = 'm1'): SimRender[] =>
    Array.from({ length: n }, (_, i) => ({ id: `b${i}`, tenant: 'bulk', workClass: 'bulk', model, at: 0, durationMs: D }))

  it("renders at each backend's speed and loads in each backend's own time", () => {
    const backends = [{ id: 'slow', speed: 2.5, loadMs: 5 * D }]
    const { starts, makespanMs, loads } = simulate(bulk(2), { backends, switchMs: 2 * D, dispatcher: 'policy', policy: CONFIG })
    expect(loads).toBe(1)
    expect(starts[0]).toMatchObject({ startAt: 5 * D, endAt: 7.5 * D })
    expect(makespanMs).toBe(10 * D)
  })

  it('bounds the makespan by speed-weighted capacity, a slow backend adding less than a fast one', () => {
    const fast = [
      { id: 'f1', model: 'm1' },
      { id: 'f2', model: 'm1' },
    ]
    const mixed = [...fast, { id: 's1', model: 'm1', speed: 4 }]
    const renders = bulk(90)
    expect(makespanLowerBound(renders, { backends: fast, switchMs: 0 })).toBeCloseTo(45 * D, 6)
    // 2 + 1/4 speed-1 backends: 90 / 2.25 = 40 renders' time.
    expect(makespanLowerBound(renders, { backends: mixed, switchMs: 0 })).toBeCloseTo(40 * D, 6)
    expect(minimumLoads(renders, { backends: mixed })).toBe(1)
    // A cold backend's one load can be a model nobody starts with; three cold backends load three times.
    expect(minimumLoads([...renders, ...bulk(1, 'm2')], { backends: [...mixed, { id: 'cold' }] })).toBe(1)
    expect(minimumLoads([...renders, ...bulk(1, 'm2')], { backends: [{ id: 'c1' }, { id: 'c2' }, { id: 'c3' }] })).toBe(3)
  })
})

describe('liveness and failover across types', () => {
  const typed: Needs = { ...NEEDS, type: 'comfyui', fallback: ['hosted'] }
  const hosted = () => gpu('hosted', undefined, { type: 'weshop' })
  const work = (extra: Partial<GroupView> = {}): WorkView => ({
    groups: [group('interactive', 't1', 'model_swap:studio', 1, { needs: typed, ...extra })],
    cursor: {},
    interactiveSeen: {},
  })

  it('a fallback of another type takes work only when no backend of its type answers', () => {
    expect(nextAssignment([hosted(), gpu('a')], work(), 0, CONFIG)?.backend).toBe('a')
    expect(nextAssignment([hosted(), gpu('a', undefined, { downSince: 5 })], work(), 10, CONFIG)?.backend).toBe('hosted')
    expect(nextAssignment([hosted(), gpu('a', undefined, { circuit: 'open' })], work(), 10, CONFIG)?.backend).toBe('hosted')
  })

  it('passes over a backend that does not answer for one of its type that does, and retries in place when none is left', () => {
    expect(nextAssignment([gpu('a', undefined, { downSince: 5 }), gpu('b')], work({ needs: { ...typed, fallback: [] } }), 10, CONFIG)?.backend).toBe('b')
    const alone = nextAssignment([gpu('a', undefined, { downSince: 5 })], work({ needs: { ...typed, fallback: [] } }), 10, CONFIG)
    expect(alone?.backend).toBe('a')
  })

  it('a backend of another type that is not named a fallback never takes the work', () => {
    expect(nextAssignment([gpu('other', undefined, { type: 'sdwebui' }), gpu('a', undefined, { circuit: 'open' })], work(), 10, CONFIG)).toBeUndefined()
  })
})
