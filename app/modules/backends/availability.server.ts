import { logger } from '#app/lib/logger.server.ts'
import { lookAvailability } from './capabilities.ts'
import { backendTypes } from './descriptors.ts'
import { checkBackends, healthOf } from './health.server.ts'
import { backendsFor, type PooledBackend } from './pool.server.ts'

// What the studio may offer: looks are enabled only through backends whose
// last health check passed (health.server.ts keeps that status for every
// process); a look only a backend that is down could make says which one.

/** How long the studio waits for the first check of a backend nobody has checked yet. */
const FIRST_CHECK_TIMEOUT_MS = 3_000

export interface PersonaChoice {
  available: boolean
  /** i18n key of why not (null when available). */
  reasonKey: string | null
  /** Values for the reason's placeholders ({backends}: the names of the backends that are down). */
  reasonVars?: Record<string, string>
}

/**
 * Which of these backends answered their last health check. An in-process
 * backend (the CPU studio) has no server to be down; a backend never checked
 * (just saved) is checked now, once, and its result kept like any other check.
 */
export async function liveBackends(backends: readonly PooledBackend[]): Promise<{ live: PooledBackend[]; down: PooledBackend[] }> {
  const inProcess = (b: PooledBackend) => backendTypes[b.type]?.inProcess === true
  const remote = backends.filter((b) => !inProcess(b))
  const statuses = new Map(await Promise.all(remote.map(async (b) => [b.id, await healthOf(b.id).catch(() => null)] as const)))
  const unchecked = remote.filter((b) => statuses.get(b.id) === null)
  if (unchecked.length > 0) {
    const ids = new Set(unchecked.map((b) => b.id))
    const checked = await checkBackends({ timeoutMs: FIRST_CHECK_TIMEOUT_MS, only: (b) => ids.has(b.id) }).catch((e: unknown) => {
      logger().warn({ reason: (e as Error).message }, 'could not check backends for the studio')
      return []
    })
    for (const c of checked) statuses.set(c.backendId, { ok: c.check.ok, consecutiveFailures: 0, checkedAt: c.check.checkedAt, detail: null })
  }
  const isLive = (b: PooledBackend) => inProcess(b) || statuses.get(b.id)?.ok === true
  return { live: backends.filter(isLive), down: backends.filter((b) => !isLive(b)) }
}

/** For the studio: which personas the shop's live backends can realise, why not, and which backends that could are down. */
export async function studioPersonaAvailability(
  tenantId: string,
): Promise<{ any: boolean; personas: Record<string, PersonaChoice>; down: string[] }> {
  const all = await backendsFor(tenantId)
  const { live, down } = await liveBackends(all)
  const now = lookAvailability(live).personas
  const ifUp = lookAvailability(all).personas
  const out: Record<string, PersonaChoice> = {}
  const named = new Set<string>()
  for (const [id, a] of Object.entries(now)) {
    if (a.available) {
      out[id] = { available: true, reasonKey: null }
      continue
    }
    const could = ifUp[id]
    if (could?.available) {
      const names = down.filter((b) => could.backendIds.includes(b.id)).map((b) => b.name)
      for (const n of names) named.add(n)
      out[id] = { available: false, reasonKey: 'backends.reason.personaBackendDown', reasonVars: { backends: names.join(', ') } }
    } else {
      // why the reason with every backend counted: a setting to change comes before a server to restart.
      out[id] = { available: false, reasonKey: could && !could.available ? could.reasonKey : a.reasonKey }
    }
  }
  return { any: Object.values(out).some((a) => a.available), personas: out, down: [...named] }
}
