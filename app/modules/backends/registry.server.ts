import { AppError } from '#app/lib/errors.ts'
import { closeSharedGuards } from '#app/lib/outbound.server.ts'
import type { BackendType, Operation } from '#app/modules/looks/schema.ts'
import { comfyuiDescriptor } from './comfyui/descriptor.server.ts'
import { cpuStudioDescriptor } from './cpu-studio/descriptor.server.ts'
import type { BackendDescriptor, Closable } from './descriptor.server.ts'
import { sdwebuiDescriptor } from './sdwebui/descriptor.server.ts'
import type { Backend } from './types.ts'
import { weshopDescriptor } from './weshop/descriptor.server.ts'

// The deployment's own backends, from the environment: COMFYUI_URLS,
// SDWEBUI_URLS, WESHOP_API_KEY, and the built-in CPU studio. Backends that
// operators or shops add in Settings → GPU backends come from the pool
// (pool.server.ts), which wraps these too.

/**
 * How each backend type is built, one line each (what each type is:
 * descriptors.ts); the typecheck fails when a type is missing. why GPU servers
 * first: pickBackend takes the first capable backend, and a connected ComfyUI
 * (COMFYUI_URLS) should do the scene swaps it can do.
 */
const descriptors = {
  comfyui: comfyuiDescriptor,
  sdwebui: sdwebuiDescriptor,
  weshop: weshopDescriptor,
  'cpu-studio': cpuStudioDescriptor,
} satisfies Record<BackendType, BackendDescriptor>

let backends: Backend[] | undefined

/** The server half of a type's descriptor (how it is built). */
export function descriptorOf(type: BackendType): BackendDescriptor {
  return descriptors[type]
}

/** Adds a backend to this process (a connected GPU server; the bench's zero-latency backend). */
export function registerBackend(backend: Backend): void {
  availableBackends().unshift(backend)
}

export function availableBackends(): Backend[] {
  backends ??= Object.values(descriptors).flatMap((d) => d.fromEnv())
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
  await Promise.all(open.map((b) => (b as Closable).close?.()))
  await closeSharedGuards()
}
