import { Queue, type QueueOptions } from 'bullmq'
import { z } from 'zod'
import { env } from './env.server.ts'
import { logger, throttledErrorLog } from './logger.server.ts'
import { redisConnection } from './redis.server.ts'

export const RENDER_QUEUE = 'renders'

/**
 * The whole job payload: ids. State lives in Postgres; no secrets here.
 * `backendId` is the backend the scheduler gave the render a slot on (absent
 * only on jobs queued before the scheduler: they run on the render's own).
 */
export const renderJobSchema = z.object({ renderId: z.uuid(), backendId: z.string().min(1).optional() })
export type RenderJob = z.infer<typeof renderJobSchema>

export function renderJobOptions(): QueueOptions['defaultJobOptions'] {
  return {
    // why one attempt: retries belong to the scheduler, which can move a
    // failed render to another backend (failover) and holds the backoff
    // (app/modules/scheduler, docs/decisions/006-scheduler.md).
    attempts: 1,
    removeOnComplete: { age: 3600, count: 5000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  }
}

let queue: Queue<RenderJob> | undefined
let queueConnection: ReturnType<typeof redisConnection> | undefined

export function renderQueue(): Queue<RenderJob> {
  if (!queue) {
    queueConnection = redisConnection('producer')
    queue = new Queue<RenderJob>(RENDER_QUEUE, {
      connection: queueConnection,
      prefix: env().QUEUE_PREFIX,
      defaultJobOptions: renderJobOptions(),
    })
    queue.on('error', throttledErrorLog('render queue error'))
  }
  return queue
}

export const priorities = { interactive: 1, demo: 5, bulk: 10 } as const

// why dynamic imports below: the scheduler imports this module (for the
// queue it hands renders to), and lib must not load a domain module eagerly.
const schedulerModule = () => import('#app/modules/scheduler/dispatcher.server.ts')

/**
 * Queues a recorded render: the scheduler decides when and on which backend
 * it runs, then puts a job on the `renders` queue. Idempotent: a render the
 * scheduler already has, or whose job exists, is not queued twice.
 */
export async function enqueueRender(renderId: string, priority: keyof typeof priorities = 'interactive'): Promise<void> {
  const { scheduleRender } = await schedulerModule()
  await scheduleRender(renderId, priority)
}

/**
 * Drops a canceled render: from the scheduler and the queue while it waits;
 * while it runs, every worker hears it (cancelChannel) and the one running it
 * aborts, which reaches the backend (ComfyUI and SD WebUI interrupt, WeShop
 * stops polling). The render's row is already 'canceled', so nothing the
 * aborted attempt returns is kept or charged.
 */
export async function removeRenderJob(renderId: string): Promise<void> {
  const { cancelScheduled } = await schedulerModule()
  await cancelScheduled(renderId)
  renderQueue()
  await Promise.resolve(queueConnection?.publish(cancelChannel(), renderId)).catch((err: unknown) =>
    logger().warn({ err, renderId }, 'could not announce a cancel; a running render finishes and is discarded'),
  )
}

/** Redis pub/sub channel that carries the ids of canceled renders to every worker process. */
export function cancelChannel(): string {
  return `${env().QUEUE_PREFIX}:render-cancel`
}

export async function closeQueues(): Promise<void> {
  const q = queue
  const c = queueConnection
  queue = undefined
  queueConnection = undefined
  const { closeScheduler } = await schedulerModule()
  await closeScheduler()
  await q?.close()
  await c?.quit().catch(() => c.disconnect())
}
