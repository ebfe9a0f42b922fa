import { env } from '#app/lib/env.server.ts'
import type { BackendCapabilities } from './types.ts'

/**
 * Renders a backend takes at once: what it declares, else one per GPU server.
 * The in-process CPU studio runs in every worker process, so its real limit is
 * the workers' own concurrency; the scheduler never holds it back.
 */
export function slotsOf(c: BackendCapabilities): number {
  if (c.slots !== undefined) return Math.max(1, Math.floor(c.slots))
  return c.type === 'cpu-studio' ? env().WORKER_CONCURRENCY * 16 : 1
}
