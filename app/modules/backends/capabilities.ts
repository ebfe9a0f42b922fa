import { personas as allPersonas, scenes as allScenes } from '#app/modules/looks/index.ts'
import { operations as allOperations, type BackendType, type Operation, type Persona, type Scene } from '#app/modules/looks/schema.ts'
import { backendTypes } from './descriptors.ts'
import type { BackendCapabilities } from './types.ts'

// What each backend TYPE can realise (its descriptor, descriptors.ts), and
// what the connected backends can: a connected backend (pool.server.ts)
// narrows its type to what its server offers and what the merchant allowed;
// lookAvailability() answers the studio's question "which looks can I choose
// with the backends I have?" with a reason per look.

/** Operations that put a persona (a generated person) into the photo. */
export const PERSONA_OPERATIONS: readonly Operation[] = ['model_swap', 'mannequin_to_model', 'tryon']

/** The operations a configured row may take: what it asked for that its type can do, in the canonical order. */
export function allowedOperations(type: BackendType, requested: readonly string[]): Operation[] {
  const offered = backendTypes[type].operations
  return allOperations.filter((op) => offered.includes(op) && requested.includes(op))
}

/** Available (and on which backends), or not and why: `reasonKey` is an i18n key under `backends.reason`. */
export type Availability = { available: true; backendIds: string[] } | { available: false; reasonKey: string }

export interface LookAvailability {
  personas: Record<string, Availability>
  scenes: Record<string, Availability>
  operations: Record<Operation, Availability>
}

/** What lookAvailability needs of a backend: its id and capabilities (a pooled backend's are already narrowed). */
export interface BackendLike {
  readonly id: string
  capabilities(): BackendCapabilities
}

function verdict(ids: string[], reasonKey: string): Availability {
  return ids.length > 0 ? { available: true, backendIds: ids } : { available: false, reasonKey }
}

/**
 * For every persona, scene and operation: can one of these backends realise
 * it, and if not, the first thing the merchant would have to change.
 */
export function lookAvailability(
  backends: readonly BackendLike[],
  looks: { personas?: readonly Persona[]; scenes?: readonly Scene[] } = {},
): LookAvailability {
  const connected = backends.map((b) => ({ id: b.id, caps: b.capabilities(), info: backendTypes[b.capabilities().type] }))
  const modelMakers = connected.filter((b) => b.caps.personas && b.info.personas)
  const withPersonaOps = modelMakers.filter((b) => b.caps.operations.some((op) => PERSONA_OPERATIONS.includes(op)))

  const personas: Record<string, Availability> = {}
  for (const persona of looks.personas ?? allPersonas) {
    const ids = withPersonaOps.filter((b) => b.info.realisesPersona(persona)).map((b) => b.id)
    const reason =
      modelMakers.length === 0
        ? 'backends.reason.personaNeedsGpu'
        : withPersonaOps.length === 0
          ? 'backends.reason.personaOperationsOff'
          : 'backends.reason.personaNotOnBackends'
    personas[persona.id] = verdict(ids, reason)
  }

  const scenes: Record<string, Availability> = {}
  for (const scene of looks.scenes ?? allScenes) {
    const ids = connected.filter((b) => b.caps.operations.length > 0 && b.info.realisesScene(scene)).map((b) => b.id)
    scenes[scene.id] = verdict(ids, 'backends.reason.sceneNotOnBackends')
  }

  const operations = {} as Record<Operation, Availability>
  for (const op of allOperations) {
    const ids = connected.filter((b) => b.caps.operations.includes(op)).map((b) => b.id)
    const reason =
      PERSONA_OPERATIONS.includes(op) && modelMakers.length === 0
        ? 'backends.reason.operationNeedsGpu'
        : 'backends.reason.operationNotOnBackends'
    operations[op] = verdict(ids, reason)
  }
  return { personas, scenes, operations }
}
