import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { env } from '#app/lib/env.server.ts'
import type { BackendCapabilities } from '#app/modules/backends/types.ts'
import { createDispatcher, type DispatchBackend, type Dispatcher, type Execute } from '#app/modules/scheduler/dispatcher.server.ts'
import type { WorkClass } from '#app/modules/scheduler/policy.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { deleteQueueKeys, redisConnections, sleep, waitFor } from '#test/support/queue.ts'

// The scheduler's Redis state and lock, with several dispatchers standing in
// for several processes (each its own connection). Execution is a fake that
// holds each render a few ms and reports back through a random dispatcher.

let prefix: string
const redis = redisConnections()
const connect = (): Redis => redis.open()

function gpu(id: string, slots = 1): DispatchBackend {
  const capabilities: BackendCapabilities = { type: 'comfyui', operations: ['model_swap'], personas: true, maxEdge: 2048, models: [], slots }
  return { id, capabilities: () => capabilities }
}

const NEEDS = { operation: 'model_swap', persona: true, edge: 1024, type: 'comfyui' as const }
let nextId = 0
const renderId = () => `00000000-0000-4000-8000-${String(++nextId).padStart(12, '0')}`

function item(tenant: string, model: string, workClass: WorkClass = 'bulk') {
  return { renderId: renderId(), tenant, workClass, priority: workClass, model, needs: NEEDS, home: 'gpu-1', at: Date.now() }
}

beforeAll(() => {
  prefix = isolateQueue()
})

afterAll(async () => {
  await redis.closeAll()
  await deleteQueueKeys(prefix)
})

describe('dispatchers in several processes', () => {
  it('never run more renders on a backend than its slots and dispatch every render exactly once, failures included', async () => {
    const backends = [gpu('gpu-1'), gpu('gpu-2'), gpu('gpu-3', 2), gpu('gpu-4')]
    const slots = new Map(backends.map((b) => [b.id, b.capabilities().slots!]))
    const running = new Map<string, Set<string>>(backends.map((b) => [b.id, new Set()]))
    const executions = new Map<string, number>()
    const succeeded = new Set<string>()
    const violations: string[] = []
    let dispatchers: Dispatcher[] = []
    let failures = 0

    const execute: Execute = async ({ renderId: id, backendId }) => {
      const here = running.get(backendId)!
      if ([...running.values()].some((s) => s.has(id))) violations.push(`${id} dispatched while it runs`)
      if (succeeded.has(id)) violations.push(`${id} dispatched after it succeeded`)
      here.add(id)
      if (here.size > slots.get(backendId)!) violations.push(`${backendId} ran ${here.size} at once`)
      executions.set(id, (executions.get(id) ?? 0) + 1)
      setTimeout(() => {
        here.delete(id)
        // why every 7th first attempt fails: retries and failover race with everything else.
        const fail = executions.get(id) === 1 && Number(id.slice(-3)) % 7 === 0
        if (fail) failures++
        else succeeded.add(id)
        const by = dispatchers[Math.floor(Math.random() * dispatchers.length)]
        void by
          .complete(id, backendId, { kind: fail ? 'retry' : 'succeeded', backendFault: fail, attempt: 1 })
          .then(() => by.dispatch())
      }, 2 + Math.random() * 8)
      return 'queued'
    }
    dispatchers = Array.from({ length: 4 }, () =>
      createDispatcher({ redis: connect(), prefix, backends: () => backends, execute, config: { policy: { renderMs: 5, switchMs: 12 } } }),
    )
    const items = Array.from({ length: 240 }, (_, i) => item(`tenant-${i % 3}`, `model-${i % 3}`, i % 10 === 0 ? 'interactive' : 'bulk'))
    await Promise.all(items.map((it, i) => dispatchers[i % 4].submit(it)))

    // Every "process" dispatches on its own timer too, all at once.
    let stop = false
    const loops = dispatchers.map(async (d) => {
      while (!stop) {
        await d.dispatch()
        await sleep(1)
      }
    })
    await waitFor('every render to succeed', () => succeeded.size === items.length, { timeoutMs: 30_000, describe: () => ({ succeeded: succeeded.size, violations }) })
    stop = true
    await Promise.all(loops)

    expect(violations).toEqual([])
    expect(failures).toBeGreaterThan(0)
    const totalRuns = [...executions.values()].reduce((a, b) => a + b, 0)
    expect(totalRuns).toBe(items.length + failures)
    // Nothing left behind: no waiting work, no held slot.
    expect(await dispatchers[0].store.inflight()).toEqual([])
    const view = await dispatchers[0].store.view(backends.map((b) => b.id), Date.now(), dispatchers[0].config.circuit)
    expect(view.groups).toEqual([])
    expect(Object.values(view.backends).map((b) => b.busy)).toEqual([0, 0, 0, 0])
  })

  it('a dispatch that finds the lock taken asks the holder for another round instead of losing its work', async () => {
    const backends = [gpu('solo-1')]
    const handed: string[] = []
    const d = createDispatcher({ redis: connect(), prefix: `${prefix}-lock`, backends: () => backends, execute: async (h) => (handed.push(h.renderId), 'queued') })
    const token = 'someone-else'
    expect(await d.store.lock(token, 5_000)).toBe(true)
    const it1 = item('t', 'm')
    await d.submit(it1)
    expect(await d.dispatch()).toMatchObject({ deferred: true, dispatched: 0 })
    // The holder's release finds the request and keeps the lock for one more round.
    expect(await d.store.unlock(token, 5_000)).toBe('again')
    expect(await d.store.unlock(token, 5_000)).toBe('released')
    expect((await d.dispatch()).dispatched).toBe(1)
    expect(handed).toEqual([it1.renderId])
    await deleteQueueKeys(`${prefix}-lock`)
  })

  it('dispatches a retry that failed on the only backend after its backoff, and one that can fail over at once', async () => {
    const only = [gpu('only-1')]
    let now = 1_000_000
    const handed: string[] = []
    const d = createDispatcher({ redis: connect(), prefix: `${prefix}-retry`, backends: () => only, now: () => now, execute: async (h) => (handed.push(`${h.renderId}@${h.backendId}`), 'queued') })
    const it1 = item('t', 'm')
    await d.submit(it1)
    await d.dispatch()
    expect(await d.complete(it1.renderId, 'only-1', { kind: 'retry', backendFault: true, attempt: 1 })).toBe('resubmitted')
    const delayed = await d.store.item(it1.renderId)
    expect(delayed).toMatchObject({ state: 'delayed', excluded: ['only-1'] })
    expect((await d.dispatch()).dispatched).toBe(0)
    now += 10 * env().RENDER_BACKOFF_MS
    expect((await d.dispatch()).dispatched).toBe(1)
    expect(handed).toEqual([`${it1.renderId}@only-1`, `${it1.renderId}@only-1`])
    await deleteQueueKeys(`${prefix}-retry`)
  })
})

describe('circuit breaker state', () => {
  it('opens after the threshold of consecutive backend faults, half-opens after the cool-down, closes on success', async () => {
    const backends = [gpu('flaky-1', 3)]
    let now = 5_000_000
    const d = createDispatcher({
      redis: connect(),
      prefix: `${prefix}-circuit`,
      backends: () => backends,
      now: () => now,
      execute: async () => 'queued',
      config: { circuit: { threshold: 3, cooldownMs: 1_000 } },
    })
    const circuit = async () => (await d.store.view(['flaky-1'], now, d.config.circuit)).backends['flaky-1']
    const items = Array.from({ length: 6 }, () => item('t', 'm'))
    for (const it of items) await d.submit(it)
    expect((await d.dispatch()).dispatched).toBe(3)
    // A refusal of bad input is neither a fault nor a success; faults in a row open it.
    await d.complete(items[0].renderId, 'flaky-1', { kind: 'failed', backendFault: false, attempt: 1 })
    await d.complete(items[1].renderId, 'flaky-1', { kind: 'failed', backendFault: true, attempt: 1 })
    await d.complete(items[2].renderId, 'flaky-1', { kind: 'failed', backendFault: true, attempt: 1 })
    // A failed render says the backend answers: it is not marked down, only counted.
    expect(await circuit()).toMatchObject({ circuit: 'closed', failures: 2, downSince: undefined })
    expect((await d.dispatch()).dispatched).toBe(3)
    await d.complete(items[3].renderId, 'flaky-1', { kind: 'failed', backendFault: true, unreachable: true, attempt: 1 })
    expect(await circuit()).toMatchObject({ circuit: 'open', failures: 3, downSince: now })
    // Open: the free slots are not used, and the round says when to look again.
    await d.complete(items[4].renderId, 'flaky-1', { kind: 'noop', backendFault: false, attempt: 0 })
    await d.submit(item('t', 'm'))
    const held = await d.dispatch()
    expect(held).toMatchObject({ dispatched: 0, nextWakeAt: now + 1_000 })
    now += 1_000
    expect(await circuit()).toMatchObject({ circuit: 'half-open' })
    // Half-open: one probe while one render is still in flight elsewhere? No: only when idle.
    await d.complete(items[5].renderId, 'flaky-1', { kind: 'noop', backendFault: false, attempt: 0 })
    expect((await d.dispatch()).dispatched).toBe(1)
    expect((await d.dispatch()).dispatched).toBe(0)
    const [probe] = await d.store.inflight()
    // A failed probe opens it again for another cool-down.
    await d.complete(probe.renderId, 'flaky-1', { kind: 'retry', backendFault: true, attempt: 1 })
    expect(await circuit()).toMatchObject({ circuit: 'open' })
    now += 1_000 + 10 * env().RENDER_BACKOFF_MS
    expect((await d.dispatch()).dispatched).toBe(1)
    const [second] = await d.store.inflight()
    await d.complete(second.renderId, 'flaky-1', { kind: 'succeeded', backendFault: false, attempt: 2 })
    expect(await circuit()).toMatchObject({ circuit: 'closed', failures: 0 })
    await deleteQueueKeys(`${prefix}-circuit`)
  })

  it('takes health checks into account: failed checks open it, a passing check lets one probe through', async () => {
    let now = 9_000_000
    let healthy = false
    const backend: DispatchBackend = { ...gpu('checked-1'), health: async () => ({ ok: healthy }) }
    const d = createDispatcher({
      redis: connect(),
      prefix: `${prefix}-health`,
      backends: () => [backend],
      now: () => now,
      execute: async () => 'queued',
      config: { circuit: { threshold: 2, cooldownMs: 60_000 } },
    })
    const circuit = async () => (await d.store.view(['checked-1'], now, d.config.circuit)).backends['checked-1']
    await d.checkHealth()
    await d.checkHealth()
    expect(await circuit()).toMatchObject({ circuit: 'open' })
    now += 1_000
    await d.submit(item('t', 'm'))
    expect((await d.dispatch()).dispatched).toBe(0)
    healthy = true
    await d.checkHealth()
    expect(await circuit()).toMatchObject({ circuit: 'half-open' })
    expect((await d.dispatch()).dispatched).toBe(1)
    await deleteQueueKeys(`${prefix}-health`)
  })
})

describe('measured timings', () => {
  it("learns a backend's render time from its completions and its load time from a render that loaded first", async () => {
    let now = 2_000_000
    const handed: string[] = []
    const d = createDispatcher({ redis: connect(), prefix: `${prefix}-timing`, backends: () => [gpu('gpu-1')], now: () => now, execute: async (h) => (handed.push(h.renderId), 'queued') })
    const state = async () => (await d.store.view(['gpu-1'], now, d.config.circuit)).backends['gpu-1']
    const run = async (model: string, ms: number) => {
      const it = item('t', model)
      await d.submit(it)
      await d.dispatch()
      expect(handed.at(-1)).toBe(it.renderId)
      expect((await state()).busySince).toBe(now)
      expect((await d.store.view(['gpu-1'], now, d.config.circuit)).inflight).toEqual({ t: 1 })
      now += ms
      await d.complete(it.renderId, 'gpu-1', { kind: 'succeeded', backendFault: false, attempt: 1 })
    }
    // Cold: a load with no render time to tell it apart yet; then renders of the loaded model.
    await run('m1', 12_000)
    expect(await state()).toMatchObject({ renderMs: undefined, loadMs: undefined })
    await run('m1', 4_000)
    await run('m1', 6_000)
    expect((await state()).renderMs).toBeCloseTo(4_400, 6)
    await run('m2', 14_400)
    expect(await state()).toMatchObject({ loadMs: 10_000, busySince: undefined })
    expect((await state()).renderMs).toBeCloseTo(4_400, 6)
    // Per model: m2 renders in 20 s where m1 took about 4.
    await run('m2', 20_000)
    const timing = await state()
    expect(timing.byModel).toEqual({ m1: { renderMs: expect.closeTo(4_400, 6) }, m2: { loadMs: 10_000, renderMs: 20_000 } })
    expect((await d.store.backendStates(['gpu-1'], now, d.config.circuit))['gpu-1'].byModel).toEqual(timing.byModel)
    await deleteQueueKeys(`${prefix}-timing`)
  })
})

describe('bulk shares', () => {
  it("records each shop's turn in the order of bulk dispatches, across rounds and processes", async () => {
    const handed: string[] = []
    const backends = [gpu('gpu-1')]
    const make = () => createDispatcher({ redis: connect(), prefix: `${prefix}-turns`, backends: () => backends, execute: async (h) => (handed.push(h.renderId), 'queued') })
    const [one, two] = [make(), make()]
    const a = [item('shop-a', 'm'), item('shop-a', 'm')]
    const b = [item('shop-b', 'm'), item('shop-b', 'm')]
    for (const it of [...a, ...b]) await one.submit(it)
    await one.dispatch()
    await one.complete(handed[0], 'gpu-1', { kind: 'succeeded', backendFault: false, attempt: 1 })
    await two.dispatch()
    const view = await two.store.view(['gpu-1'], Date.now(), two.config.circuit)
    expect(handed).toEqual([a[0].renderId, b[0].renderId])
    expect(view.bulkTurn['shop-a']).toBeLessThan(view.bulkTurn['shop-b'])
    await deleteQueueKeys(`${prefix}-turns`)
  })
})

describe('queue positions', () => {
  it('counts the round robin: other shops’ turns come between a shop’s own renders, and interactive work goes first', async () => {
    const d = createDispatcher({ redis: connect(), prefix: `${prefix}-pos`, backends: () => [], execute: async () => 'queued' })
    const a = Array.from({ length: 5 }, () => item('shop-a', 'm'))
    const b = Array.from({ length: 2 }, () => item('shop-b', 'm'))
    const urgent = item('shop-c', 'm', 'interactive')
    for (const it of [...a, ...b, urgent]) await d.submit(it)
    expect(await d.positionOf(urgent.renderId)).toBe(1)
    // Turns: a, b, a, b, a, a, a (after the interactive one).
    expect(await d.positionOf(a[0].renderId)).toBe(2)
    expect(await d.positionOf(b[0].renderId)).toBe(3)
    expect(await d.positionOf(b[1].renderId)).toBe(5)
    expect(await d.positionOf(a[4].renderId)).toBe(8)
    expect(await d.cancel(a[4].renderId)).toBe('dropped')
    expect(await d.positionOf(a[4].renderId)).toBeNull()
    await deleteQueueKeys(`${prefix}-pos`)
  })
})
