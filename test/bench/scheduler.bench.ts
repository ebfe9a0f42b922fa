// Scheduler benchmark: the scheduling policy against a FIFO dispatcher on a
// family of simulated pools (scheduler-scenarios.ts: identical GPUs with 3
// and 6 workflows, mixed speeds, three shops' staggered bulk runs, 5 %
// transient failures with one GPU down for a while, one shop's burst), one
// line each against the targets of issue 15. Then the real Redis
// dispatcher runs a scaled-down copy of the first (200 renders, tens of ms
// each) with several dispatchers racing, and its makespan ratio is checked
// against the simulation's on the same workload.
//
//   npm run bench -- scheduler
//
// Knobs: BENCH_BULK (2000), BENCH_SEED (1), BENCH_REAL_RENDERS (200),
// BENCH_REAL_RENDER_MS (100), BENCH_DISPATCHERS (3).
import type { BackendCapabilities } from '#app/modules/backends/types.ts'
import { percentile, positiveInt, cleanupList, sleep } from './support.ts'
import { seededRandom as random } from '#app/lib/seeded-random.ts'
import { measureScenario, scenarios, type Scenario } from './scheduler-scenarios.ts'

process.env.NODE_ENV ??= 'test'
process.env.LOG_LEVEL ??= 'warn'
process.env.QUEUE_PREFIX = `atelier-bench-${process.pid}`

const BULK = positiveInt('BENCH_BULK', 2000)
const SEED = positiveInt('BENCH_SEED', 1)
const REAL_RENDERS = positiveInt('BENCH_REAL_RENDERS', 200)
const REAL_RENDER_MS = positiveInt('BENCH_REAL_RENDER_MS', 100)
const DISPATCHERS = positiveInt('BENCH_DISPATCHERS', 3)
const BACKENDS = 4
const SHOPS = 5
const WORKFLOWS = ['model_swap:studio-white', 'model_swap:street-paris', 'product_scene:beach-dusk']
const LOAD_RATIO = 2.5
/** Issue 15's targets, on every scenario. */
const TARGETS = {
  makespanVsBound: 1.1,
  makespanVsFifo: 0.6,
  interactiveP95: 1.5,
  othersDuringBurst: 3,
  loadsOverMin: 3,
  shareSpread: 5,
}
/** How far the real dispatcher's makespan ratio may be from the simulation's. */
const REAL_TOLERANCE = 0.1

const cleanup = cleanupList()

async function main(): Promise<void> {
  const { defaultPolicy } = await import('#app/modules/scheduler/policy.ts')
  type SimRender = import('#app/modules/scheduler/simulate.ts').SimRender
  type SimResult = import('#app/modules/scheduler/simulate.ts').SimResult
  const { simulate, makespanLowerBound, minimumLoads } = await import('#app/modules/scheduler/simulate.ts')

  /**
   * The real run's workload: one shop's bulk run at t=0 and exactly
   * `interactiveCount` interactive renders from the other shops, at uniform
   * random times over 90 % of the ideal run, the shops taking turns.
   */
  function workload(bulk: number, renderMs: number, seed: number, interactiveCount: number): SimRender[] {
    const rand = random(seed)
    const duration = () => Math.round(renderMs * (0.8 + 0.4 * rand()))
    const out: SimRender[] = []
    for (let i = 0; i < bulk; i++) {
      out.push({
        id: `bulk-${i}`,
        tenant: 'shop-bulk',
        workClass: 'bulk',
        model: WORKFLOWS[Math.floor(rand() * WORKFLOWS.length)],
        at: 0,
        durationMs: duration(),
      })
    }
    const horizon = ((bulk * renderMs) / BACKENDS) * 0.9
    const times = Array.from({ length: interactiveCount }, () => Math.round(rand() * horizon)).sort((a, b) => a - b)
    times.forEach((at, n) =>
      out.push({
        id: `shop-${n % SHOPS}-${n}`,
        tenant: `shop-${n % SHOPS}`,
        workClass: 'interactive',
        model: WORKFLOWS[Math.floor(rand() * WORKFLOWS.length)],
        at,
        durationMs: duration(),
      }),
    )
    return out
  }

  interface Figures {
    makespan: number
    bound: number
    loads: number
    interactive: number[]
  }
  function figures(renders: SimRender[], r: Pick<SimResult, 'makespanMs' | 'loads' | 'waits'>, renderMs: number): Figures {
    return {
      makespan: r.makespanMs,
      bound: makespanLowerBound(renders, { backends, switchMs: LOAD_RATIO * renderMs }),
      loads: r.loads,
      interactive: r.waits
        .filter((w) => w.workClass === 'interactive')
        .map((w) => w.waitMs / renderMs)
        .sort((a, b) => a - b),
    }
  }

  // 1. The family, simulated at full size with the production policy settings.
  interface Row {
    name: string
    vsBound: number
    vsFifo: number
    /** p95 of interactive delays (renders of the fastest backend, scheduler-scenarios.ts); a burst's own shop left out. */
    p95: number
    loadsOverMin: number
    /** Share of those interactive renders that waited for a model load. */
    loaded: number
    othersDuringBurst: number
    shareSpread: number
    misses: string[]
  }
  const rows: Row[] = []
  const t0 = performance.now()
  for (const sc of scenarios(SEED, BULK)) rows.push(scenarioRow(sc))
  const simMs = performance.now() - t0
  console.log('scenario         renders  vs bound  vs FIFO  interactive p95 (loaded)  loads/min  others in burst  bulk spread')
  for (const r of rows) {
    const opt = (v: number, unit = '') => (Number.isNaN(v) ? '—' : `${v.toFixed(2)}${unit}`)
    console.log(
      `${r.name.padEnd(15)}  ${String(scenarios(SEED, BULK).find((x) => x.name === r.name)!.renders.length).padStart(7)}  ${r.vsBound.toFixed(2).padStart(8)}  ${r.vsFifo.toFixed(2).padStart(7)}  ${`${r.p95.toFixed(2)} D (${Math.round(100 * r.loaded)} %)`.padStart(24)}  ${r.loadsOverMin.toFixed(1).padStart(9)}  ${opt(r.othersDuringBurst, ' D').padStart(15)}  ${opt(r.shareSpread, ' pt').padStart(11)}`,
    )
  }
  console.log(`simulated in ${simMs.toFixed(0)} ms`)

  function scenarioRow(sc: Scenario): Row {
    const opts = { backends: sc.backends, switchMs: sc.switchMs, failureRate: sc.failureRate, seed: sc.seed }
    const policyRun = simulate(sc.renders, { ...opts, dispatcher: 'policy' })
    const fifoRun = simulate(sc.renders, { ...opts, dispatcher: 'fifo' })
    const m = measureScenario(sc, policyRun)
    const row: Row = {
      name: sc.name,
      vsBound: policyRun.makespanMs / makespanLowerBound(sc.renders, opts),
      vsFifo: policyRun.makespanMs / fifoRun.makespanMs,
      p95: percentile(m.interactive, 95),
      loadsOverMin: m.loads / minimumLoads(sc.renders, opts),
      loaded: m.interactiveLoaded,
      othersDuringBurst: m.othersDuringBurst,
      shareSpread: m.bulkShareSpread,
      misses: [],
    }
    const miss = (bad: boolean, what: string) => bad && row.misses.push(`${sc.name}: ${what}`)
    miss(
      row.vsBound > TARGETS.makespanVsBound,
      `makespan ${row.vsBound.toFixed(2)}× the bound (target ≤ ${TARGETS.makespanVsBound})`,
    )
    miss(row.vsFifo > TARGETS.makespanVsFifo, `makespan ${row.vsFifo.toFixed(2)}× FIFO (target ≤ ${TARGETS.makespanVsFifo})`)
    miss(row.p95 > TARGETS.interactiveP95, `interactive p95 ${row.p95.toFixed(2)} D (target ≤ ${TARGETS.interactiveP95})`)
    miss(
      row.loadsOverMin > TARGETS.loadsOverMin,
      `${m.loads} model loads, ${row.loadsOverMin.toFixed(1)}× the minimum (target ≤ ${TARGETS.loadsOverMin})`,
    )
    miss(
      row.othersDuringBurst > TARGETS.othersDuringBurst,
      `other shops' p95 in the burst ${row.othersDuringBurst.toFixed(2)} D (target ≤ ${TARGETS.othersDuringBurst})`,
    )
    miss(
      row.shareSpread > TARGETS.shareSpread,
      `bulk shares ${row.shareSpread.toFixed(1)} points off equal (target ≤ ${TARGETS.shareSpread})`,
    )
    return row
  }

  // 2. The real dispatcher (Redis state, lock, Lua), scaled down: the first
  //    scenario's shape with renders of tens of ms; fake GPUs that hold a
  //    slot for the load and the render, several dispatchers racing.
  const backends = Array.from({ length: BACKENDS }, (_, i) => ({ id: `gpu-${i + 1}` }))
  const real = await runRealDispatcher(REAL_RENDERS, REAL_RENDER_MS)
  const realSim = simulate(real.renders, {
    backends,
    switchMs: LOAD_RATIO * REAL_RENDER_MS,
    dispatcher: 'policy',
    policy: real.policy,
  })
  const realSimFigures = figures(real.renders, realSim, REAL_RENDER_MS)
  const realRatio = real.figures.makespan / real.figures.bound
  const simRatio = realSimFigures.makespan / realSimFigures.bound
  console.log(
    `real dispatcher, ${real.renders.length} renders of ~${REAL_RENDER_MS} ms, ${DISPATCHERS} dispatchers racing, ${real.rounds} rounds:`,
  )
  console.log(
    `  makespan / bound ${realRatio.toFixed(2)} (simulated ${simRatio.toFixed(2)}); model loads ${real.figures.loads} (simulated ${realSimFigures.loads})`,
  )
  console.log(
    `  interactive p95 ${percentile(real.figures.interactive, 95).toFixed(2)} D (simulated ${percentile(realSimFigures.interactive, 95).toFixed(2)} D)`,
  )
  console.log(
    `  freed slot → next dispatch p50 / p95 ${percentile(real.handOffMs, 50).toFixed(1)} / ${percentile(real.handOffMs, 95).toFixed(1)} ms; slot violations ${real.violations.length}, double dispatches ${real.doubles}`,
  )

  const misses = [
    ...rows.flatMap((r) => r.misses),
    Math.abs(realRatio - simRatio) > REAL_TOLERANCE &&
      `real dispatcher ${realRatio.toFixed(2)}× bound vs simulated ${simRatio.toFixed(2)}× (tolerance ${REAL_TOLERANCE})`,
    real.violations.length > 0 && `slot violations: ${real.violations.slice(0, 3).join('; ')}`,
    real.doubles > 0 && `${real.doubles} renders dispatched twice`,
  ].filter(Boolean)
  for (const m of misses) console.log(`MISSED: ${m}`)
  await cleanup.run()
  const worst = (pick: (r: Row) => number) => Math.max(...rows.map(pick).filter((v) => !Number.isNaN(v)))
  console.log(
    `BENCH scheduler worst_makespan_vs_bound=${worst((r) => r.vsBound).toFixed(2)} worst_vs_fifo=${worst((r) => r.vsFifo).toFixed(2)} worst_interactive_p95=${worst((r) => r.p95).toFixed(2)} max_loads_over_min=${worst((r) => r.loadsOverMin).toFixed(1)} burst_others_p95=${worst((r) => r.othersDuringBurst).toFixed(2)} bulk_share_spread=${worst((r) => r.shareSpread).toFixed(1)}`,
  )
  if (misses.length > 0) process.exitCode = 1

  /**
   * Drives the Redis dispatcher in real time: renders submitted as the
   * workload says, handed to fake GPUs, completed through a random one of
   * several dispatchers (each its own connection, like separate processes),
   * which then dispatches again; each dispatcher also ticks on a timer.
   */
  async function runRealDispatcher(total: number, renderMs: number) {
    const { Redis } = await import('ioredis')
    const { env } = await import('#app/lib/env.server.ts')
    const { createDispatcher } = await import('#app/modules/scheduler/dispatcher.server.ts')
    const { deleteQueueKeys } = await import('#test/support/queue.ts')
    const scale = renderMs / defaultPolicy.renderMs
    const policyConfig = {
      renderMs,
      switchMs: LOAD_RATIO * renderMs,
      interactiveMemoryMs: defaultPolicy.interactiveMemoryMs * scale,
      starvationMs: defaultPolicy.starvationMs * scale,
    }
    const bulkCount = Math.round(total * 0.9)
    const shape = workload(bulkCount, renderMs, SEED + 1, total - bulkCount)
    const renders = shape.map((r, i) => ({
      ...r,
      // why uuids: the dispatcher checks BullMQ job keys by render id.
      id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
    }))
    const byId = new Map(renders.map((r) => [r.id, r]))
    const prefix = `${env().QUEUE_PREFIX}-real`
    cleanup.add(() => deleteQueueKeys(prefix).then(() => undefined))
    const connections = Array.from({ length: DISPATCHERS }, () => new Redis(env().REDIS_URL, { maxRetriesPerRequest: 1 }))
    cleanup.add(async () => {
      for (const c of connections) await c.quit().catch(() => c.disconnect())
    })
    const capabilities: BackendCapabilities = {
      type: 'comfyui',
      operations: ['model_swap', 'product_scene'],
      personas: true,
      maxEdge: 2048,
      models: [],
      slots: 1,
    }
    const gpus = backends.map((b) => ({ id: b.id, capabilities: () => capabilities }))
    const loaded = new Map<string, string | undefined>()
    /** When each backend's slot was last freed, and how long until it was given the next render. */
    const freedAt = new Map<string, number>()
    const handOffMs: number[] = []
    const running = new Map<string, number>()
    const executed = new Set<string>()
    const violations: string[] = []
    let doubles = 0
    let loads = 0
    let rounds = 0
    let done = 0
    const waits: { id: string; workClass: 'interactive' | 'bulk'; tenant: string; waitMs: number }[] = []
    let busyMs = 0
    let lastEnd = 0
    const submittedAt = new Map<string, number>()
    const started = performance.now()
    const now = () => performance.now() - started
    let finish: () => void = () => {}
    const finished = new Promise<void>((resolve) => (finish = resolve))

    // eslint-disable-next-line prefer-const
    let dispatchers: ReturnType<typeof createDispatcher>[]
    const execute = async ({ renderId, backendId }: { renderId: string; backendId: string }) => {
      const freed = freedAt.get(backendId)
      if (freed !== undefined) handOffMs.push(now() - freed)
      freedAt.delete(backendId)
      if (executed.has(renderId)) doubles++
      executed.add(renderId)
      const inUse = (running.get(backendId) ?? 0) + 1
      running.set(backendId, inUse)
      if (inUse > 1) violations.push(`${backendId} ran ${inUse} at once`)
      const r = byId.get(renderId)!
      const switched = loaded.get(backendId) !== r.model
      if (switched) loads++
      loaded.set(backendId, r.model)
      const loadMs = switched ? LOAD_RATIO * renderMs : 0
      setTimeout(() => {
        waits.push({ id: r.id, workClass: r.workClass, tenant: r.tenant, waitMs: now() - submittedAt.get(r.id)! })
        setTimeout(() => {
          busyMs += r.durationMs
          lastEnd = now()
          running.set(backendId, running.get(backendId)! - 1)
          freedAt.set(backendId, now())
          const d = dispatchers[Math.floor(Math.random() * dispatchers.length)]
          void d
            .complete(r.id, backendId, { kind: 'succeeded', backendFault: false, attempt: 1 })
            .then(() => {
              if (++done === renders.length) finish()
              return d.dispatch()
            })
            .then(() => void rounds++)
        }, r.durationMs)
      }, loadMs)
      return 'queued' as const
    }
    dispatchers = connections.map((redis) =>
      createDispatcher({ redis, prefix, backends: () => gpus, execute, config: { policy: policyConfig } }),
    )

    let stop = false
    const ticks = dispatchers.map(async (d) => {
      while (!stop) {
        await d.dispatch()
        rounds++
        await sleep(25)
      }
    })
    const arrivals = [...renders].sort((a, b) => a.at - b.at)
    for (const [i, r] of arrivals.entries()) {
      const wait = r.at - now()
      if (wait > 0) await sleep(wait)
      submittedAt.set(r.id, now())
      const d = dispatchers[i % dispatchers.length]
      await d.submit({
        renderId: r.id,
        tenant: r.tenant,
        workClass: r.workClass,
        priority: r.workClass,
        model: r.model,
        needs: { operation: 'model_swap', persona: true, edge: 1024, type: 'comfyui' },
        home: 'gpu-1',
        at: Date.now(),
      })
      if (r.workClass === 'interactive' || i === arrivals.length - 1 || arrivals[i + 1].at > r.at)
        void d.dispatch().then(() => void rounds++)
    }
    await Promise.race([
      finished,
      sleep(60_000).then(() => Promise.reject(new Error(`only ${done} of ${renders.length} real renders finished in 60 s`))),
    ])
    stop = true
    await Promise.all(ticks)
    // The waits were measured from submission; the simulation's from the workload's own times.
    const measured = { makespanMs: lastEnd, renderMs: busyMs, loads, waits }
    return {
      renders: renders.map((r) => ({ ...r, at: submittedAt.get(r.id)! })),
      policy: policyConfig,
      figures: figures(
        renders.map((r) => ({ ...r, at: submittedAt.get(r.id)! })),
        measured,
        renderMs,
      ),
      violations,
      doubles,
      rounds,
      // What the real run adds: a freed slot's wait for its next render (complete, lock, view, pop).
      handOffMs: handOffMs.sort((a, b) => a - b),
    }
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  async (err: unknown) => {
    console.error(err)
    await cleanup.run()
    process.exit(1)
  },
)
