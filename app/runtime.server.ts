// All background work of a process, started and stopped in one place: the
// worker (`npm run worker`), `scripts/serve.ts --with-worker` and the demo
// call startBackgroundWork, so none of them runs a different subset.
import type { Worker } from 'bullmq'
import type { RenderJob } from '#app/modules/renders/queue.server.ts'
import { closeDb } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { exitUnlessStoppedWithin, logger } from '#app/lib/logger.server.ts'
import { closeQueues } from '#app/modules/renders/enqueue.server.ts'
import { checkPostgres, checkRedis } from '#app/lib/setup.server.ts'
import { closeHealth, startHealthChecks } from '#app/modules/backends/health.server.ts'
import { closePool } from '#app/modules/backends/pool.server.ts'
import { closeBackends } from '#app/modules/backends/registry.server.ts'
import { startBulkWorker, type BulkWorkerOptions } from '#app/modules/bulk/jobs.server.ts'
import { closeBulkQueue, type BulkJob } from '#app/modules/bulk/queue.server.ts'
import { closeFidelity, warmFidelity } from '#app/modules/imaging/fidelity.server.ts'
import { jpegEncoder, type JpegEncoderInfo } from '#app/modules/imaging/jpeg.server.ts'
import { rendersRunningHere, startRenderWorker, type RenderWorkerOptions } from '#app/modules/renders/jobs.server.ts'
import { listenToHealthChecks } from '#app/modules/scheduler/dispatcher.server.ts'

export interface BackgroundWorkOptions {
  /** Render worker settings; its dispatch loop runs the reconciler every minute unless given otherwise. */
  render?: RenderWorkerOptions
  bulk?: BulkWorkerOptions
  /** How often every backend's health is checked (ms). */
  healthEveryMs?: number
}

export interface BackgroundWork {
  readonly renderWorker: Worker<RenderJob>
  readonly bulkWorker: Worker<BulkJob>
  readonly encoder: JpegEncoderInfo
  /** Stops everything in order: workers (running renders finish), queues, backends, the database. */
  close(): Promise<void>
  /** What is still open, for the line a shutdown that ran out of time prints. */
  left(): string
}

/** Redis and PostgreSQL answer, or an Error whose message names the server and the fix. */
export async function checkServices(): Promise<void> {
  await Promise.all([checkRedis(env().REDIS_URL), checkPostgres(env().DATABASE_URL)])
}

/**
 * Starts the render worker (with its dispatch loop and reconciler), the bulk
 * worker and the backend health checks. why the checks first: with Redis or
 * PostgreSQL unreachable the workers would start and log reconnect errors forever.
 */
export async function startBackgroundWork(opts: BackgroundWorkOptions = {}): Promise<BackgroundWork> {
  await checkServices()
  // why before any render: JPEG_ENCODER=native stops here, not in the first render.
  const encoder = jpegEncoder()
  // why before any render: the fidelity threads load the check once, not during the first render.
  await warmFidelity()
  const renderWorker = startRenderWorker({
    ...opts.render,
    // why the reconciler in every process that renders: it repairs what
    // crashed workers and Redis restarts leave, and needs no request to run.
    dispatchLoop: opts.render?.dispatchLoop ?? { tickMs: 2_000, reconcileEveryMs: 60_000 },
  })
  // Bulk runs: reads catalogs, feeds each run within its in-flight bound, reconciles items.
  const bulkWorker = startBulkWorker(opts.bulk)
  // The status Settings → GPU backends shows, and the input of the scheduler's circuit breaker.
  listenToHealthChecks()
  const healthChecks = startHealthChecks(opts.healthEveryMs ?? 15_000)
  let stage = 'finishing running renders'
  let closed: Promise<void> | undefined
  const close = async () => {
    // why close() lets running renders finish: a deploy never leaves half-done work to the stalled-job checker.
    await Promise.all([renderWorker.close(), bulkWorker.close(), healthChecks.stop()])
    stage = 'closing the queues'
    await closeBulkQueue()
    await closeQueues()
    stage = 'closing backends and the database'
    await closePool()
    await closeBackends()
    await closeHealth()
    await closeFidelity()
    await closeDb()
    stage = 'closed'
  }
  return {
    renderWorker,
    bulkWorker,
    encoder,
    close: () => (closed ??= close()),
    left() {
      const running = rendersRunningHere()
      return `${stage}; ` + (running.length > 0 ? `renders still running here: ${running.join(', ')}` : 'no render was running')
    },
  }
}

export interface StopOptions {
  /** Names the process in the log lines. */
  name: string
  /** Everything the process stops, in order. */
  stop(): Promise<void>
  /** What was left when the stop ran out of time. */
  left(): string
}

/**
 * Stops the process: runs `stop`, then exits 0; past SHUTDOWN_TIMEOUT_MS it
 * exits 1 naming what was left. why a bound: a render left running is taken
 * over by another worker once its lock lapses, so exiting loses nothing.
 */
export async function stopProcess(opts: StopOptions, signal?: string): Promise<never> {
  const limitMs = env().SHUTDOWN_TIMEOUT_MS
  logger().info({ signal, limitMs }, `${opts.name} stopping`)
  exitUnlessStoppedWithin(limitMs, () => `${opts.name}: ${opts.left()}`)
  try {
    await opts.stop()
  } catch (err) {
    logger().error({ err }, `${opts.name} did not stop cleanly`)
    process.exit(1)
  }
  process.exit(0)
}

/** SIGTERM and SIGINT stop the process once (a second signal while stopping is ignored). */
export function stopOnSignals(opts: StopOptions): void {
  let stopping = false
  const onSignal = (signal: string) => {
    if (stopping) return
    stopping = true
    void stopProcess(opts, signal)
  }
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  process.on('SIGINT', () => onSignal('SIGINT'))
}

/** startBackgroundWork, or one fatal line and exit 1 when Redis or PostgreSQL is unreachable. */
export async function startBackgroundWorkOrExit(opts: BackgroundWorkOptions = {}): Promise<BackgroundWork> {
  try {
    return await startBackgroundWork(opts)
  } catch (err) {
    logger().fatal((err as Error).message.replace(/\s*\n\s*/g, ' '))
    process.exit(1)
  }
}
