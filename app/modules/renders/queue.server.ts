import { Queue, type QueueOptions } from 'bullmq'
import { z } from 'zod'
import { env } from '#app/lib/env.server.ts'
import { logger, throttledErrorLog } from '#app/lib/logger.server.ts'
import { redisConnection } from '#app/lib/redis.server.ts'

// The `renders` queue itself: its payload, priorities and cancel channel.
// why no scheduler import: the scheduler puts jobs here; enqueue.server.ts asks it to.

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

/** Redis pub/sub channel that carries the ids of canceled renders to every worker process. */
export function cancelChannel(): string {
  return `${env().QUEUE_PREFIX}:render-cancel`
}

/** Tells every worker process that `renderId` was canceled; the one running it aborts. Never throws. */
export async function announceCancel(renderId: string): Promise<void> {
  renderQueue()
  await Promise.resolve(queueConnection?.publish(cancelChannel(), renderId)).catch((err: unknown) =>
    logger().warn({ err, renderId }, 'could not announce a cancel; a running render finishes and is discarded'),
  )
}

export async function closeRenderQueue(): Promise<void> {
  const q = queue
  const c = queueConnection
  queue = undefined
  queueConnection = undefined
  await q?.close()
  await c?.quit().catch(() => c.disconnect())
}
