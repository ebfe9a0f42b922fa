// Liveness for the studio and the worker: which renders wait on backends that
// do not answer, and whether a running attempt's backend stopped answering.
// Reads the circuit breaker's record (store.server.ts); waiting.ts is the rule.
import { env } from '#app/lib/env.server.ts'
import type { Render } from '#db/schema.ts'
import { backendsForDispatch, backendView, downSinceOf, needsOf, refreshDispatchBackends, scheduler } from './dispatcher.server.ts'
import { canTake, modelKey, renderTime, type BackendView, type Needs } from './policy.ts'
import { waitingOn, type Waiting } from './waiting.ts'

/** When this backend stopped answering, by the circuit breaker's record; undefined while it answers. */
export async function backendDownSince(backendId: string): Promise<number | undefined> {
  const d = await scheduler()
  const states = await d.store.backendStates([backendId], Date.now(), d.config.circuit)
  return downSinceOf(states[backendId])
}

/** The name the merchant knows a backend by. */
export function backendName(backendId: string): string {
  return backendsForDispatch().find((b) => b.id === backendId)?.name ?? backendId
}

type RenderForWaiting = Pick<Render, 'id' | 'status' | 'tenantId' | 'operation' | 'sceneId' | 'personaId' | 'backend' | 'outputWidth' | 'outputHeight' | 'queuedAt' | 'startedAt' | 'updatedAt'>

export interface RenderOutlook {
  /** Every backend that could take it (or the one running it) is not answering: which, since when, until when. */
  waiting: (Waiting & { backendName: string }) | null
  /** Slots of the backends that could take it and answer (for ETAs); in-process ones count as the worker concurrency. */
  liveSlots: number
  /** Renders a second those backends finish, from their measured render times (unmeasured ones at the measured ones' mean); null until one is measured. */
  rate: number | null
  /** The measured render time of the backend running it, ms; null when not running or not measured. */
  runningMs: number | null
}

/**
 * For the studio: what each of these renders can expect. A waiting render
 * waits on backends that do not answer when every backend that could take it
 * is down; a running one when the backend running it is.
 */
export async function renderOutlooks(list: readonly RenderForWaiting[]): Promise<Record<string, RenderOutlook>> {
  const out: Record<string, RenderOutlook> = {}
  if (list.length === 0) return out
  const d = await scheduler()
  const backends = await refreshDispatchBackends()
  const now = Date.now()
  const states = await d.store.backendStates(backends.map((b) => b.id), now, d.config.circuit)
  const views = backends.map((b) => backendView(b, states[b.id]))
  const timeoutMs = d.config.waitTimeoutMs ?? env().RENDER_WAIT_TIMEOUT
  for (const r of list) {
    const needs: Needs = r.status === 'running' ? { ...needsOf(r, backends), only: [r.backend], fallback: undefined } : needsOf(r, backends)
    const arrived = r.status === 'running' ? (r.startedAt ?? r.updatedAt) : r.queuedAt
    const wait = waitingOn(views, needs, r.backend, arrived.getTime(), timeoutMs)
    const live = views.filter((v) => canTake(v, needs) && v.downSince === undefined && v.circuit !== 'open')
    const slotsOf = (v: BackendView) => Math.min(v.slots, env().WORKER_CONCURRENCY)
    out[r.id] = {
      waiting: wait ? { ...wait, backendName: backendName(wait.backend) } : null,
      liveSlots: live.reduce((sum, v) => sum + slotsOf(v), 0),
      rate: rateOf(live, slotsOf, modelKey(r)),
      runningMs: r.status === 'running' ? measuredMs(views.find((v) => v.id === r.backend), modelKey(r)) : null,
    }
  }
  return out
}

/** A backend's measured render time for the model (else for any model); null when not measured. */
function measuredMs(v: BackendView | undefined, model: string): number | null {
  return v?.renderMs === undefined ? null : renderTime(v, { renderMs: v.renderMs }, model)
}

/** Renders a second these backends finish at their measured render times of the model; null when none is measured. */
function rateOf(live: readonly BackendView[], slotsOf: (v: BackendView) => number, model: string): number | null {
  const measured = live.map((v) => measuredMs(v, model))
  const known = measured.filter((ms): ms is number => ms !== null)
  if (known.length === 0) return null
  const mean = known.reduce((sum, ms) => sum + ms, 0) / known.length
  return live.reduce((sum, v, i) => sum + (1000 * slotsOf(v)) / Math.max(1, measured[i] ?? mean), 0)
}
