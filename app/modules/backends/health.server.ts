import { performance } from 'node:perf_hooks'
import type { Redis } from 'ioredis'
import { z } from 'zod'
import { env } from '#app/lib/env.server.ts'
import { AppError, isAppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { redisConnection } from '#app/lib/redis.server.ts'
import type { BackendType } from '#app/modules/looks/schema.ts'
import type { BackendCheck, BackendConfig } from '#db/schema.ts'
import {
  configBackendId,
  getBackendConfig,
  saveBackendCheck,
  sameServer,
  specOfInput,
  type BackendConfigInput,
} from './rows.server.ts'
import { backendTypes } from './descriptors.ts'
import { reasonOf, type CheckReason } from './failure.server.ts'
import { allBackends, buildBackend } from './pool.server.ts'
import type { Backend } from './types.ts'

// Is each backend up? checkBackends() asks every configured backend's
// health() (with a timeout), keeps the answer on its row (lastCheck, shown in
// Settings) and publishes it to Redis, where the scheduler's circuit breaker
// reads it from any process: ok or failed, consecutive failures, when.

export const DEFAULT_CHECK_TIMEOUT_MS = 10_000
/** why a TTL: a removed backend's status must not linger for ever. */
const STATUS_TTL_SECONDS = 24 * 60 * 60

export interface HealthStatus {
  ok: boolean
  /** Failed checks in a row (0 after an ok one). */
  consecutiveFailures: number
  checkedAt: string
  detail: string | null
}

const statusSchema = z.object({
  ok: z.enum(['0', '1']).transform((v) => v === '1'),
  failures: z.coerce.number().int().min(0).default(0),
  checkedAt: z.string(),
  detail: z.string().default(''),
})

let client: Redis | undefined

/** A producer connection (fails fast when Redis is down), ready before the first command. */
async function redis(): Promise<Redis> {
  if (!client || client.status === 'end') client = redisConnection('producer')
  const c = client
  if (c.status === 'ready') return c
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer)
      c.off('ready', onReady)
      if (error) reject(error)
      else resolve()
    }
    const onReady = () => done()
    const timer = setTimeout(() => done(new AppError('INTERNAL', 'Redis did not answer within 3 s')), 3_000)
    c.once('ready', onReady)
  })
  return c
}

const statusKey = (backendId: string) => `${env().QUEUE_PREFIX}:backend-health:${backendId}`

function toStatus(raw: Record<string, string>): HealthStatus | null {
  const parsed = statusSchema.safeParse(raw)
  if (!parsed.success) return null
  const { ok, failures, checkedAt, detail } = parsed.data
  return { ok, consecutiveFailures: failures, checkedAt, detail: detail || null }
}

/** Publishes one check of a backend; a failure adds to its run of failures, an ok one ends it. */
export async function recordHealth(backendId: string, ok: boolean, detail?: string): Promise<HealthStatus> {
  const key = statusKey(backendId)
  const fields = { ok: ok ? '1' : '0', checkedAt: new Date().toISOString(), detail: detail ?? '' }
  const tx = (await redis()).multi()
  if (ok) tx.hset(key, { ...fields, failures: '0' })
  else tx.hset(key, fields).hincrby(key, 'failures', 1)
  tx.expire(key, STATUS_TTL_SECONDS).hgetall(key)
  const results = await tx.exec()
  const [error, raw] = results?.at(-1) ?? [new Error('the transaction was discarded'), null]
  if (error) throw error
  const status = toStatus(raw as Record<string, string>)
  if (!status) throw new AppError('INTERNAL', `The health status of ${backendId} could not be read back`)
  return status
}

/** The last published check of a backend, or null when it was never checked (or not for a day). */
export async function healthOf(backendId: string): Promise<HealthStatus | null> {
  const raw = await (await redis()).hgetall(statusKey(backendId))
  return Object.keys(raw).length === 0 ? null : toStatus(raw)
}

/** Closes the status connection (shutdown; tests). */
export async function closeHealth(): Promise<void> {
  const c = client
  client = undefined
  if (c && c.status !== 'end') await c.quit().catch(() => c.disconnect())
}

/** health() with a time limit; never throws: a crash or a timeout is a failed check with the reason in words. */
export async function checkBackend(backend: Backend, timeoutMs = DEFAULT_CHECK_TIMEOUT_MS): Promise<BackendCheck> {
  const started = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const timedOut = new Promise<{ ok: false; detail: string; reason: CheckReason }>((resolve) => {
    const limit = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`
    timer = setTimeout(() => resolve({ ok: false, detail: `No answer within ${limit}`, reason: 'timeout' }), timeoutMs)
  })
  let result: { ok: boolean; detail?: string; reason?: CheckReason; models?: unknown }
  try {
    result = await Promise.race([backend.health(), timedOut])
  } catch (e) {
    const detail = isAppError(e) ? e.message : `The health check failed (${(e as Error).message})`
    result = { ok: false, detail, reason: reasonOf(e) }
  } finally {
    clearTimeout(timer)
  }
  const reported = z.array(z.string()).safeParse(result.models)
  return {
    ok: result.ok,
    detail: result.detail,
    ...(result.ok ? {} : { reason: result.reason ?? 'unknown' }),
    latencyMs: Math.round(performance.now() - started),
    models: result.ok ? (reported.success ? reported.data : backend.capabilities().models) : undefined,
    checkedAt: new Date().toISOString(),
  }
}

/** Hears every remote backend's check result: the scheduler's circuit breaker. */
export type HealthListener = (backendId: string, ok: boolean) => Promise<void> | void
let healthListener: HealthListener | undefined

/**
 * Registers who hears each remote backend's check (set at startup, see
 * scheduler/dispatcher.server.ts `listenToHealthChecks`). why a callback: the
 * scheduler imports backends, so backends must not import the scheduler.
 */
export function onBackendHealth(listener: HealthListener | undefined): void {
  healthListener = listener
}

async function publish(backendId: string, type: string, check: BackendCheck): Promise<void> {
  try {
    await recordHealth(backendId, check.ok, check.detail)
    // why only remote backends: an in-process one (the CPU studio) has no server to be down.
    if (backendTypes[type as BackendType]?.inProcess !== true) await healthListener?.(backendId, check.ok)
  } catch (e) {
    logger().warn({ backend: backendId, reason: (e as Error).message }, 'could not publish a backend health check')
  }
}

export interface CheckedBackend {
  backendId: string
  configId: string | null
  check: BackendCheck
}

/** Checks every configured backend (or those `only` picks) at once, saves each row's lastCheck and publishes every status. */
export async function checkBackends(opts: { timeoutMs?: number; only?: (backend: Backend) => boolean } = {}): Promise<CheckedBackend[]> {
  const backends = (await allBackends()).filter((b) => !opts.only || opts.only(b))
  return Promise.all(
    backends.map(async (backend) => {
      const check = await checkBackend(backend, opts.timeoutMs)
      if (!check.ok) logger().warn({ backend: backend.id, detail: check.detail }, 'backend health check failed')
      if (backend.configId) {
        await saveBackendCheck(backend.configId, check).catch((e: unknown) =>
          logger().warn({ backend: backend.id, reason: (e as Error).message }, 'could not save a backend check'),
        )
      }
      await publish(backend.id, backend.capabilities().type, check)
      return { backendId: backend.id, configId: backend.configId, check }
    }),
  )
}

/**
 * "Test connection": builds a backend from a submitted form (saved or not)
 * and checks it. When the form still describes the saved row's server, the
 * result becomes that row's lastCheck and published status.
 */
export async function testConnection(
  tenantId: string,
  input: BackendConfigInput,
  existingId?: string,
  timeoutMs = DEFAULT_CHECK_TIMEOUT_MS,
): Promise<BackendCheck> {
  const existing: BackendConfig | undefined = existingId ? await getBackendConfig(tenantId, existingId) : undefined
  const spec = await specOfInput(tenantId, input, existing)
  let backend: Awaited<ReturnType<typeof buildBackend>>
  try {
    backend = await buildBackend(spec)
  } catch (e) {
    const detail = isAppError(e) ? e.message : 'The backend could not be set up from these settings'
    // why auth: what a build refuses is the kind of credentials (a token where a password is needed, no key).
    return { ok: false, detail, reason: 'auth', checkedAt: new Date().toISOString() }
  }
  let check: BackendCheck
  try {
    check = await checkBackend(backend, timeoutMs)
  } finally {
    await Promise.resolve(backend.close?.()).catch(() => {})
  }
  if (existing && sameServer(existing, input)) {
    await saveBackendCheck(existing.id, check)
    await publish(configBackendId(existing.id), existing.type, check)
  }
  return check
}

/**
 * Checks every backend now and then every `intervalMs` (for the worker
 * process); runs never overlap. stop() waits for a run in progress.
 */
export function startHealthChecks(intervalMs: number, opts: { timeoutMs?: number } = {}): { stop(): Promise<void> } {
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  let running: Promise<void> | undefined
  const run = () => {
    running = checkBackends(opts)
      .then(() => undefined)
      .catch((e: unknown) => logger().warn({ reason: (e as Error).message }, 'backend health checks failed'))
      .finally(() => {
        running = undefined
        if (stopped) return
        timer = setTimeout(run, intervalMs)
        // why: a pending check must not keep a stopping process alive.
        timer.unref()
      })
  }
  run()
  return {
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}
