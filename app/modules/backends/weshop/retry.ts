// How long to wait between WeShop requests and polls: pure timing, so the
// backoff and the reading of Retry-After can be tested without a clock.

export interface WeshopPollOptions {
  /** First wait after starting a run, ms; each next wait is `factor` times longer, up to `maxMs`. */
  initialMs: number
  factor: number
  maxMs: number
  /** ± share of each wait drawn at random, so many renders don't poll in step. */
  jitter: number
  /** Give up (retryable timeout) after this long; the run may still finish on WeShop. */
  maxWaitMs: number
  /** Consecutive failed polls (network, 5xx, 429, retryable envelopes) tolerated before giving up. */
  maxPollErrors: number
}

export const defaultPoll: WeshopPollOptions = {
  initialMs: 2000,
  factor: 1.5,
  maxMs: 10_000,
  jitter: 0.2,
  maxWaitMs: 15 * 60_000,
  maxPollErrors: 6,
}

/** The n-th wait (0-based) between polls: exponential, jittered, never above the cap. */
export function pollDelay(n: number, poll: WeshopPollOptions, random: () => number = Math.random): number {
  const base = Math.min(poll.maxMs, poll.initialMs * poll.factor ** n)
  const jittered = base * (1 + poll.jitter * (2 * random() - 1))
  return Math.max(0, Math.round(Math.min(poll.maxMs, jittered)))
}

/** The wait before the next try of a request (1-based attempt): a doubling ceiling, drawn from its upper half. */
export function backoff(attempt: number, range: { retryMinMs: number; retryMaxMs: number }, random: () => number): number {
  const ceiling = Math.min(range.retryMaxMs, range.retryMinMs * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

/** Retry-After as ms: seconds (fractions allowed) or an HTTP date. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
