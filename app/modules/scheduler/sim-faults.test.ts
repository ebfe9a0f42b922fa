import { describe, expect, it } from 'vitest'
import type { BackendView } from './policy.ts'
import { CIRCUIT_THRESHOLD, FAULT_TIMES, failingRenders, fault, halfOpen, health, success } from './sim-faults.ts'
import { makespanLowerBound, simulate, type SimRender } from './simulate.ts'

const view = (): BackendView => ({
  id: 'g',
  type: 'comfyui',
  operations: ['render'],
  personas: true,
  maxEdge: 2048,
  slots: 1,
  busy: 0,
  switchesModels: true,
  circuit: 'closed',
})

describe('the simulated circuit breaker', () => {
  it('opens after CIRCUIT_THRESHOLD faults, lets one probe through after the cooldown, and closes on its success', () => {
    const v = view()
    const breaker = { failures: 0, openedAt: 0 }
    for (let i = 1; i < CIRCUIT_THRESHOLD; i++) fault(v, breaker, i)
    expect(v.circuit).toBe('closed')
    expect(v.downSince).toBe(1)
    fault(v, breaker, 10)
    expect(v.circuit).toBe('open')
    halfOpen(v, breaker, 10 + FAULT_TIMES.cooldownMs - 1)
    expect(v.circuit).toBe('open')
    halfOpen(v, breaker, 10 + FAULT_TIMES.cooldownMs)
    expect(v.circuit).toBe('half-open')
    // The probe fails: open again at once.
    fault(v, breaker, 20 + FAULT_TIMES.cooldownMs)
    expect(v.circuit).toBe('open')
    // A passing health check ends the cooldown; the probe's success closes it.
    health(v, breaker, false, 30 + FAULT_TIMES.cooldownMs)
    halfOpen(v, breaker, 30 + FAULT_TIMES.cooldownMs)
    expect(v.circuit).toBe('half-open')
    success(v, breaker)
    expect(v).toMatchObject({ circuit: 'closed', downSince: undefined })
    expect(breaker.failures).toBe(0)
  })

  it('marks a backend down only when it did not answer; a failed render counts toward the circuit alone', () => {
    const v = view()
    const breaker = { failures: 0, openedAt: 0 }
    fault(v, breaker, 5, false)
    expect(v).toMatchObject({ faults: 1, circuit: 'closed' })
    expect(v.downSince).toBeUndefined()
    fault(v, breaker, 6, true)
    expect(v).toMatchObject({ downSince: 6, faults: 2 })
  })

  it('draws the same failing renders for every dispatcher, about the rate asked', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `r${i}`)
    const a = failingRenders(ids, 0.05, 7)
    expect(a).toEqual(failingRenders([...ids].reverse(), 0.05, 7))
    expect(a.size).toBeGreaterThan(60)
    expect(a.size).toBeLessThan(140)
  })
})

describe('a simulated run with faults', () => {
  // why production times: health checks and the breaker's cooldown are fixed, seconds apart.
  const D = 20_000
  const renders: SimRender[] = Array.from({ length: 200 }, (_, i) => ({
    id: `b${i}`,
    tenant: 'bulk',
    workClass: 'bulk',
    model: 'm1',
    at: 0,
    durationMs: D,
  }))
  const policy = { renderMs: D, switchMs: 2.5 * D }

  it('moves the work off a backend that is down and back once it answers, and retries failed renders elsewhere', () => {
    const backends = [
      { id: 'g1', model: 'm1' },
      { id: 'g2', model: 'm1', down: [{ from: 10 * D, until: 60 * D }] },
    ]
    const opts = { backends, switchMs: 2.5 * D, failureRate: 0.05, seed: 3 }
    const r = simulate(renders, { ...opts, dispatcher: 'policy', policy })
    expect(r.starts).toHaveLength(200)
    expect(r.failed).toBe(0)
    expect(r.failedStarts).toBeGreaterThan(5)
    const onG2 = r.starts.filter((s) => s.backend === 'g2')
    // Nothing rendered on g2 while it was down; it took work again after.
    expect(onG2.some((s) => s.startAt >= 10 * D && s.startAt < 60 * D)).toBe(false)
    expect(onG2.some((s) => s.startAt >= 60 * D)).toBe(true)
    // The bound counts g2's downtime and the failed halves: the run is close to it.
    expect(r.makespanMs / makespanLowerBound(renders, opts)).toBeLessThan(1.1)
  })

  it('counts downtime in the bound only as far as it falls before the end', () => {
    const up = [
      { id: 'g1', model: 'm1' },
      { id: 'g2', model: 'm1' },
    ]
    const later = [up[0], { ...up[1], down: [{ from: 500 * D, until: 900 * D }] }]
    const early = [up[0], { ...up[1], down: [{ from: 0, until: 50 * D }] }]
    const bound = (backends: typeof later) => makespanLowerBound(renders, { backends, switchMs: 0 })
    expect(bound(later)).toBe(bound(up))
    // 200 renders on two: 100; g2 away for 50 gives g1 50 alone, and the other 150 take 75 on two.
    expect(bound(early)).toBeCloseTo(125 * D, 0)
  })
})
