// Scheduler benchmark: the scheduling policy against a FIFO dispatcher on a
// simulated fleet (4 GPU backends of one slot, 3 workflows, a model load =
// 2.5 renders), with one shop's bulk run of 2,000 renders and a trickle of
// interactive renders from 5 other shops. Then the real Redis dispatcher runs
// a scaled-down copy (200 renders, tens of ms each) with several dispatchers
// racing, and its makespan ratio is checked against the simulation's on the
// same workload.
//
//   npm run bench -- scheduler
//
// Knobs: BENCH_BULK (2000), BENCH_SEED (1), BENCH_REAL_RENDERS (200),
// BENCH_REAL_RENDER_MS (100), BENCH_DISPATCHERS (3).
import type { BackendCapabilities } from '#app/modules/backends/types.ts'
import { percentile, positiveInt, cleanupList, sleep } from './support.ts'

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
/** Mean gap between one shop's interactive renders, in renders. */
const INTERACTIVE_GAP = 40
const TARGETS = { makespanVsBound: 1.1, makespanVsFifo: 0.75, interactiveP95: 1.5 }
/** How far the real dispatcher's makespan ratio may be from the simulation's. */
const REAL_TOLERANCE = 0.1

const cleanup = cleanupList()

/** mulberry32: a small seeded generator, so a run is reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function main(): Promise<void> {
  const { defaultPolicy } = await import('#app/modules/scheduler/policy.ts')
  const { simulate, makespanLowerBound } = await import('#app/modules/scheduler/simulate.ts')
  type SimRender = import('#app/modules/scheduler/simulate.ts').SimRender
  type SimResult = import('#app/modules/scheduler/simulate.ts').SimResult

  /**
   * One shop's bulk run at t=0 plus the other shops' interactive renders over
   * the run: Poisson arrivals INTERACTIVE_GAP renders apart per shop, or
   * exactly `interactiveCount` in all.
   */
  function workload(bulk: number, renderMs: number, seed: number, interactiveCount?: number): SimRender[] {
    const rand = random(seed)
    const duration = () => Math.round(renderMs * (0.8 + 0.4 * rand()))
    const out: SimRender[] = []
    for (let i = 0; i < bulk; i++) {
      out.push({ id: `bulk-${i}`, tenant: 'shop-bulk', workClass: 'bulk', model: WORKFLOWS[Math.floor(rand() * WORKFLOWS.length)], at: 0, durationMs: duration() })
    }
    // why over 90 % of the ideal run: interactive work arrives while the bulk run is under way.
    const horizon = ((bulk * renderMs) / BACKENDS) * 0.9
    if (interactiveCount !== undefined) {
      // Exactly this many, at uniform random times, the shops taking turns.
      const times = Array.from({ length: interactiveCount }, () => Math.round(rand() * horizon)).sort((a, b) => a - b)
      times.forEach((at, n) => out.push({ id: `shop-${n % SHOPS}-${n}`, tenant: `shop-${n % SHOPS}`, workClass: 'interactive', model: WORKFLOWS[Math.floor(rand() * WORKFLOWS.length)], at, durationMs: duration() }))
      return out
    }
    for (let s = 0; s < SHOPS; s++) {
      let at = -Math.log(1 - rand()) * INTERACTIVE_GAP * renderMs
      for (let n = 0; at < horizon; n++) {
        out.push({ id: `shop-${s}-${n}`, tenant: `shop-${s}`, workClass: 'interactive', model: WORKFLOWS[Math.floor(rand() * WORKFLOWS.length)], at: Math.round(at), durationMs: duration() })
        at += -Math.log(1 - rand()) * INTERACTIVE_GAP * renderMs
      }
    }
    return out
  }

  interface Figures {
    makespan: number
    bound: number
    utilisation: number
    loads: number
    interactive: number[]
  }
  function figures(renders: SimRender[], r: Pick<SimResult, 'makespanMs' | 'renderMs' | 'loads' | 'waits'>, renderMs: number, slots: number): Figures {
    const backends = Array.from({ length: slots }, (_, i) => ({ id: `gpu-${i + 1}` }))
    return {
      makespan: r.makespanMs,
      bound: makespanLowerBound(renders, { backends, switchMs: LOAD_RATIO * renderMs }),
      utilisation: r.renderMs / (slots * r.makespanMs),
      loads: r.loads,
      interactive: r.waits.filter((w) => w.workClass === 'interactive').map((w) => w.waitMs / renderMs).sort((a, b) => a - b),
    }
  }

  // 1. Simulation, full size, with the production policy settings (a render
  //    of 20 s, a load of 50 s: the ratio the targets assume).
  const D = defaultPolicy.renderMs
  const S = LOAD_RATIO * D
  const backends = Array.from({ length: BACKENDS }, (_, i) => ({ id: `gpu-${i + 1}` }))
  const renders = workload(BULK, D, SEED)
  const t0 = performance.now()
  const policyRun = simulate(renders, { backends, switchMs: S, dispatcher: 'policy' })
  const simMs = performance.now() - t0
  const fifoRun = simulate(renders, { backends, switchMs: S, dispatcher: 'fifo' })
  const policy = figures(renders, policyRun, D, BACKENDS)
  const fifo = figures(renders, fifoRun, D, BACKENDS)

  // 2. The real dispatcher (Redis state, lock, Lua), scaled down: the same
  //    shape of workload with renders of tens of ms; fake GPUs that hold a
  //    slot for the load and the render, several dispatchers racing.
  const real = await runRealDispatcher(REAL_RENDERS, REAL_RENDER_MS)
  const realSim = simulate(real.renders, {
    backends,
    switchMs: LOAD_RATIO * REAL_RENDER_MS,
    dispatcher: 'policy',
    policy: real.policy,
  })
  const realSimFigures = figures(real.renders, realSim, REAL_RENDER_MS, BACKENDS)

  const ratio = (a: number, b: number) => (a / b).toFixed(2)
  const inD = (x: number) => `${x.toFixed(2)} D`
  const rows: [string, string, string][] = [
    ['', 'policy', 'FIFO'],
    ['renders (bulk + interactive)', `${BULK} + ${policy.interactive.length}`, ''],
    ['makespan (D = one render)', inD(policy.makespan / D), inD(fifo.makespan / D)],
    ['lower bound (work / slots + loads)', inD(policy.bound / D), ''],
    ['makespan / lower bound', ratio(policy.makespan, policy.bound), ratio(fifo.makespan, fifo.bound)],
    ['makespan / FIFO makespan', ratio(policy.makespan, fifo.makespan), '1.00'],
    ['GPU utilisation (rendering)', `${(policy.utilisation * 100).toFixed(1)} %`, `${(fifo.utilisation * 100).toFixed(1)} %`],
    ['model loads', String(policy.loads), String(fifo.loads)],
    ['interactive wait p50', inD(percentile(policy.interactive, 50)), inD(percentile(fifo.interactive, 50))],
    ['interactive wait p95', inD(percentile(policy.interactive, 95)), inD(percentile(fifo.interactive, 95))],
    ['interactive wait max', inD(policy.interactive.at(-1)!), inD(fifo.interactive.at(-1)!)],
    ['simulation time (policy)', `${simMs.toFixed(0)} ms`, ''],
    ['', '', ''],
    [`real dispatcher, ${real.renders.length} renders of ~${REAL_RENDER_MS} ms`, 'Redis', 'simulated'],
    ['dispatchers racing / dispatch rounds', `${DISPATCHERS} / ${real.rounds}`, ''],
    ['makespan / lower bound', ratio(real.figures.makespan, real.figures.bound), ratio(realSimFigures.makespan, realSimFigures.bound)],
    ['model loads', String(real.figures.loads), String(realSimFigures.loads)],
    ['interactive wait p95', inD(percentile(real.figures.interactive, 95)), inD(percentile(realSimFigures.interactive, 95))],
    ['freed slot → next dispatch, p50 / p95', `${percentile(real.handOffMs, 50).toFixed(1)} / ${percentile(real.handOffMs, 95).toFixed(1)} ms`, ''],
    ['slot violations / double dispatches', `${real.violations.length} / ${real.doubles}`, ''],
  ]
  const w0 = Math.max(...rows.map((r) => r[0].length))
  const w1 = Math.max(...rows.map((r) => r[1].length))
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`)

  const makespanVsBound = policy.makespan / policy.bound
  const makespanVsFifo = policy.makespan / fifo.makespan
  const interactiveP95 = percentile(policy.interactive, 95)
  const realRatio = real.figures.makespan / real.figures.bound
  const simRatio = realSimFigures.makespan / realSimFigures.bound
  const misses = [
    makespanVsBound > TARGETS.makespanVsBound && `makespan ${makespanVsBound.toFixed(2)}× the bound (target ≤ ${TARGETS.makespanVsBound})`,
    makespanVsFifo > TARGETS.makespanVsFifo && `makespan ${makespanVsFifo.toFixed(2)}× FIFO (target ≤ ${TARGETS.makespanVsFifo})`,
    interactiveP95 > TARGETS.interactiveP95 && `interactive p95 ${interactiveP95.toFixed(2)} D (target ≤ ${TARGETS.interactiveP95})`,
    Math.abs(realRatio - simRatio) > REAL_TOLERANCE && `real dispatcher ${realRatio.toFixed(2)}× bound vs simulated ${simRatio.toFixed(2)}× (tolerance ${REAL_TOLERANCE})`,
    real.violations.length > 0 && `slot violations: ${real.violations.slice(0, 3).join('; ')}`,
    real.doubles > 0 && `${real.doubles} renders dispatched twice`,
  ].filter(Boolean)
  for (const m of misses) console.log(`MISSED: ${m}`)
  await cleanup.run()
  console.log(
    `BENCH scheduler makespan_vs_bound=${makespanVsBound.toFixed(2)} makespan_vs_fifo=${makespanVsFifo.toFixed(2)} interactive_p95=${interactiveP95.toFixed(2)}`,
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
    const capabilities: BackendCapabilities = { type: 'comfyui', operations: ['model_swap', 'product_scene'], personas: true, maxEdge: 2048, models: [], slots: 1 }
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
    dispatchers = connections.map((redis) => createDispatcher({ redis, prefix, backends: () => gpus, execute, config: { policy: policyConfig } }))

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
      await d.submit({ renderId: r.id, tenant: r.tenant, workClass: r.workClass, priority: r.workClass, model: r.model, needs: { operation: 'model_swap', persona: true, edge: 1024, type: 'comfyui' }, home: 'gpu-1', at: Date.now() })
      if (r.workClass === 'interactive' || i === arrivals.length - 1 || arrivals[i + 1].at > r.at) void d.dispatch().then(() => void rounds++)
    }
    await Promise.race([finished, sleep(60_000).then(() => Promise.reject(new Error(`only ${done} of ${renders.length} real renders finished in 60 s`)))])
    stop = true
    await Promise.all(ticks)
    // The waits were measured from submission; the simulation's from the workload's own times.
    const measured = { makespanMs: lastEnd, renderMs: busyMs, loads, waits }
    return {
      renders: renders.map((r) => ({ ...r, at: submittedAt.get(r.id)! })),
      policy: policyConfig,
      figures: figures(renders.map((r) => ({ ...r, at: submittedAt.get(r.id)! })), measured, renderMs, BACKENDS),
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
