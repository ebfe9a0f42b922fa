import { personas as allPersonas, scenes as allScenes } from '#app/modules/looks/index.ts'
import {
  operations as allOperations,
  type BackendType,
  type Operation,
  type Persona,
  type Scene,
} from '#app/modules/looks/schema.ts'
import { comfyuiPersonaSettingsSchema, comfyuiSceneSettingsSchema } from './comfyui/look-settings.ts'
import { templates as comfyuiTemplates } from './comfyui/templates.ts'
import { personaSettings as sdwebuiPersona, sceneSettings as sdwebuiScene } from './sdwebui/look-settings.ts'
import { personaSettings as weshopPersona, sceneSettings as weshopScene } from './weshop/look-settings.ts'
import type { BackendCapabilities } from './types.ts'

// What each backend TYPE can realise: its operations, and for every scene and
// persona whether the look data says how to do it on that type. A connected
// backend (pool.server.ts) narrows this further to what its server offers and
// what the merchant allowed; lookAvailability() answers the studio's question
// "which looks can I choose with the backends I have?" with a reason per look.

/** Operations that put a persona (a generated person) into the photo. */
export const PERSONA_OPERATIONS: readonly Operation[] = ['model_swap', 'mannequin_to_model', 'tryon']

/** The types a merchant or operator connects in Settings (the CPU studio is built in). */
export const configurableTypes = ['comfyui', 'sdwebui', 'weshop'] as const satisfies readonly BackendType[]
export type ConfigurableType = (typeof configurableTypes)[number]

export type HttpAuthScheme = 'bearer' | 'basic'

export interface BackendTypeInfo {
  type: BackendType
  /** Everything a backend of this type may be asked to do; a server or a merchant can narrow it. */
  operations: readonly Operation[]
  /** Whether the type generates people at all. */
  personas: boolean
  realisesScene(scene: Scene): boolean
  realisesPersona(persona: Persona): boolean
  /** What Settings asks for: an optional HTTP auth for self-hosted servers, an API key for a hosted service. */
  credentials: 'none' | 'http-auth' | 'api-key'
  /** The HTTP auth schemes its client can send. */
  authSchemes: readonly HttpAuthScheme[]
  /** Whether the URL may be left empty (the service's public endpoint is the default). */
  urlOptional: boolean
}

/** Whether a backend's own settings module resolves the look (they throw when the mapping is missing or invalid). */
function resolves(settings: () => unknown): boolean {
  try {
    settings()
    return true
  } catch {
    return false
  }
}

// why a copy and not an import of cpu-studio/adapter.server.ts: that module loads
// sharp; this one is read by pages and tests without it (a test keeps the two equal).
const CPU_STUDIO_OPERATIONS: readonly Operation[] = ['product_scene', 'scene_swap']

export const backendTypes: Readonly<Record<BackendType, BackendTypeInfo>> = {
  'cpu-studio': {
    type: 'cpu-studio',
    operations: CPU_STUDIO_OPERATIONS,
    personas: false,
    realisesScene: (scene) => scene.backends['cpu-studio'] !== undefined,
    realisesPersona: () => false,
    credentials: 'none',
    authSchemes: [],
    urlOptional: true,
  },
  comfyui: {
    type: 'comfyui',
    operations: [...new Set(comfyuiTemplates.map((t) => t.operation))],
    personas: comfyuiTemplates.some((t) => t.persona === 'required'),
    realisesScene: (scene) => comfyuiSceneSettingsSchema.safeParse(scene.backends.comfyui).success,
    realisesPersona: (persona) => comfyuiPersonaSettingsSchema.safeParse(persona.backends.comfyui).success,
    credentials: 'http-auth',
    authSchemes: ['bearer', 'basic'],
    urlOptional: false,
  },
  // The operations are what each adapter implements (a test keeps them equal
  // to its capabilities()); a pooled backend may do these ∩ what its row allows.
  sdwebui: {
    type: 'sdwebui',
    operations: ['scene_swap', 'model_swap', 'product_scene'],
    personas: true,
    realisesScene: (scene) => resolves(() => sdwebuiScene(scene)),
    realisesPersona: (persona) => resolves(() => sdwebuiPersona(persona)),
    credentials: 'http-auth',
    // why basic only: SD WebUI's --api-auth is HTTP basic auth.
    authSchemes: ['basic'],
    urlOptional: false,
  },
  weshop: {
    type: 'weshop',
    operations: ['scene_swap', 'model_swap', 'mannequin_to_model', 'tryon', 'product_scene'],
    personas: true,
    realisesScene: (scene) => resolves(() => weshopScene(scene)),
    realisesPersona: (persona) => resolves(() => weshopPersona(persona)),
    credentials: 'api-key',
    authSchemes: [],
    urlOptional: true,
  },
}

export function isConfigurableType(type: string): type is ConfigurableType {
  return (configurableTypes as readonly string[]).includes(type)
}

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
