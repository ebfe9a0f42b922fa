// Queue benchmark: how fast renders flow through BullMQ + the worker when the
// backend costs nothing, against raw BullMQ on the same Redis, and how long a
// render waits between being queued and starting when the queue is not backed up.
//
//   node --expose-gc --import tsx test/bench/queue.bench.ts
//
// Knobs: WORKER_CONCURRENCY (2), BENCH_RENDERS (500), BENCH_TRICKLE (200),
// BENCH_TRICKLE_PER_S (default: a quarter of the measured throughput, 5–50).
import { cleanupList, percentile, positiveInt, prepareBenchDatabase, sleep } from './support.ts'
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'

// why: set before any app module reads env(): the bench never touches the
// developer's database, queue or image store.
process.env.NODE_ENV ??= 'test'
process.env.LOG_LEVEL ??= 'warn'
process.env.DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/atelier_bench'
process.env.QUEUE_PREFIX = `atelier-bench-${process.pid}`
const storageDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-storage-'))
process.env.STORAGE_DIR = storageDir

const RENDERS = positiveInt('BENCH_RENDERS', 500)
const TRICKLE = positiveInt('BENCH_TRICKLE', 200)
const WARMUP = 20
const OUTPUT_EDGE = 128

const cleanup = cleanupList([() => rmSync(storageDir, { recursive: true, force: true })])

async function main(): Promise<void> {
  await prepareBenchDatabase()

  const { Queue, Worker } = await import('bullmq')
  const { and, inArray, count, isNotNull } = await import('drizzle-orm')
  const { db } = await import('#app/lib/db.server.ts')
  const { env } = await import('#app/lib/env.server.ts')
  const { redisConnection } = await import('#app/lib/redis.server.ts')
  const { renderJobOptions, priorities } = await import('#app/modules/renders/queue.server.ts')
  const { registerBackend } = await import('#app/modules/backends/registry.server.ts')
  const { startRenderWorker } = await import('#app/modules/renders/jobs.server.ts')
  const { createRenders } = await import('#app/modules/renders/service.server.ts')
  const { renders } = await import('#db/schema.ts')
  const { createZeroLatencyBackend } = await import('#test/fakes/zero-latency-backend.ts')
  const { createLocalTenant, productSceneLook, sampleProductPng } = await import('#test/support/fixtures.ts')
  const { closeWorker, releaseAll } = await import('#test/support/queue.ts')

  const e = env()
  const concurrency = e.WORKER_CONCURRENCY
  cleanup.add(() => releaseAll(e.QUEUE_PREFIX))
  // why a small output and a small source: what is measured is the queue and
  // the render bookkeeping; decoding and scoring big images is imaging's bench.
  registerBackend(createZeroLatencyBackend({ maxEdge: OUTPUT_EDGE }))
  const tenant = await createLocalTenant()
  // why no cleanup of its own: releaseAll deletes the tenants created here
  // (renders and ledger rows cascade) and their catalog copies.
  const image = await addSwatchProduct(tenant.settings.catalogDir!)
  const look = productSceneLook()
  let nextSeed = 1
  const seeds = (n: number) => Array.from({ length: n }, () => nextSeed++)
  const renderInput = (n: number) => ({ productId: image.productId, imageId: image.imageId, look, seeds: seeds(n) })

  /** A small product in the bench's private catalog copy, in the local platform's folder format. */
  async function addSwatchProduct(dir: string): Promise<{ productId: string; imageId: string; width: number; height: number }> {
    const productId = 'bench-swatch'
    mkdirSync(path.join(dir, productId))
    writeFileSync(path.join(dir, productId, 'front.png'), await sampleProductPng())
    const product = { id: productId, title: 'Bench swatch', images: [{ file: 'front.png', alt: 'Swatch' }] }
    writeFileSync(path.join(dir, productId, 'product.json'), JSON.stringify(product))
    return { productId, imageId: 'front.png', width: 200, height: 240 }
  }

  async function waitAllSucceeded(ids: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const [{ done }] = await db()
        .select({ done: count() })
        .from(renders)
        .where(and(inArray(renders.id, ids), inArray(renders.status, ['succeeded', 'failed', 'canceled'])))
      if (done === ids.length) break
      if (Date.now() > deadline) throw new Error(`only ${done} of ${ids.length} renders finished in ${timeoutMs} ms`)
      // why not tighter: the figures come from the rows' own timestamps, so
      // polling only needs to notice the end, without loading the database.
      await sleep(100)
    }
    const [{ failed }] = await db()
      .select({ failed: count() })
      .from(renders)
      .where(and(inArray(renders.id, ids), inArray(renders.status, ['failed', 'canceled'])))
    if (failed > 0) throw new Error(`${failed} of ${ids.length} renders did not succeed`)
  }

  async function timings(ids: string[]) {
    return db()
      .select({ queuedAt: renders.queuedAt, startedAt: renders.startedAt, finishedAt: renders.finishedAt })
      .from(renders)
      .where(and(inArray(renders.id, ids), isNotNull(renders.finishedAt)))
  }

  // 1. Baseline: raw BullMQ, no-op jobs, same Redis, same job options and
  //    concurrency, enqueued one by one like enqueueRender does.
  const baselineProducer = redisConnection('producer')
  const baselineConsumer = redisConnection('worker')
  const baselineQueue = new Queue('bench-noop', {
    connection: baselineProducer,
    prefix: e.QUEUE_PREFIX,
    defaultJobOptions: renderJobOptions(),
  })
  baselineQueue.on('error', () => {})
  let baselineDone = 0
  let baselineLast = 0
  const baselineWorker = new Worker('bench-noop', async () => undefined, {
    connection: baselineConsumer,
    prefix: e.QUEUE_PREFIX,
    concurrency,
  })
  cleanup.add(async () => {
    await baselineWorker.close()
    await baselineQueue.close()
    for (const c of [baselineProducer, baselineConsumer]) if (c.status !== 'end') await c.quit()
  })
  baselineWorker.on('error', () => {})
  baselineWorker.on('completed', () => {
    baselineDone++
    baselineLast = performance.now()
  })
  await baselineWorker.waitUntilReady()
  const baselineStart = performance.now()
  for (let i = 0; i < RENDERS; i++) {
    await baselineQueue.add('noop', { renderId: randomUUID() }, { jobId: `noop-${i}`, priority: priorities.interactive })
  }
  while (baselineDone < RENDERS) await sleep(5)
  const baselinePerS = RENDERS / ((baselineLast - baselineStart) / 1000)
  await baselineWorker.close()

  // 2. Throughput: N renders in one createRenders call (one source
  //    normalisation), from the first enqueue to the last success.
  const worker = startRenderWorker({ concurrency })
  cleanup.add(() => closeWorker(worker))
  await worker.waitUntilReady()
  const warmup = await createRenders(tenant, renderInput(WARMUP))
  await waitAllSucceeded(
    warmup.map((r) => r.id),
    60_000,
  )

  const wallStart = performance.now()
  const batch = await createRenders(tenant, renderInput(RENDERS))
  const enqueuedMs = performance.now() - wallStart
  await waitAllSucceeded(
    batch.map((r) => r.id),
    10 * 60_000,
  )
  const wallMs = performance.now() - wallStart
  const batchTimes = await timings(batch.map((r) => r.id))
  const firstQueued = Math.min(...batchTimes.map((t) => t.queuedAt.getTime()))
  const lastFinished = Math.max(...batchTimes.map((t) => t.finishedAt!.getTime()))
  const rendersPerS = RENDERS / ((lastFinished - firstQueued) / 1000)

  // 3. Dispatch latency under a steady trickle well below capacity, so it
  //    measures queue → worker hand-off, not time spent behind a backlog.
  const tricklePerS = process.env.BENCH_TRICKLE_PER_S
    ? Number(process.env.BENCH_TRICKLE_PER_S)
    : Math.max(5, Math.min(50, Math.floor(rendersPerS / 4)))
  const intervalMs = 1000 / tricklePerS
  const trickleStart = performance.now()
  const pending: Promise<{ id: string }[]>[] = []
  for (let i = 0; i < TRICKLE; i++) {
    const due = trickleStart + i * intervalMs
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    pending.push(createRenders(tenant, renderInput(1)))
  }
  const trickle = (await Promise.all(pending)).flat()
  await waitAllSucceeded(
    trickle.map((r) => r.id),
    5 * 60_000,
  )
  const dispatch = (await timings(trickle.map((r) => r.id)))
    .map((t) => t.startedAt!.getTime() - t.queuedAt.getTime())
    .sort((a, b) => a - b)

  global.gc?.()
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20
  const rssMb = process.memoryUsage().rss / 2 ** 20

  const rows: [string, string][] = [
    ['worker concurrency', String(concurrency)],
    ['renders (batch)', String(RENDERS)],
    ['source → output', `${image.width}×${image.height} → ${batch[0].outputWidth}×${batch[0].outputHeight} px`],
    ['raw BullMQ no-op jobs/s', baselinePerS.toFixed(1)],
    ['renders/s (first enqueue → last succeeded)', rendersPerS.toFixed(1)],
    ['  share of raw BullMQ', `${((rendersPerS / baselinePerS) * 100).toFixed(1)} %`],
    ['  time per render per worker slot', `${((1000 / rendersPerS) * concurrency).toFixed(1)} ms`],
    [`  createRenders of ${RENDERS} (normalise, insert, enqueue)`, `${enqueuedMs.toFixed(0)} ms`],
    ['  wall time, that call → last succeeded', `${wallMs.toFixed(0)} ms`],
    [`dispatch latency, trickle ${TRICKLE} @ ${tricklePerS}/s`, ''],
    ['  p50', `${percentile(dispatch, 50)} ms`],
    ['  p95', `${percentile(dispatch, 95)} ms`],
    ['  max', `${dispatch[dispatch.length - 1]} ms`],
    ['heap after gc / rss', `${heapMb.toFixed(1)} MB / ${rssMb.toFixed(0)} MB`],
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`)

  await cleanup.run()
  console.log(`BENCH queue renders_per_s=${rendersPerS.toFixed(1)} dispatch_p95_ms=${percentile(dispatch, 95)}`)
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    console.error(err)
    await cleanup.run()
    process.exit(1)
  },
)
