// Taobao publish benchmark: approved renders published to Taobao items (the
// TOP fake with its call limit on: past the limit it bans the app for
// seconds) by parallel publishers sharing one Redis call budget, set just
// under the limit. The quota, not our code, should set the pace: the calls
// made per second are compared with the limit's own rate, and no ban may
// reach a publish.
//
//   npm run bench -- taobao-publish
//
// Knobs: BENCH_PUBLISH_IMAGES (500), BENCH_PUBLISHERS (8), BENCH_SELLERS (4),
// BENCH_TOP_LIMIT (50 calls/s, over a 60 s window).
import { cleanupList, positiveInt, prepareBenchDatabase } from './support.ts'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import type { NewRender } from '#db/schema.ts'

process.env.NODE_ENV ??= 'test'
process.env.LOG_LEVEL ??= 'warn'
process.env.DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/atelier_bench'
process.env.QUEUE_PREFIX = `atelier-bench-${process.pid}`
const storageDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-storage-'))
process.env.STORAGE_DIR = storageDir

const IMAGES = positiveInt('BENCH_PUBLISH_IMAGES', 500)
const PUBLISHERS = positiveInt('BENCH_PUBLISHERS', 8)
const SELLERS = positiveInt('BENCH_SELLERS', 4)
const LIMIT = positiveInt('BENCH_TOP_LIMIT', 50)
const WINDOW_MS = 60_000
/** The budget's share of the limit: a token bucket's one-second burst must still fit the window. */
const HEADROOM = 0.96

const cleanup = cleanupList([() => rmSync(storageDir, { recursive: true, force: true })])

async function main(): Promise<void> {
  await prepareBenchDatabase()
  const sharp = (await import('sharp')).default
  const { inArray } = await import('drizzle-orm')
  const { FAKE_APP, startTaobaoFake } = await import('#test/fakes/taobao/index.ts')
  const fake = await startTaobaoFake({ callLimit: { calls: LIMIT * (WINDOW_MS / 1000), windowMs: WINDOW_MS, banSeconds: 10 } })
  cleanup.add(() => fake.close())
  Object.assign(process.env, {
    APP_MODE: 'taobao',
    TAOBAO_APP_KEY: FAKE_APP.appKey,
    TAOBAO_APP_SECRET: FAKE_APP.appSecret,
    TAOBAO_APP_URL: 'http://127.0.0.1:1',
    TAOBAO_OAUTH_URL: fake.oauthUrl,
    TAOBAO_GATEWAY_URL: fake.gatewayUrl,
    TAOBAO_APP_CALLS_PER_SECOND: String(LIMIT * HEADROOM),
    TAOBAO_SELLER_CALLS_PER_SECOND: String(LIMIT * HEADROOM),
  })
  const { closeDb, db } = await import('#app/lib/db.server.ts')
  const { env, resetEnvCache } = await import('#app/lib/env.server.ts')
  resetEnvCache()
  const { isAppError } = await import('#app/lib/errors.ts')
  const { imageStore, sha256 } = await import('#app/lib/storage.server.ts')
  const { lookVersions, resolveLook } = await import('#app/modules/looks/index.ts')
  const { publishRender } = await import('#app/modules/renders/service.server.ts')
  const { saveGrant } = await import('#app/modules/taobao/auth/grants.server.ts')
  const { grantOf } = await import('#app/modules/taobao/auth/oauth.server.ts')
  const { closeTopClient } = await import('#app/modules/taobao/platform/context.server.ts')
  const { upsertTenant } = await import('#app/modules/tenants/service.server.ts')
  const { renders, tenants } = await import('#db/schema.ts')
  const { productSceneLook, sampleProductPng } = await import('#test/support/fixtures.ts')
  const { deleteQueueKeys } = await import('#test/support/queue.ts')
  cleanup.add(() => closeDb())
  cleanup.add(() => closeTopClient())
  cleanup.add(() => deleteQueueKeys(env().QUEUE_PREFIX).then(() => undefined))

  // 1. SELLERS shops, each with empty items enough for its share (five main images an item).
  const perSeller = Math.ceil(IMAGES / SELLERS)
  const shops: { tenantId: string; tenant: Awaited<ReturnType<typeof upsertTenant>>; items: number[] }[] = []
  for (let s = 0; s < SELLERS; s++) {
    const userId = `22009${String(s).padStart(5, '0')}`
    fake.addSeller({ userId, nick: `压测店${s}` })
    const items = Array.from({ length: Math.ceil(perSeller / 5) }, (_, i) => fake.addItem(userId, { title: `压测商品 ${s}-${i}` }))
    const tenant = await upsertTenant('taobao', userId, `压测店${s}`)
    await saveGrant(tenant.id, grantOf({ ...fake.issueToken(userId), expires_in: 86_400, re_expires_in: 2_592_000 }))
    shops.push({ tenantId: tenant.id, tenant, items })
  }
  cleanup.add(async () => {
    await db().delete(tenants).where(inArray(tenants.id, shops.map((s) => s.tenantId)))
  })

  // 2. IMAGES approved renders, five to an item, each a small square JPEG (what the publish measures is the calls).
  const look = resolveLook(productSceneLook())
  const source = await sharp(await sampleProductPng(0)).jpeg().toBuffer()
  const sourceKey = await imageStore().put(source)
  const rows: NewRender[] = []
  for (let i = 0; i < IMAGES; i++) {
    const shop = shops[i % SELLERS]
    const n = Math.floor(i / SELLERS)
    const result = await sharp(await sampleProductPng(1000 + i)).resize(320, 320, { fit: 'contain', background: '#ffffff' }).jpeg({ quality: 85 }).toBuffer()
    rows.push({
      tenantId: shop.tenantId,
      idempotencyKey: `bench:${randomUUID()}`,
      productRef: String(shop.items[Math.floor(n / 5)]),
      productTitle: '压测商品',
      sourceImageRef: 'main',
      sourceSha256: sha256(source),
      sourceKey,
      operation: 'product_scene',
      ...lookVersions(look),
      backend: 'zero-latency',
      seed: i,
      outputWidth: 320,
      outputHeight: 320,
      status: 'succeeded',
      resultKey: await imageStore().put(result),
      fidelityScore: 100,
      reviewState: 'approved',
      finishedAt: new Date(),
    })
  }
  const ids: { id: string; tenant: (typeof shops)[number]['tenant'] }[] = []
  for (let i = 0; i < rows.length; i += 100) {
    const inserted = await db().insert(renders).values(rows.slice(i, i + 100)).returning({ id: renders.id, tenantId: renders.tenantId })
    for (const r of inserted) ids.push({ id: r.id, tenant: shops.find((s) => s.tenantId === r.tenantId)!.tenant })
  }

  // 3. Publish them all, PUBLISHERS at a time.
  const before = fake.stats()
  const failures: Record<string, number> = {}
  let published = 0
  const queue = [...ids]
  const started = performance.now()
  await Promise.all(
    Array.from({ length: PUBLISHERS }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        try {
          await publishRender(next.tenant, next.id)
          published++
        } catch (err) {
          const code = isAppError(err) ? err.code : 'UNEXPECTED'
          failures[code] = (failures[code] ?? 0) + 1
          if (Object.values(failures).reduce((a, b) => a + b) <= 3) console.warn('publish failed:', err)
        }
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const after = fake.stats()

  // 4. What Taobao holds: exactly one image per published render, five to an item.
  let attached = 0
  for (let s = 0; s < SELLERS; s++) {
    for (const item of fake.state(`22009${String(s).padStart(5, '0')}`).items) attached += item.item_imgs.length
  }
  const calls = after.calls - before.calls
  const bans = after.bans - before.bans
  const callRate = calls / seconds
  const efficiency = callRate / LIMIT
  console.log(`${published} of ${IMAGES} renders published by ${PUBLISHERS} publishers for ${SELLERS} shops in ${seconds.toFixed(1)} s`)
  console.log(`TOP calls: ${calls} (${(calls / Math.max(1, published)).toFixed(2)} a publish), ${callRate.toFixed(1)}/s against a limit of ${LIMIT}/s`)
  console.log(`publishes/s: ${(published / seconds).toFixed(2)}; the quota's own pace: ${(LIMIT / (calls / Math.max(1, published))).toFixed(2)}`)
  console.log(`images on the items: ${attached}; bans: ${bans}; failures: ${JSON.stringify(failures)}`)
  const misses = [
    efficiency < 0.9 && `efficiency ${efficiency.toFixed(2)} (target ≥ 0.9)`,
    bans > 0 && `${bans} ban(s) (target 0)`,
    published !== IMAGES && `${IMAGES - published} render(s) not published`,
    attached !== published && `${attached} images attached for ${published} publishes`,
  ].filter(Boolean)
  for (const m of misses) console.log(`MISSED: ${m}`)
  console.log(`BENCH taobao_publish efficiency=${efficiency.toFixed(2)} bans=${bans} publishes_per_s=${(published / seconds).toFixed(2)} calls_per_publish=${(calls / Math.max(1, published)).toFixed(2)}`)
  process.exitCode = misses.length > 0 ? 1 : 0
}

main()
  .catch((e: unknown) => {
    console.error(e)
    process.exitCode = 1
  })
  .finally(() => cleanup.run())
