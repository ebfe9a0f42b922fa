import { AppError } from '#app/lib/errors.ts'
import { closeSharedGuards } from '#app/lib/outbound.server.ts'
import type { Operation } from '#app/modules/looks/schema.ts'
import { comfyuiBackendsFromEnv } from './comfyui/env.server.ts'
import { createCpuStudioBackend } from './cpu-studio/adapter.server.ts'
import { sdwebuiBackendsFromEnv } from './sdwebui/env.server.ts'
import type { Backend } from './types.ts'
import { createWeshopBackend } from './weshop/adapter.server.ts'
import { weshopConfig } from './weshop/env.server.ts'

// The deployment's own backends, from the environment: COMFYUI_URLS,
// SDWEBUI_URLS, WESHOP_API_KEY, and the built-in CPU studio. Backends that
// operators or shops add in Settings → GPU backends come from the pool
// (pool.server.ts), which wraps these too.
let backends: Backend[] | undefined

/** A deployment-wide WeShop account (WESHOP_API_KEY); shops can also connect their own key in Settings. */
function weshopFromEnv(source: Record<string, string | undefined> = process.env): Backend[] {
  if (!source.WESHOP_API_KEY) return []
  const config = weshopConfig(source)
  // why a function: the key is read per request and never kept on the backend object (logs, JSON).
  return [createWeshopBackend({ id: 'weshop', apiKey: () => process.env.WESHOP_API_KEY ?? '', baseUrl: config.baseUrl, presets: config.presets })]
}

/** Adds a backend to this process (a connected GPU server; the bench's zero-latency backend). */
export function registerBackend(backend: Backend): void {
  availableBackends().unshift(backend)
}

export function availableBackends(): Backend[] {
  // why GPU servers first: pickBackend takes the first capable backend, and a
  // connected ComfyUI (COMFYUI_URLS) should do the scene swaps it can do.
  backends ??= [...comfyuiBackendsFromEnv(), ...sdwebuiBackendsFromEnv(), ...weshopFromEnv(), createCpuStudioBackend()]
  return backends
}

/** The first connected backend that can do the operation (and the persona, if one is asked for). */
export function pickBackend(operation: Operation, needsPersona: boolean): Backend {
  return pickFrom(availableBackends(), operation, needsPersona)
}

/** The first backend of `list` that can do the operation (and the persona, if one is asked for). */
export function pickFrom<B extends Backend>(list: readonly B[], operation: Operation, needsPersona: boolean): B {
  const capable = list.find((b) => {
    const c = b.capabilities()
    return c.operations.includes(operation) && (!needsPersona || c.personas)
  })
  if (capable) return capable
  throw new AppError(
    'BACKEND_NEEDS_GPU',
    needsPersona
      ? "Choosing a model needs a GPU backend (ComfyUI, SD WebUI or WeShop). Connect one in Settings, or pick 'No model' to place the product in a scene."
      : `No connected backend can do "${operation}". Connect a GPU backend in Settings.`,
  )
}

export function personasAvailable(): boolean {
  return availableBackends().some((b) => b.capabilities().personas)
}

/** Closes what backends hold open (a ComfyUI WebSocket keeps the process alive); call on shutdown. */
export async function closeBackends(): Promise<void> {
  const open = backends ?? []
  backends = undefined
  await Promise.all(open.map((b) => (b as Backend & { close?: () => Promise<void> | void }).close?.()))
  await closeSharedGuards()
}
