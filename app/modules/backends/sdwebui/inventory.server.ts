import { AppError } from '#app/lib/errors.ts'
import type { BackendCapabilities } from '../types.ts'
import type { ControlnetUnit, Sampler, Scheduler, SdModel } from './api.ts'
import type { SdwebuiClient } from './client.server.ts'
import { checkpointName, findCheckpoint, findControlnetModel, unitFor, type Resolved } from './payload.ts'
import type { ControlnetUnitSettings, SdwebuiSceneSettings } from './look-settings.ts'

// The server's lists (checkpoints, samplers, schedulers, ControlNet models and
// preprocessors), read once per TTL, and the names a look's settings take on
// this server.

export interface Inventory {
  at: number
  checkpoints: SdModel[]
  samplers: Sampler[]
  /** null before v1.9 (schedulers were part of sampler names). */
  schedulers: Scheduler[] | null
  /** null without the ControlNet extension. */
  controlnetModels: string[] | null
  controlnetModules: string[] | null
}

/** One server's lists as last read; reading them also updates `capabilities.models`. */
export interface InventoryCache {
  client: SdwebuiClient
  capabilities: BackendCapabilities
  /** How long the lists are trusted. */
  inventoryTtlMs: number
  inventory?: Promise<Inventory>
}

async function fetchInventory(s: InventoryCache, signal?: AbortSignal): Promise<Inventory> {
  const { client } = s
  const [checkpoints, samplers, schedulers, controlnetModels, controlnetModules] = await Promise.all([
    client.sdModels(signal),
    client.samplers(signal),
    client.schedulers(signal),
    client.controlnetModels(signal),
    client.controlnetModules(signal),
  ])
  s.capabilities.models = checkpoints.map((m) => checkpointName(m.title))
  return { at: Date.now(), checkpoints, samplers, schedulers, controlnetModels, controlnetModules }
}

/** The cached lists while younger than `maxAgeMs`, else a fresh read. */
export function currentInventory(s: InventoryCache, signal?: AbortSignal, maxAgeMs = s.inventoryTtlMs): Promise<Inventory> {
  const cached = s.inventory
  const fresh = cached?.then((inv) => Date.now() - inv.at <= maxAgeMs)
  const reload = () => {
    const next = fetchInventory(s, signal)
    s.inventory = next
    // why: a failed read must not be cached (the server may be starting).
    next.catch(() => {
      if (s.inventory === next) s.inventory = undefined
    })
    return next
  }
  if (!cached || !fresh) return reload()
  return fresh.then((ok) => (ok ? cached : reload()), reload)
}

/** What a look asks for, to match against a server's lists. */
export interface Wanted {
  scene: SdwebuiSceneSettings
  units: ControlnetUnitSettings[]
  /** The work canvas, base64: every ControlNet unit's image. */
  image: string
  work: { width: number; height: number }
}

/** The names on this server for what the look asks, or the error naming what the server lacks. */
export function resolveNames(baseUrl: string, inv: Inventory, wanted: Wanted): Resolved | AppError {
  const { scene, units, image, work } = wanted
  const missing = (what: string, details: Record<string, unknown>) =>
    new AppError('BACKEND_FAILED', `The SD WebUI server at ${baseUrl} ${what}.`, {
      retryable: false,
      details: { backend: baseUrl, ...details },
    })
  const checkpoint = findCheckpoint(inv.checkpoints, scene.checkpoint)
  if (!checkpoint) {
    return missing(
      `has no checkpoint "${scene.checkpoint}" (it has: ${inv.checkpoints.map((m) => m.title).join(', ') || 'none'})`,
      {
        checkpoint: scene.checkpoint,
      },
    )
  }
  let sampler = inv.samplers.find((s) => s.name === scene.sampler_name || s.aliases.includes(scene.sampler_name))
  let scheduler = scene.scheduler
  if (inv.schedulers === null) {
    // Before v1.9 the schedule was part of the sampler's name ("DPM++ 2M Karras").
    const combined = `${scene.sampler_name} ${scene.scheduler}`
    sampler = inv.samplers.find((s) => s.name === combined || s.aliases.includes(combined)) ?? sampler
  } else {
    const found = inv.schedulers.find(
      (s) => s.label === scene.scheduler || s.name === scene.scheduler || s.aliases?.includes(scene.scheduler),
    )
    if (!found) return missing(`has no scheduler "${scene.scheduler}"`, { scheduler: scene.scheduler })
    scheduler = found.label
  }
  // why refuse: SD WebUI silently swaps an unknown sampler for its default.
  if (!sampler) return missing(`has no sampler "${scene.sampler_name}"`, { sampler: scene.sampler_name })
  const resolvedUnits: ControlnetUnit[] = []
  if (units.length > 0) {
    if (inv.controlnetModels === null || inv.controlnetModules === null) {
      return missing('has no ControlNet extension (sd-webui-controlnet, or Forge’s built-in one)', {})
    }
    for (const unit of units) {
      // why refuse here: SD WebUI logs a broken ControlNet unit and renders without it.
      if (!inv.controlnetModules.includes(unit.module)) {
        return missing(`has no ControlNet preprocessor "${unit.module}"`, { controlnetModule: unit.module })
      }
      const model = findControlnetModel(inv.controlnetModels, unit.model)
      if (!model) return missing(`has no ControlNet model "${unit.model}"`, { controlnetModel: unit.model })
      resolvedUnits.push(unitFor(unit, model, image, work))
    }
  }
  return { checkpoint, sampler: sampler.name, scheduler, units: resolvedUnits }
}

/** Names on this server for what the look asks, or a clear error; a miss re-reads the lists once (files may have been added). */
export async function resolve(s: InventoryCache, wanted: Wanted, signal: AbortSignal): Promise<Resolved> {
  const { baseUrl } = s.client
  let inv = await currentInventory(s, signal)
  let result = resolveNames(baseUrl, inv, wanted)
  if (result instanceof AppError && Date.now() - inv.at > 10_000) {
    inv = await currentInventory(s, signal, 0)
    result = resolveNames(baseUrl, inv, wanted)
  }
  if (result instanceof AppError) throw result
  return result
}
