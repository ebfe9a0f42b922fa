import { randomUUID } from 'node:crypto'
import { and, eq, isNull } from 'drizzle-orm'
import sharp from 'sharp'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { closeBulkQueue } from '#app/modules/bulk/queue.server.ts'
import { confirmBulkRun, itemCounts, startBulkRun } from '#app/modules/bulk/service.server.ts'
import { SHOPIFY_API_VERSION } from '#app/modules/shopify/api-version.ts'
import { processRender } from '#app/modules/renders/jobs.server.ts'
import { approveRender, createRenders } from '#app/modules/renders/service.server.ts'
import { publications, renders, sessionTable, tenants } from '#db/schema.ts'
import { startShopifyAdminFake } from '#test/fakes/shopify-admin/index.ts'
import { catalogImages, createLocalTenant, insertRender, productSceneLook, sampleProductPng } from '#test/support/fixtures.ts'
import { installFakeShop } from '#test/support/shopify.ts'
import { spawnWorkerProcess } from '#test/support/worker-process.ts'
import { auditBulkRun, auditRenders, knobs, readRun, runScript, until, type Tally } from '../harness.ts'

// Worker processes killed with SIGKILL where it hurts most: mid-render,
// mid-publish (the web side's publish against the Shopify fake) and
// mid-bulk-run. The next process must finish the work exactly once.

export async function workerKilledMidRender(tally: Tally): Promise<void> {
  const tenant = await createLocalTenant()
  const images = await catalogImages(tenant)
  const made = []
  for (const image of images.slice(-3)) {
    made.push(...(await createRenders(tenant, { productId: image.productId, imageId: image.imageId, look: productSceneLook(), seeds: [11, 12] })))
  }
  const first = spawnWorkerProcess(knobs())
  const running = await until(async () => (await db().select().from(renders).where(and(eq(renders.tenantId, tenant.id), eq(renders.status, 'running')))).length > 0, 60_000, 10)
  tally.expect(!!running, `no render started running in the first worker:\n${first.output()}`)
  first.child.kill('SIGKILL')
  await first.exited
  const orphans = (await db().select().from(renders).where(eq(renders.tenantId, tenant.id))).filter((r) => r.status === 'running')
  tally.note(`killed with ${orphans.length} render(s) running`)
  spawnWorkerProcess(knobs())
  await auditRenders(
    tally,
    made.map((r) => r.id),
    { boundMs: 90_000, allowedErrors: [], mustSucceed: true },
  )
}

export async function workerKilledMidBulkRun(tally: Tally): Promise<void> {
  const tenant = await createLocalTenant()
  const look = { operation: 'product_scene' as const, ...productSceneLook() }
  const otherLook = { ...look, sceneId: look.sceneId === 'loft' ? 'street' : 'loft' }
  const products = ['classic-graphic-tee', 'embroidered-cap', 'silk-slip-dress', 'leather-tote-bag', 'breton-striped-long-sleeve']
  const { run } = await startBulkRun(tenant, {
    selection: { kind: 'products', productIds: products },
    looks: [look, otherLook],
    images: { kind: 'featured' },
    maxInFlight: 2,
  })
  const first = spawnWorkerProcess(knobs())
  const read = await until(async () => (await readRun(run.id))?.status === 'awaiting_confirmation', 60_000)
  tally.expect(!!read, `the catalog read did not finish:\n${first.output()}`)
  await confirmBulkRun(tenant, run.id)
  await until(async () => {
    const c = await itemCounts(db(), run.id)
    return c.succeeded + c.failed >= 3
  }, 90_000, 20)
  first.child.kill('SIGKILL')
  await first.exited
  const atKill = await itemCounts(db(), run.id)
  tally.note(`killed at ${atKill.succeeded + atKill.failed} of 10 items done`)
  spawnWorkerProcess(knobs())
  await auditBulkRun(tally, run.id, 10, 120_000)
}

/** A render approved for publishing on a shop of the Shopify fake. */
async function approvedShopRender() {
  const domain = `chaos-${randomUUID().slice(0, 8)}.myshopify.com`
  const bytes = await sharp(await sampleProductPng(3)).jpeg({ quality: 85 }).toBuffer()
  const fake = await startShopifyAdminFake({
    apiKey: 'atelier-chaos-key',
    apiSecret: 'atelier-chaos-secret',
    apiVersion: SHOPIFY_API_VERSION,
    shops: [{ domain, products: [{ title: 'Canvas Tote', images: [{ bytes, alt: 'Tote', filename: 'tote.jpg' }] }] }],
    // why slow: the publish waits for the media to be processed, which widens the window the kill must land in.
    mediaProcessingMs: 2_500,
  })
  process.env.SHOPIFY_ADMIN_ORIGIN = `${fake.origin}/{shop}`
  resetEnvCache()
  const tenant = await installFakeShop(fake, domain)
  const product = fake.state(domain).products[0]
  const row = await insertRender(tenant, { backend: 'cpu-studio', enqueue: false, productRef: product.id, source: await sampleProductPng(3) })
  const done = await processRender(row.id)
  if (done?.status !== 'succeeded') throw new Error(`the render to publish did not succeed: ${done?.errorCode} ${done?.errorMessage}`)
  await approveRender(tenant.id, row.id)
  const cleanup = async () => {
    await db().delete(tenants).where(eq(tenants.id, tenant.id))
    await db().delete(sessionTable).where(eq(sessionTable.shop, domain))
    await fake.close()
  }
  return { fake, domain, tenant, product, render: done, cleanup }
}

export async function killedMidPublish(tally: Tally): Promise<void> {
  const { fake, domain, tenant, product, render, cleanup } = await approvedShopRender()
  try {
    const steps = async () =>
      (await db().query.publications.findFirst({ where: and(eq(publications.renderId, render.id), isNull(publications.undoneAt)) }))?.steps as
        | Record<string, unknown>
        | undefined
    const first = runScript('./publisher.ts', [tenant.id, render.id], { SHOPIFY_ADMIN_ORIGIN: process.env.SHOPIFY_ADMIN_ORIGIN! })
    // why at the attach: Shopify has (or is about to have) the media while our row does not yet say so.
    const landed = await until(async () => {
      const s = await steps()
      return s && (s.attachRequestedAt || s.externalId) ? s : undefined
    }, 60_000, 5)
    first.child.kill('SIGKILL')
    await first.exited
    const mid = await db().query.renders.findFirst({ where: eq(renders.id, render.id) })
    tally.expect(!!landed && mid?.reviewState !== 'published', `the kill did not land mid-publish (steps ${JSON.stringify(landed)}, ${mid?.reviewState}):\n${first.output()}`)
    tally.note(`killed mid-publish at steps ${Object.keys(landed ?? {}).join(', ')}`)

    // The merchant presses Publish again, in a fresh web process.
    const again = runScript('./publisher.ts', [tenant.id, render.id], { SHOPIFY_ADMIN_ORIGIN: process.env.SHOPIFY_ADMIN_ORIGIN! })
    const exit = await Promise.race([again.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))])
    if (exit === 'hung') {
      again.child.kill('SIGKILL')
      tally.problem('stuck', 'the second publish did not finish within 60 s')
    } else tally.expect(exit.code === 0, `the second publish failed:\n${again.output()}`)

    const after = await db().query.renders.findFirst({ where: eq(renders.id, render.id) })
    if (after?.reviewState !== 'published') tally.problem('lost', `render ${render.id} is ${after?.reviewState} after publishing again`)
    const media = fake.state(domain).media.filter((m) => m.origin === 'app' && m.productIds.includes(product.id))
    if (media.length > 1) tally.problem('duplicated', `the product has ${media.length} images from one render on Shopify`)
    if (media.length === 0) tally.problem('lost', 'the published image is not on the product')
    const live = (await db().select().from(publications).where(eq(publications.renderId, render.id))).filter((p) => p.state === 'live')
    if (live.length !== 1) tally.problem('duplicated', `${live.length} live publications of one render`)
    tally.note(`Shopify holds ${media.length} app image(s) for the product`)
  } finally {
    await cleanup()
    await closeBulkQueue()
  }
}
