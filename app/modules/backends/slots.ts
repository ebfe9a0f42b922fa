import { env } from '#app/lib/env.server.ts'
import { backendTypes } from './descriptors.ts'
import type { BackendCapabilities } from './types.ts'

/**
 * Renders a backend takes at once: what it declares, else one per GPU server.
 * An in-process backend (the CPU studio) runs in every worker process, so its
 * real limit is the workers' own concurrency; the scheduler never holds it back.
 */
export function slotsOf(c: BackendCapabilities): number {
  if (c.slots !== undefined) return Math.max(1, Math.floor(c.slots))
  return backendTypes[c.type]?.inProcess === true ? env().WORKER_CONCURRENCY * 16 : 1
}
