import { Queue, type QueueOptions } from 'bullmq'
import { z } from 'zod'
import { env } from './env.server.ts'
import { logger } from './logger.server.ts'
import { redisConnection } from './redis.server.ts'

export const RENDER_QUEUE = 'renders'

/** The whole job payload: an id. State lives in Postgres; no secrets here. */
export const renderJobSchema = z.object({ renderId: z.uuid() })
export type RenderJob = z.infer<typeof renderJobSchema>

export function renderJobOptions(): QueueOptions['defaultJobOptions'] {
  const e = env()
  return {
    attempts: e.RENDER_ATTEMPTS,
    // why: jitter spreads retries of a batch that failed together (a backend
    // restart) so they do not all hit it again in the same second.
    backoff: { type: 'exponential', delay: e.RENDER_BACKOFF_MS, jitter: 0.5 },
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
    queue.on('error', (err) => logger().error({ err }, 'render queue error'))
  }
  return queue
}

export const priorities = { interactive: 1, demo: 5, bulk: 10 } as const

export async function enqueueRender(renderId: string, priority: keyof typeof priorities = 'interactive'): Promise<void> {
  // why: jobId = render id makes enqueueing idempotent: a second add of a job
  // that still exists is ignored by BullMQ.
  await renderQueue().add('render', renderJobSchema.parse({ renderId }), { jobId: renderId, priority: priorities[priority] })
}

/** Drops a waiting job (a canceled render); an active one is left to its worker. */
export async function removeRenderJob(renderId: string): Promise<void> {
  const job = await renderQueue().getJob(renderId)
  if (job && !(await job.isActive())) await job.remove().catch(() => {})
}

export async function closeQueues(): Promise<void> {
  const q = queue
  const c = queueConnection
  queue = undefined
  queueConnection = undefined
  await q?.close()
  await c?.quit().catch(() => c.disconnect())
}
