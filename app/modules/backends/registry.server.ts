import { AppError } from '#app/lib/errors.ts'
import type { Operation } from '#app/modules/looks/schema.ts'
import { comfyuiBackendsFromEnv } from './comfyui/config.server.ts'
import { createCpuStudioBackend } from './cpu-studio.server.ts'
import type { Backend } from './types.ts'

// why: the deployment's backends. Only the built-in CPU studio backend ships
// today; GPU backends (ComfyUI, SD WebUI, WeShop) register here when connected.
let backends: Backend[] | undefined

/** Adds a backend to this process (a connected GPU server; the bench's zero-latency backend). */
export function registerBackend(backend: Backend): void {
  availableBackends().unshift(backend)
}

export function availableBackends(): Backend[] {
  // why GPU servers first: pickBackend takes the first capable backend, and a
  // connected ComfyUI (COMFYUI_URLS) should do the scene swaps it can do.
  backends ??= [...comfyuiBackendsFromEnv(), createCpuStudioBackend()]
  return backends
}

export function backendById(id: string): Backend {
  const found = availableBackends().find((b) => b.id === id)
  if (!found) throw new AppError('BACKEND_UNAVAILABLE', `Backend "${id}" is not connected`, { retryable: true })
  return found
}

/** The first connected backend that can do the operation (and the persona, if one is asked for). */
export function pickBackend(operation: Operation, needsPersona: boolean): Backend {
  const capable = availableBackends().find((b) => {
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
}
