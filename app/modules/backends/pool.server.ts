import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import type { BackendType, Operation } from '#app/modules/looks/schema.ts'
import type { BackendConfig } from '#db/schema.ts'
import type { Closable } from './descriptor.server.ts'
import { enabledBackendConfigs, specOf, type BackendSpec } from './rows.server.ts'
import { availableBackends, descriptorOf, pickFrom } from './registry.server.ts'
import { slotsOf } from './slots.ts'
import type { Backend, BackendCapabilities, RenderControls, RenderRequest, RenderResult } from './types.ts'

// The backends a shop renders on: the deployment's (COMFYUI_URLS and the
// built-in CPU studio, through the registry, plus enabled backend_configs
// rows without a tenant) and the shop's own enabled rows. A row's backend is
// built once per version of the row (id + updatedAt): an edited row is
// rebuilt, a removed or disabled one is closed once its running renders end.

/** A backend as the scheduler sees it: the Backend contract plus how the pool may use it. */
export interface PooledBackend extends Backend {
  /** The backend_configs row (null for the deployment's environment backends and the CPU studio). */
  readonly configId: string | null
  /** The shop that connected it (null = the deployment's). */
  readonly tenantId: string | null
  readonly name: string
  readonly type: BackendType
  /** Renders it may run at once. */
  readonly slots: number
  /** What it may be given: what its server can do, narrowed to what the row allows. */
  readonly operations: readonly Operation[]
  /** What one second of its time costs (for the scheduler's choice and usage); 0 when not set. */
  readonly costPerSecond: number
  /**
   * The adapter itself, for what only its type answers (SD WebUI's
   * loadedModel()). Render through the pooled backend, which knows when the
   * row changed.
   */
  readonly adapter: Backend
  /** Closes what it holds open once its running renders finish; renders asked for after that are refused. */
  close(): Promise<void>
}

/** Builds a backend from a spec (a saved row, or a form's "Test connection"). The caller closes it. */
export async function buildBackend(spec: BackendSpec): Promise<Closable> {
  const build = descriptorOf(spec.type).build
  if (!build) throw new AppError('INVALID_INPUT', `Backend type "${spec.type}" cannot be configured`)
  return build(spec)
}

interface PoolMeta {
  configId: string | null
  tenantId: string | null
  name: string
  slots: number
  /** Undefined = whatever the backend says it can do. */
  allowed?: readonly Operation[]
  costPerSecond: number
  closeInner: boolean
}

function narrowed(caps: BackendCapabilities, meta: PoolMeta): BackendCapabilities {
  const operations = meta.allowed ? caps.operations.filter((op) => meta.allowed!.includes(op)) : caps.operations
  // why a spread and not a literal: `slots` joins BackendCapabilities with the scheduler.
  const out = { ...caps, operations, slots: meta.slots }
  return out
}

function pooled(inner: Closable, meta: PoolMeta): PooledBackend {
  let running = 0
  let retired = false
  let closed: Promise<void> | undefined
  let whenIdle: (() => void) | undefined

  const closeNow = async () => {
    if (meta.closeInner) await inner.close?.()
  }
  const backend: PooledBackend = {
    id: inner.id,
    configId: meta.configId,
    tenantId: meta.tenantId,
    name: meta.name,
    get type() {
      return inner.capabilities().type
    },
    slots: meta.slots,
    get operations() {
      return narrowed(inner.capabilities(), meta).operations
    },
    costPerSecond: meta.costPerSecond,
    adapter: inner,
    capabilities: () => narrowed(inner.capabilities(), meta),
    health: () => inner.health(),
    async render(request: RenderRequest, controls: RenderControls): Promise<RenderResult> {
      if (retired) {
        throw new AppError('BACKEND_UNAVAILABLE', `Backend "${meta.name}" was changed or removed; the render moves to another.`, {
          retryable: true,
        })
      }
      if (!backend.operations.includes(request.operation)) {
        throw new AppError('INVALID_INPUT', `Backend "${meta.name}" is not set up to do "${request.operation}".`, {
          details: { backend: inner.id, operation: request.operation },
        })
      }
      running++
      try {
        return await inner.render(request, controls)
      } finally {
        running--
        if (running === 0) whenIdle?.()
      }
    },
    close() {
      retired = true
      closed ??= (running === 0 ? Promise.resolve() : new Promise<void>((resolve) => (whenIdle = resolve))).then(closeNow)
      return closed
    },
  }
  // why not enumerable: a log line or JSON of the pooled backend must not walk into the adapter's client.
  Object.defineProperty(backend, 'adapter', { enumerable: false })
  return backend
}

// ------------------------------------------------------------ cache

interface Entry {
  /** Row version: id + updatedAt. */
  version: string
  updatedAt: number
  tenantId: string | null
  /** Null when the row could not be built (logged once per version). */
  backend: Promise<PooledBackend | null>
}

const entries = new Map<string, Entry>()
const environment = new WeakMap<Backend, PooledBackend>()

function retire(configId: string): void {
  const entry = entries.get(configId)
  if (!entry) return
  entries.delete(configId)
  void entry.backend
    .then((b) => b?.close())
    .catch((e: unknown) => logger().warn({ backend: configId, reason: (e as Error).message }, 'closing a backend failed'))
}

function entryFor(row: BackendConfig): Entry {
  const version = `${row.id}@${row.updatedAt.getTime()}`
  const current = entries.get(row.id)
  // why the time check: a caller that read the rows before an edit must not put the old version back.
  if (current && (current.version === version || current.updatedAt > row.updatedAt.getTime())) return current
  if (current) retire(row.id)
  const entry: Entry = {
    version,
    updatedAt: row.updatedAt.getTime(),
    tenantId: row.tenantId,
    backend: (async () => {
      try {
        const inner = await buildBackend(specOf(row))
        logger().info({ backend: inner.id, type: row.type, url: row.url, tenant: row.tenantId }, 'backend ready')
        return pooled(inner, {
          configId: row.id,
          tenantId: row.tenantId,
          name: row.name,
          slots: row.slots,
          allowed: row.operations as Operation[],
          costPerSecond: row.costPerSecond,
          closeInner: true,
        })
      } catch (e) {
        // why the message only: an error built around a secret must not carry it into a log line.
        logger().warn(
          { backend: `cfg-${row.id}`, type: row.type, reason: (e as Error).message },
          'backend could not be built; skipped',
        )
        return null
      }
    })(),
  }
  entries.set(row.id, entry)
  return entry
}

/** Closes cached backends of these scopes whose rows are gone or disabled. */
function sweep(rows: BackendConfig[], inScope: (tenantId: string | null) => boolean): void {
  const live = new Set(rows.map((r) => r.id))
  for (const [id, entry] of entries) if (inScope(entry.tenantId) && !live.has(id)) retire(id)
}

function fromEnvironment(): PooledBackend[] {
  return availableBackends().map((inner) => {
    let wrapped = environment.get(inner)
    if (!wrapped) {
      wrapped = pooled(inner, {
        configId: null,
        tenantId: null,
        name: inner.id,
        // why the scheduler's default: the CPU studio runs in every worker process, so its slots are the workers'.
        slots: slotsOf(inner.capabilities()),
        costPerSecond: 0,
        // why: the registry owns these and closes them (closeBackends).
        closeInner: false,
      })
      environment.set(inner, wrapped)
    }
    return wrapped
  })
}

async function built(rows: BackendConfig[]): Promise<PooledBackend[]> {
  const backends = await Promise.all(rows.map((row) => entryFor(row).backend))
  return backends.filter((b): b is PooledBackend => b !== null)
}

/**
 * The backends a shop (or, with null, the deployment alone) renders on: the
 * shop's own rows first, then the deployment's rows, then the environment's
 * backends (COMFYUI_URLS, the CPU studio last). Ids are stable: `cfg-<row id>`.
 */
export async function backendsFor(tenantId: string | null): Promise<PooledBackend[]> {
  const rows = await enabledBackendConfigs(tenantId)
  sweep(rows, (t) => t === null || t === tenantId)
  const own = rows.filter((r) => r.tenantId !== null)
  const deployment = rows.filter((r) => r.tenantId === null)
  return [...(await built(own)), ...(await built(deployment)), ...fromEnvironment()]
}

/** Every configured backend of every shop and the deployment (health checks). */
export async function allBackends(): Promise<PooledBackend[]> {
  return [...(await configuredBackends()), ...environmentBackends()]
}

/** Every enabled backend_configs row's backend (the deployment's and every shop's). */
export async function configuredBackends(): Promise<PooledBackend[]> {
  const rows = await enabledBackendConfigs('all')
  sweep(rows, () => true)
  return built(rows)
}

/** The environment's backends (COMFYUI_URLS, SDWEBUI_URLS, WESHOP_API_KEY, the CPU studio), read now. */
export function environmentBackends(): PooledBackend[] {
  return fromEnvironment()
}

/** Closes every backend the pool built (shutdown; tests). */
export async function closePool(): Promise<void> {
  const open = [...entries.values()]
  entries.clear()
  await Promise.all(open.map(async (e) => (await e.backend)?.close()))
}

/**
 * The backend a render was dispatched to, by id: a pool row's (`cfg-…`) or one
 * of the environment's. Unknown (a row removed since) is retryable: the
 * scheduler moves the render to another backend of its type.
 */
export async function pooledBackendById(id: string): Promise<PooledBackend> {
  // why the environment's first: most renders run there (the CPU studio), and it needs no query.
  const found = environmentBackends().find((b) => b.id === id) ?? (await configuredBackends()).find((b) => b.id === id)
  if (!found) throw new AppError('BACKEND_UNAVAILABLE', `Backend "${id}" is not connected`, { retryable: true })
  return found
}

/**
 * The backend a new render of this shop is made for: its own servers first,
 * then the deployment's, the CPU studio last. The scheduler may run it on any
 * backend of the same type the shop can use (failover, model affinity).
 */
export async function pickBackendFor(tenantId: string, operation: Operation, needsPersona: boolean): Promise<PooledBackend> {
  return pickFrom(await backendsFor(tenantId), operation, needsPersona)
}
