// When is waiting work waiting on a backend that is not answering, and until
// when may it wait? Pure, so the dispatcher (which fails it at the deadline)
// and the studio (which shows the wait) read the same truth: the circuit
// breaker's record of when each backend stopped answering.
import { canTake, type BackendView, type Needs } from './policy.ts'

export interface Waiting {
  /** The backend named to the merchant: the one the render was made for, else the last to go down. */
  backend: string
  /** When that backend stopped answering (ms). */
  since: number
  /** When the render gives up (ms): RENDER_WAIT_TIMEOUT after it arrived or its last backend went down, whichever is later. */
  until: number
}

/**
 * The wait of work with these needs that arrived at `arrivedAt`, when every
 * backend that could take it is not answering; undefined when one answers
 * (or none can take it at all: that is another failure).
 */
export function waitingOn(
  backends: readonly BackendView[],
  needs: Needs,
  home: string | undefined,
  arrivedAt: number,
  timeoutMs: number,
): Waiting | undefined {
  const candidates = backends.filter((b) => canTake(b, needs))
  if (candidates.length === 0 || candidates.some((b) => b.downSince === undefined)) return undefined
  const latest = Math.max(...candidates.map((b) => b.downSince!))
  const named = candidates.find((b) => b.id === home) ?? candidates.find((b) => b.downSince === latest)!
  return { backend: named.id, since: named.downSince!, until: Math.max(arrivedAt, latest) + timeoutMs }
}
