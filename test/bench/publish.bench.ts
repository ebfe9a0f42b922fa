// Publish benchmark: approved renders published to a Shopify shop (the Admin
// API fake with its leaky bucket on) by parallel publishers sharing one
// Redis cost budget. The bucket, not our code, should set the pace: the
// sustained rate is compared with restoreRate / points per image, measured in
// the same run, and no THROTTLED may reach a publish.
//
//   node --expose-gc --import tsx test/bench/publish.bench.ts
//
// Knobs: BENCH_PUBLISH_IMAGES (500), BENCH_PUBLISHERS (8), BENCH_PRODUCTS (50),
// BENCH_RESTORE_RATE (100 points/s, Shopify's standard plan), BENCH_BUCKET (2000).
import { cleanupList, percentile, positiveInt, prepareBenchDatabase, sleep } from './support.ts'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import type { NewRender } from '#db/schema.ts'

// why set before any app module reads env(): the bench never touches the
// developer's database, queue or image store.
process.env.NODE_ENV ??= 'test'
process.env.LOG_LEVEL ??= 'warn'
process.env.DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/atelier_bench'
process.env.QUEUE_PREFIX = `atelier-bench-${process.pid}`
const storageDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-storage-'))
process.env.STORAGE_DIR = storageDir

const IMAGES = positiveInt('BENCH_PUBLISH_IMAGES', 500)
const PUBLISHERS = positiveInt('BENCH_PUBLISHERS', 8)
const PRODUCTS = positiveInt('BENCH_PRODUCTS', 50)
const RESTORE_RATE = positiveInt('BENCH_RESTORE_RATE', 100)
const BUCKET = positiveInt('BENCH_BUCKET', 2000)
const MEDIA_PROCESSING_MS = 100

const cleanup = cleanupList([() => rmSync(storageDir, { recursive: true, force: true })])

async function main(): Promise<void> {
  await prepareBenchDatabase()

  const sharp = (await import('sharp')).default
  const { eq } = await import('drizzle-orm')
  const { closeDb, db } = await import('#app/lib/db.server.ts')
  const { env, resetEnvCache } = await import('#app/lib/env.server.ts')
  const { isAppError } = await import('#app/lib/errors.ts')
  const { imageStore, sha256 } = await import('#app/lib/storage.server.ts')
  const { lookVersions, resolveLook } = await import('#app/modules/looks/index.ts')
  const { platformFor } = await import('#app/modules/platforms/index.server.ts')
  const { publishRender } = await import('#app/modules/renders/service.server.ts')
  const { closeAdminClients } = await import('#app/modules/shopify/admin/budget.server.ts')
  const { SHOPIFY_API_VERSION } = await import('#app/modules/shopify/api-version.ts')
  const { renders, sessionTable, tenants } = await import('#db/schema.ts')
  const { startShopifyAdminFake } = await import('#test/fakes/shopify-admin/index.ts')
  const { installFakeShop } = await import('#test/support/shopify.ts')
  const { productSceneLook, sampleProductPng } = await import('#test/support/fixtures.ts')
  const { deleteQueueKeys } = await import('#test/support/queue.ts')

  const e = env()
  const jpeg = async (seed: number, width: number) =>
    sharp(await sampleProductPng(seed))
      .resize(width)
      .jpeg({ quality: 80 })
      .toBuffer()

  // 1. A shop with PRODUCTS products, one original photo each.
  const domain = `atelier-bench-${randomUUID().slice(0, 8)}.myshopify.com`
  const fake = await startShopifyAdminFake({
    apiKey: 'atelier-bench-key',
    apiSecret: 'atelier-bench-secret',
    apiVersion: SHOPIFY_API_VERSION,
    shops: [
      {
        domain,
        products: await Promise.all(
          Array.from({ length: PRODUCTS }, async (_, i) => ({
            title: `Bench product ${String(i + 1).padStart(3, '0')}`,
            images: [{ bytes: await jpeg(i, 200), alt: `Original ${i + 1}` }],
          })),
        ),
      },
    ],
    mediaProcessingMs: MEDIA_PROCESSING_MS,
    throttle: { bucket: BUCKET, restoreRate: RESTORE_RATE },
  })
  cleanup.add(() => fake.close())
  process.env.SHOPIFY_ADMIN_ORIGIN = `${fake.origin}/{shop}`
  resetEnvCache()
  cleanup.add(() => closeDb())
  cleanup.add(() => closeAdminClients())
  cleanup.add(() => deleteQueueKeys(e.QUEUE_PREFIX).then(() => undefined))

  const tenant = await installFakeShop(fake, domain, { name: 'Bench shop', scope: 'write_products' })
  cleanup.add(async () => {
    await db().delete(tenants).where(eq(tenants.id, tenant.id))
    await db().delete(sessionTable).where(eq(sessionTable.shop, domain))
  })
  const platform = platformFor(tenant)

  const products: { id: string; title: string; imageId: string }[] = []
  for (let cursor: string | null = null; ;) {
    const page = await platform.listProducts({ first: 40 }, cursor)
    for (const p of page.products) products.push({ id: p.id, title: p.title, imageId: p.images[0].id })
    cursor = page.nextCursor
    if (!cursor) break
  }
  if (products.length !== PRODUCTS) throw new Error(`listed ${products.length} products, seeded ${PRODUCTS}`)

  // 2. IMAGES approved renders, spread over the products, each a small real JPEG.
  // why rows, not createRenders: what is measured is publishing, not rendering.
  const look = resolveLook(productSceneLook())
  const source = await jpeg(0, 200)
  const sourceKey = await imageStore().put(source)
  const rows: NewRender[] = []
  for (let i = 0; i < IMAGES; i++) {
    const product = products[i % products.length]
    rows.push({
      tenantId: tenant.id,
      idempotencyKey: `bench:${randomUUID()}`,
      productRef: product.id,
      productTitle: product.title,
      sourceImageRef: product.imageId,
      sourceSha256: sha256(source),
      sourceKey,
      operation: 'product_scene',
      ...lookVersions(look),
      backend: 'zero-latency',
      seed: i,
      outputWidth: 240,
      outputHeight: 320,
      status: 'succeeded',
      resultKey: await imageStore().put(await jpeg(1000 + i, 240)),
      fidelityScore: 100,
      reviewState: 'approved',
      finishedAt: new Date(),
    })
  }
  const ids: string[] = []
  for (let i = 0; i < rows.length; i += 100) {
    ids.push(
      ...(
        await db()
          .insert(renders)
          .values(rows.slice(i, i + 100))
          .returning({ id: renders.id })
      ).map((r) => r.id),
    )
  }

  // 3. Publish them all, PUBLISHERS at a time, watching the fake's bucket.
  const before = fake.stats()
  const samples: { t: number; available: number; spent: number }[] = []
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      samples.push({
        t: performance.now(),
        available: fake.state(domain).throttle.currentlyAvailable,
        spent: fake.stats().costSpent,
      })
      await sleep(100)
    }
  })()
  const done: { t: number; ms: number }[] = []
  const failures: Record<string, number> = {}
  const queue = [...ids]
  const started = performance.now()
  await Promise.all(
    Array.from({ length: PUBLISHERS }, async () => {
      for (let id = queue.shift(); id; id = queue.shift()) {
        const t0 = performance.now()
        try {
          await publishRender(tenant, id)
          done.push({ t: performance.now(), ms: performance.now() - t0 })
        } catch (err) {
          const code = isAppError(err) ? err.code : 'UNEXPECTED'
          failures[code] = (failures[code] ?? 0) + 1
          if (Object.values(failures).reduce((a, b) => a + b) <= 3) console.warn('publish failed:', err)
        }
      }
    }),
  )
  const finished = performance.now()
  sampling = false
  await sampler
  const after = fake.stats()

  // 4. What Shopify holds now: exactly one READY image per published render.
  const state = fake.state(domain)
  const published = state.media.filter((m) => m.origin === 'app')
  const notReady = published.filter((m) => m.status !== 'READY').length
  const perRender = new Map<string, number>()
  for (const m of published) {
    const key = /atelier-([0-9a-f-]{36})/.exec(m.imageUrl ?? '')?.[1] ?? 'unknown'
    perRender.set(key, (perRender.get(key) ?? 0) + 1)
  }
  const duplicates = [...perRender.values()].filter((n) => n > 1).length

  const images = done.length
  const points = after.costSpent - before.costSpent
  const requests = after.requests - before.requests
  const throttled = after.throttled - before.throttled
  const costPerImage = points / images
  const limit = RESTORE_RATE / costPerImage
  const wallS = (finished - started) / 1000
  // why two images' worth: from there on, every image must wait for restored points.
  const drained = samples.find((s) => s.available < 2 * costPerImage)
  if (!drained) throw new Error(`the bucket never drained: publish more than ${IMAGES} images to measure a sustained rate`)
  const drainedAt = drained.t
  const sustained = done.filter((d) => d.t > drainedAt)
  const sustainedS = (finished - drainedAt) / 1000
  const sustainedRate = sustained.length / sustainedS
  const efficiency = sustainedRate / limit
  const latencies = done.map((d) => d.ms).sort((a, b) => a - b)
  const failed = Object.values(failures).reduce((a, b) => a + b, 0)
  global.gc?.()
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20

  const table: [string, string][] = [
    ['renders / publishers / products', `${IMAGES} / ${PUBLISHERS} / ${PRODUCTS}`],
    ['bucket / restore rate', `${BUCKET} points / ${RESTORE_RATE} points/s`],
    [
      'published (READY on the shop)',
      `${images} (${published.length - notReady} READY, ${notReady} not, ${duplicates} renders with >1 image)`,
    ],
    ['failed publishes', failed === 0 ? '0' : JSON.stringify(failures)],
    ['THROTTLED responses (retried inside the client)', String(throttled)],
    ['HTTP requests to Shopify (incl. uploads)', `${requests} (${(requests / images).toFixed(1)} per image)`],
    [
      'GraphQL calls by root field',
      JSON.stringify(
        Object.fromEntries(
          Object.entries(after.byOperation)
            .map(([k, v]) => [k, v - (before.byOperation[k] ?? 0)])
            .filter(([, v]) => (v as number) > 0),
        ),
      ),
    ],
    ['cost points spent (actual)', `${points} (${costPerImage.toFixed(1)} per image)`],
    ['bucket limit = restore / cost per image', `${limit.toFixed(2)} images/s`],
    ['wall time, all publishes', `${wallS.toFixed(1)} s (${(images / wallS).toFixed(2)} images/s incl. the initial bucket)`],
    [
      'sustained window (bucket drained → end)',
      `${sustainedS.toFixed(1)} s, ${sustained.length} images, bucket ${drained.available} → ${samples.at(-1)?.available} points`,
    ],
    ['sustained publish rate', `${sustainedRate.toFixed(2)} images/s`],
    ['efficiency = sustained / limit', efficiency.toFixed(2)],
    [
      '  restore used in the window (points spent / restored)',
      ((after.costSpent - drained.spent) / (RESTORE_RATE * sustainedS) || 0).toFixed(2),
    ],
    [
      'publish latency p50 / p95 / max',
      `${percentile(latencies, 50).toFixed(0)} / ${percentile(latencies, 95).toFixed(0)} / ${latencies.at(-1)?.toFixed(0)} ms`,
    ],
    ['heap after gc', `${heapMb.toFixed(1)} MB`],
  ]
  const width = Math.max(...table.map(([k]) => k.length))
  for (const [k, v] of table) console.log(`${k.padEnd(width)}  ${v}`)

  await cleanup.run()
  if (failed > 0 || duplicates > 0 || notReady > 0 || images !== IMAGES) {
    throw new Error(
      `publish bench: ${failed} failed, ${duplicates} duplicated, ${notReady} not READY, ${images}/${IMAGES} published`,
    )
  }
  console.log(`BENCH publish efficiency=${efficiency.toFixed(2)} cost_per_image=${costPerImage.toFixed(1)}`)
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    console.error(err)
    await cleanup.run()
    process.exit(1)
  },
)
