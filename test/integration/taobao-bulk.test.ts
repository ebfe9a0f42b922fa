import type { Worker } from 'bullmq'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import { closeBulkQueue } from '#app/modules/bulk/queue.server.ts'
import { advanceBulkRun, confirmBulkRun, startBulkRun } from '#app/modules/bulk/service.server.ts'
import { startRenderWorker } from '#app/modules/renders/jobs.server.ts'
import { saveGrant } from '#app/modules/taobao/auth/grants.server.ts'
import { grantOf } from '#app/modules/taobao/auth/oauth.server.ts'
import { closeTopClient } from '#app/modules/taobao/platform/context.server.ts'
import { upsertTenant } from '#app/modules/tenants/service.server.ts'
import { bulkRuns, renders, tenants, type BulkRun, type Tenant } from '#db/schema.ts'
import { FAKE_APP, seedCatalogSeller, startTaobaoFake, type TaobaoFake } from '#test/fakes/taobao/index.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { productSceneLook } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll, waitFor } from '#test/support/queue.ts'

// "Regenerate all listings" for a Taobao shop (issue 17, part 3): the bulk
// run reads the seller's items through the same platform interface as
// Shopify and the folder catalog, and renders each item's main image.

let fake: TaobaoFake
let seller: { userId: string; nick: string; items: Record<string, number> }
let tenant: Tenant
let prefix: string
let worker: Worker | undefined
const saved: Record<string, string | undefined> = {}

beforeAll(async () => {
  prefix = isolateQueue()
  fake = await startTaobaoFake()
  seller = seedCatalogSeller(fake, { nick: '批量店' })
  for (const [k, v] of Object.entries({ TAOBAO_APP_KEY: FAKE_APP.appKey, TAOBAO_APP_SECRET: FAKE_APP.appSecret, TAOBAO_GATEWAY_URL: fake.gatewayUrl })) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
  resetEnvCache()
  tenant = await upsertTenant('taobao', seller.userId, seller.nick)
  await saveGrant(tenant.id, grantOf({ ...fake.issueToken(seller.userId), expires_in: 86_400, re_expires_in: 2_592_000 }))
  registerBackend(createZeroLatencyBackend({ id: 'taobao-bulk' }))
  worker = startRenderWorker({ concurrency: 2 })
})

afterAll(async () => {
  await closeBulkQueue()
  await releaseAll(prefix, [worker])
  await closeTopClient()
  await db().delete(tenants).where(eq(tenants.id, tenant.id))
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  resetEnvCache()
  await fake.close()
})

async function drive(runId: string, done: (run: BulkRun) => boolean): Promise<BulkRun> {
  return waitFor(
    `bulk run ${runId}`,
    async () => {
      await advanceBulkRun(runId)
      const run = await db().query.bulkRuns.findFirst({ where: eq(bulkRuns.id, runId) })
      return run && done(run) ? run : undefined
    },
    { timeoutMs: 60_000, intervalMs: 20 },
  )
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

describe('a bulk run over a Taobao shop', () => {
  it('reads one seller category’s items, estimates, and renders each item’s main image from Taobao’s bytes', async () => {
    const { run } = await startBulkRun(tenant, {
      // 连衣裙 (dresses): two items in the fake's catalog shop.
      selection: { kind: 'collection', collectionId: '104' },
      looks: [{ operation: 'product_scene', ...productSceneLook() }],
      images: { kind: 'featured' },
    })
    const estimated = await drive(run.id, (r) => r.status === 'awaiting_confirmation')
    expect(estimated.estimate).toMatchObject({ products: 2, images: 2, renders: 2, cost: 0 })
    await confirmBulkRun(tenant, run.id)
    const done = await drive(run.id, (r) => r.status === 'completed')
    expect(done).toMatchObject({ done: 2, failed: 0 })
    const made = await db().select().from(renders).where(eq(renders.batchId, run.id))
    expect(made.map((r) => r.productRef).sort()).toEqual([seller.items['floral-wrap-dress'], seller.items['silk-slip-dress']].map(String).sort())
    expect(made.every((r) => r.status === 'succeeded' && /^img-\d+$/.test(r.sourceImageRef))).toBe(true)
    // The source is the item's main image as Taobao serves it.
    const slip = made.find((r) => r.productRef === String(seller.items['silk-slip-dress']))!
    expect(slip.productTitle).toBe('香槟色真丝吊带裙')
    expect(slip.sourceSha256).toBe(sha(readFileSync(path.resolve('catalog/silk-slip-dress', 'front.jpg'))))
  })
})
