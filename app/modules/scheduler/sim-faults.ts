// Faults for the simulation (simulate.ts): renders that fail partway and are
// retried elsewhere, backends that stop answering for a while, and the
// circuit breaker and health checks the dispatcher runs against them, with
// ADR 006's settings.
import { seededRandom } from '#app/lib/seeded-random.ts'
import type { BackendView } from './policy.ts'

/** Consecutive faults (failed renders or health checks) that open a backend's circuit. */
export const CIRCUIT_THRESHOLD = 5

/** The fault model's times; a scaled-down run (the bench's real dispatcher) scales them with its renders. */
export interface FaultTimes {
  /** How long an open circuit waits before one probe render. */
  cooldownMs: number
  /** How often workers check every remote backend's health. */
  healthEveryMs: number
  /** How long a render sent to a backend that is down takes to fail (a refused connection). */
  failFastMs: number
}

export const FAULT_TIMES: FaultTimes = { cooldownMs: 30_000, healthEveryMs: 15_000, failFastMs: 1_000 }
/** Starts of one render before it is failed for good. */
export const MAX_ATTEMPTS = 3
/** Share of its render a transient failure gets through before it fails. */
export const FAILS_AT = 0.5

export interface DownWindow {
  from: number
  until: number
}

export const isDown = (windows: readonly DownWindow[] | undefined, at: number): boolean =>
  !!windows?.some((w) => at >= w.from && at < w.until)

/** The renders whose first start fails partway (a transient backend fault): `rate` of them, drawn from `seed`. */
export function failingRenders(ids: readonly string[], rate: number, seed: number): Set<string> {
  if (rate <= 0) return new Set()
  // why seeded: every dispatcher compared meets the same failures.
  const rand = seededRandom(seed)
  return new Set([...ids].sort().filter(() => rand() < rate))
}

/** One backend's breaker: consecutive faults and when it opened. */
export interface Breaker {
  failures: number
  openedAt: number
}

/** A fault on a backend; `unreachable` when it did not answer at all (then it is passed over until it answers). */
export function fault(view: BackendView, breaker: Breaker, now: number, unreachable = true): void {
  breaker.failures += 1
  view.faults = breaker.failures
  if (unreachable) view.downSince ??= now
  // why a half-open fault re-opens at once: that was the probe failing.
  if (breaker.failures >= CIRCUIT_THRESHOLD || view.circuit === 'half-open') {
    view.circuit = 'open'
    breaker.openedAt = now
  }
}

export function success(view: BackendView, breaker: Breaker): void {
  breaker.failures = 0
  view.faults = 0
  view.circuit = 'closed'
  view.downSince = undefined
}

/** A health check's result: a failing one is a fault; a passing one ends an open circuit's cooldown (one probe decides). */
export function health(view: BackendView, breaker: Breaker, down: boolean, now: number, times = FAULT_TIMES): void {
  if (down) return fault(view, breaker, now)
  view.downSince = undefined
  if (view.circuit === 'open') breaker.openedAt = now - times.cooldownMs
}

/** Open circuits whose cooldown has passed let one probe through. */
export function halfOpen(view: BackendView, breaker: Breaker, now: number, times = FAULT_TIMES): void {
  if (view.circuit === 'open' && now >= breaker.openedAt + times.cooldownMs) view.circuit = 'half-open'
}
