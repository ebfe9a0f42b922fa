import type { Worker } from 'bullmq'
import { eq } from 'drizzle-orm'
import { Redis } from 'ioredis'
import { closeDb, db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { RENDER_QUEUE, renderQueue } from '#app/modules/renders/queue.server.ts'
import { closeQueues } from '#app/modules/renders/enqueue.server.ts'
import { renders, type Render } from '#db/schema.ts'
import { removeCreatedTenants } from './fixtures.ts'

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Redis connections a test opens as it goes and closes together in afterAll.
 * why the swallowed errors and one retry: a test that stops Redis must fail on its assertion, not on a stray reconnect.
 */
export function redisConnections(): { open(): Redis; closeAll(): Promise<void> } {
  const opened: Redis[] = []
  return {
    open() {
      const redis = new Redis(env().REDIS_URL, { maxRetriesPerRequest: 1 })
      redis.on('error', () => {})
      opened.push(redis)
      return redis
    },
    async closeAll() {
      for (const redis of opened.splice(0)) await redis.quit().catch(() => redis.disconnect())
    },
  }
}

/**
 * Polls until `probe` returns something truthy. The error names what was
 * awaited and the last value seen, so a timeout in CI says why.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<unknown> | unknown } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000)
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) {
      const last = opts.describe ? await opts.describe() : value
      throw new Error(`Timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${what} (last: ${JSON.stringify(last)})`)
    }
    await sleep(opts.intervalMs ?? 50)
  }
}

export async function readRender(renderId: string): Promise<Render> {
  const row = await db().query.renders.findFirst({ where: eq(renders.id, renderId) })
  if (!row) throw new Error(`render ${renderId} is not in the database`)
  return row
}

/** Waits until the render reaches one of `statuses`; fails fast if it lands in another final one. */
export async function waitForRenderStatus(
  renderId: string,
  statuses: Render['status'][],
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Render> {
  const final: Render['status'][] = ['succeeded', 'failed', 'canceled']
  let last: Render | undefined
  return waitFor(
    `render ${renderId} to be ${statuses.join('|')}`,
    async () => {
      last = await readRender(renderId)
      if (statuses.includes(last.status)) return last
      if (final.includes(last.status)) {
        throw new Error(
          `render ${renderId} ended ${last.status} (${last.errorCode}: ${last.errorMessage}), expected ${statuses.join('|')}`,
        )
      }
      return undefined
    },
    { ...opts, describe: () => last && { status: last.status, attempts: last.attempts, errorCode: last.errorCode } },
  )
}

/** Job counts of the render queue under this file's prefix. */
export async function renderJobCounts() {
  return renderQueue().getJobCounts('wait', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'waiting-children')
}

/** Ids of the jobs the stalled-job checker has marked, under this file's prefix. */
export async function stalledJobIds(): Promise<string[]> {
  return withRedis((r) => r.smembers(`${env().QUEUE_PREFIX}:${RENDER_QUEUE}:stalled`))
}

/**
 * Closes a worker and the connection startRenderWorker made for it. why:
 * BullMQ does not close a connection it was handed, and an open socket keeps
 * a test process (or the bench) alive.
 */
export async function closeWorker(worker: Worker): Promise<void> {
  const connection = worker.opts.connection
  await worker.close()
  if (connection instanceof Redis && connection.status !== 'end') await connection.quit().catch(() => connection.disconnect())
}

export async function withRedis<T>(use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(env().REDIS_URL, { maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  try {
    return await use(redis)
  } finally {
    await redis.quit().catch(() => redis.disconnect())
  }
}

/** Removes every Redis key under a queue prefix (what obliterate does, for all queues at once). */
export async function deleteQueueKeys(prefix: string): Promise<number> {
  if (!/^[a-z0-9_-]+$/i.test(prefix)) throw new Error(`refusing to delete keys of prefix "${prefix}"`)
  return withRedis(async (redis) => {
    let deleted = 0
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) deleted += await redis.unlink(...keys)
    } while (cursor !== '0')
    return deleted
  })
}

/**
 * Everything a test file opened, closed in order: workers (their jobs finish),
 * the producer queue and its connection, this prefix's Redis keys, the
 * tenants it created (with their rows and catalog copies), the pool.
 */
export async function releaseAll(prefix: string, workers: (Worker | undefined)[] = []): Promise<void> {
  for (const worker of workers) if (worker) await closeWorker(worker)
  const connection = renderQueue().opts.connection
  await closeQueues()
  // why: closeQueues() leaves the connection it handed BullMQ open.
  if (connection instanceof Redis) await connection.quit().catch(() => connection.disconnect())
  await deleteQueueKeys(prefix)
  await removeCreatedTenants()
  await closeDb()
}

/**
 * Waits for the render's BullMQ job to reach `state`. why: the worker writes
 * the row first and BullMQ moves the job a moment later, so reading the job
 * right after the row can see it still active.
 */
export async function waitForJobState(renderId: string, state: 'completed' | 'failed', timeoutMs = 10_000) {
  let last: string | undefined
  return waitFor(
    `job ${renderId} to be ${state}`,
    async () => {
      const job = await renderQueue().getJob(renderId)
      last = job ? await job.getState() : 'missing'
      return last === state ? job : undefined
    },
    { timeoutMs, describe: () => last },
  )
}
