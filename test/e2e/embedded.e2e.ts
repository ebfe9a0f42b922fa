import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Session } from '@shopify/shopify-api'
import { getJwt } from '@shopify/shopify-api/test-helpers'
import { eq } from 'drizzle-orm'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { closeDb, db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { adminGraphql } from '#app/modules/shopify/admin.server.ts'
import { startPlan, syncPlan } from '#app/modules/shopify/billing/plan.server.ts'
import { createSessionStorage } from '#app/modules/shopify/session-storage.server.ts'
import { upsertTenant } from '#app/modules/tenants/service.server.ts'
import { startShopifyAdminFake, type ShopifyAdminFake } from '#test/fakes/shopify-admin/index.ts'
import { renders } from '#db/schema.ts'
import { insertRender } from '#test/support/fixtures.ts'
import { freePort } from '#test/support/services.ts'
import { appBridgeShim } from './app-bridge-shim.ts'
import { seriousViolations } from './axe.ts'
import { launchBrowser } from './browser.ts'

// The embedded Shopify app, end to end: the production app in APP_MODE=shopify
// talks to the Admin API fake (real schema, throttling, media processing);
// Chromium opens the pages as the admin iframe would, with a signed session
// token and an App Bridge stand-in.

const STORE = 'atelier-e2e'
const SHOP = `${STORE}.myshopify.com`
const API_KEY = 'e2e-api-key'
const API_SECRET = 'e2e-api-secret-0123456789abcdef'
const ENCRYPTION_KEY = '11'.repeat(32)
const shots = path.resolve('test-results')

let fake: ShopifyAdminFake
let server: ChildProcess | undefined
let appUrl: string
let browser: Browser
let page: Page
let token: string
let host: string

function catalogImage(handle: string, file: string): Buffer {
  return readFileSync(path.resolve('catalog', handle, file))
}

beforeAll(async () => {
  const port = await freePort()
  appUrl = `http://127.0.0.1:${port}`
  fake = await startShopifyAdminFake({
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    apiVersion: '2026-10',
    appUrl,
    mediaProcessingMs: 100,
    shops: [
      {
        domain: SHOP,
        products: [
          { title: 'Sunday Supply Graphic Tee', vendor: 'Northfield', productType: 'T-Shirts', images: [{ bytes: catalogImage('classic-graphic-tee', 'front.jpg'), alt: 'Tee front', filename: 'tee.jpg' }] },
          { title: 'Silk Slip Dress', vendor: 'Maison Lune', productType: 'Dresses', images: [{ bytes: catalogImage('silk-slip-dress', 'front.jpg'), alt: 'Dress', filename: 'dress.jpg' }] },
        ],
      },
    ],
  })
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    APP_MODE: 'shopify',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: process.env.E2E_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/atelier_e2e',
    QUEUE_PREFIX: `atelier-e2e-shopify-${process.pid}`,
    STORAGE_DIR: mkdtempSync(path.join(os.tmpdir(), 'atelier-e2e-shopify-')),
    SIGNING_SECRET: 'e2e-signing-secret-0123456789abcdef',
    ENCRYPTION_KEY,
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_APP_URL: appUrl,
    SHOPIFY_ADMIN_ORIGIN: `${fake.origin}/{shop}`,
    BILLING_TEST: 'true',
    LOG_LEVEL: 'warn',
  }
  // This process acts as the shop's install: an offline session (as token
  // exchange would store it) and an approved usage plan.
  Object.assign(process.env, env, { NODE_ENV: 'test' })
  resetEnvCache()
  await createSessionStorage().storeSession(
    new Session({ id: `offline_${SHOP}`, shop: SHOP, state: '', isOnline: false, accessToken: fake.accessToken(SHOP), scope: 'read_products,write_products,write_files' }),
  )
  const tenant = await upsertTenant('shopify', SHOP, STORE)
  const { confirmationUrl } = await startPlan(tenant, adminGraphql(SHOP), `${appUrl}/app/plan`)
  await fetch(confirmationUrl)
  await syncPlan(tenant, adminGraphql(SHOP))

  server = spawn(process.execPath, ['--import', 'tsx', 'scripts/serve.ts', '--with-worker'], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the app did not start within 60 s')), 60_000)
    server!.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('serving at')) {
        clearTimeout(timer)
        resolve()
      }
    })
    server!.on('exit', (code) => reject(new Error(`the app exited with code ${code}`)))
  })

  token = (await getJwt(STORE, API_KEY, API_SECRET)).token
  browser = await launchBrowser()
  // why a desktop user agent: Shopify's library answers 410 to anything isbot
  // recognises, and "HeadlessChrome" is on that list; merchants' browsers are not.
  const userAgent = (await browser.newBrowserCDPSession().then((s) => s.send('Browser.getVersion'))).userAgent.replace('HeadlessChrome', 'Chrome')
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, userAgent })
  await page.route('https://cdn.shopify.com/**', (route) =>
    route.request().url().includes('app-bridge')
      ? route.fulfill({ contentType: 'text/javascript', body: appBridgeShim({ apiKey: API_KEY, shop: SHOP, token }) })
      : route.fulfill({ status: 404, body: '' }),
  )
  host = Buffer.from(`admin.shopify.com/store/${STORE}`).toString('base64url')
  await page.goto(`${appUrl}/app?embedded=1&shop=${SHOP}&host=${host}&id_token=${token}`)
}, 180_000)

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    await page?.screenshot({ path: path.join(shots, `failed-embedded-${ctx.task.name.replace(/\W+/g, '-')}.png`), fullPage: true })
  }
})

afterAll(async () => {
  await browser?.close()
  server?.kill('SIGTERM')
  await fake?.close()
  await closeDb()
})

describe('embedded Shopify app, end to end', () => {
  it('serves the admin action extensions: looks, then renders for selected products', async () => {
    const auth = { authorization: `Bearer ${token}`, origin: 'https://admin.shopify.com' }
    const looks = await page.request.get(`${appUrl}/api/renders?lang=zh-CN`, { headers: auth })
    expect(looks.status()).toBe(200)
    expect(looks.headers()['access-control-allow-origin']).toBeTruthy()
    const body = (await looks.json()) as { markets: { id: string; name: string }[]; scenes: { id: string }[] }
    expect(body.markets.find((m) => m.id === 'cn')?.name).toBe('中国')
    const dress = fake.state(SHOP).products.find((p) => p.title === 'Silk Slip Dress')!
    const start = await page.request.post(`${appUrl}/api/renders`, {
      headers: { ...auth, 'content-type': 'application/json' },
      data: { productIds: [dress.id, 'gid://shopify/Product/424242'], look: { marketId: 'us', sceneId: 'studio-white', personaId: null }, variants: 1 },
    })
    expect(start.status()).toBe(200)
    const result = (await start.json()) as { started: number; results: { productId: string; renderIds?: string[]; error?: { code: string } }[] }
    // One unknown product is reported; the other still starts.
    expect(result.started).toBe(1)
    expect(result.results.find((r) => r.productId === dress.id)?.renderIds).toHaveLength(1)
    expect(result.results.find((r) => r.productId !== dress.id)?.error?.code).toBe('NOT_FOUND')
    const bad = await page.request.post(`${appUrl}/api/renders`, { headers: { ...auth, 'content-type': 'application/json' }, data: { productIds: [] } })
    expect(bad.status()).toBe(400)
    const anonymous = await page.request.post(`${appUrl}/api/renders`, { headers: { 'content-type': 'application/json' }, data: {} })
    expect(anonymous.status()).toBe(401)
  })

  it('lists the store’s products inside the admin frame', async () => {
    await page.getByText('Sunday Supply Graphic Tee').first().waitFor()
    await page.getByText('Silk Slip Dress').first().waitFor()
    await page.screenshot({ path: path.join(shots, 'embedded-products.png') })
  })

  it('renders, approves, publishes to the product media, and undoes', async () => {
    const originals = fake.state(SHOP).products.find((p) => p.title === 'Sunday Supply Graphic Tee')!
    const originalMedia = originals.media.map((m) => ({ id: m.id, sha256: m.sourceSha256 }))

    await page.getByText('Sunday Supply Graphic Tee').first().click()
    await page.getByTestId('scene-studio-white').click()
    await page.getByLabel('Variants').selectOption('1')
    await page.getByRole('button', { name: 'Generate' }).click()
    await page.locator('[data-status="succeeded"]').first().waitFor({ timeout: 60_000 })

    await page.getByRole('button', { name: 'Approve' }).first().click()
    await page.locator('[data-review="approved"]').first().waitFor()
    await page.getByRole('button', { name: 'Publish' }).first().click()
    await page.locator('[data-review="published"]').first().waitFor({ timeout: 60_000 })

    const after = fake.state(SHOP).products.find((p) => p.title === 'Sunday Supply Graphic Tee')!
    const ours = after.media.filter((m) => !originalMedia.some((o) => o.id === m.id))
    expect(ours).toHaveLength(1)
    expect(ours[0].status).toBe('READY')
    expect(ours[0].alt).toContain('Sunday Supply Graphic Tee')
    expect(await page.evaluate(() => (window as unknown as { __appBridge: { toasts: { message: string }[] } }).__appBridge.toasts.map((t) => t.message))).toContain(
      'Published to the listing',
    )
    // Every finished render was charged once on the usage plan (this one and the extension's).
    await expect.poll(() => fake.state(SHOP).usageRecords.length, { timeout: 20_000 }).toBe(2)
    const keys = fake.state(SHOP).usageRecords.map((r) => r.idempotencyKey)
    expect(new Set(keys).size).toBe(keys.length)

    await page.getByRole('button', { name: 'Undo publish' }).first().click()
    await page.locator('[data-review="unpublished"]').first().waitFor({ timeout: 30_000 })
    const undone = fake.state(SHOP).products.find((p) => p.title === 'Sunday Supply Graphic Tee')!
    expect(undone.media.map((m) => ({ id: m.id, sha256: m.sourceSha256 }))).toEqual(originalMedia)
    await page.screenshot({ path: path.join(shots, 'embedded-studio.png'), fullPage: true })
    // Shopify echoed our own media changes as products/update: delivered, verified, answered 200.
    await expect.poll(() => fake.state(SHOP).webhookDeliveries.filter((d) => d.topic === 'products/update').length, { timeout: 10_000 }).toBeGreaterThan(0)
    const echoes = fake.state(SHOP).webhookDeliveries.filter((d) => d.topic === 'products/update')
    expect(echoes.map((d) => d.status)).toEqual(echoes.map(() => 200))
  })

  it('shows the plan with usage and the cap', async () => {
    await page.goto(`${appUrl}/app/plan?embedded=1&shop=${SHOP}&host=${host}&id_token=${token}`)
    await page.getByText('Active').first().waitFor()
    await expect.poll(async () => page.getByTestId('plan-usage').textContent()).toMatch(/2 renders, 0\.10 of 100 USD/)
  })

  it('asks before publishing a render below the fidelity threshold, naming why, and publishes only when confirmed', async () => {
    const tenant = await upsertTenant('shopify', SHOP, STORE)
    const tee = () => fake.state(SHOP).products.find((p) => p.title === 'Sunday Supply Graphic Tee')!
    const media = () => tee().media.map((m) => m.id)
    const before = media()
    const row = await insertRender(tenant, { backend: 'cpu-studio', enqueue: false, productRef: tee().id })
    await db()
      .update(renders)
      .set({ status: 'succeeded', reviewState: 'approved', fidelityScore: 12, gatePassed: false, reviewReasons: [{ code: 'colour_shifted', severity: 0.8 }], resultKey: row.sourceKey, finishedAt: new Date() })
      .where(eq(renders.id, row.id))
    await page.goto(`${appUrl}/app/products/${encodeURIComponent(tee().id)}?embedded=1&shop=${SHOP}&host=${host}&id_token=${token}`)
    await page.getByRole('button', { name: 'Publish anyway' }).first().click()
    const risk = page.getByTestId(`publish-risk-${row.id}`)
    await risk.waitFor()
    expect(await risk.textContent()).toMatch(/^Its product fidelity is 12, below \d+: colour shifted\. Shoppers will see this image on the listing/)
    await page.getByRole('button', { name: 'Keep reviewing' }).click()
    await risk.waitFor({ state: 'detached' })
    await page.waitForTimeout(500)
    expect(media()).toEqual(before)
    await page.getByRole('button', { name: 'Publish anyway' }).first().click()
    await page.getByRole('dialog').getByRole('button', { name: 'Publish anyway' }).click()
    await page.locator(`[data-testid="render-${row.id}"][data-review="published"]`).waitFor({ timeout: 60_000 })
    expect(media()).toHaveLength(before.length + 1)
  })

  it('has no critical or serious axe violations on any page inside the admin, in both languages', async () => {
    const tee = fake.state(SHOP).products.find((p) => p.title === 'Sunday Supply Graphic Tee')!
    const pages = ['/app', `/app/products/${encodeURIComponent(tee.id)}`, '/app/review', '/app/bulk', '/app/bulk/new', '/app/settings/backends', '/app/plan']
    const found: string[] = []
    for (const locale of ['en', 'zh-CN']) {
      for (const p of pages) {
        const url = `${appUrl}${p}?embedded=1&shop=${SHOP}&host=${host}&id_token=${token}&locale=${locale}`
        for (const v of await seriousViolations(page, url)) found.push(`${locale} ${p}: ${v}`)
      }
    }
    expect(found).toEqual([])
  })

  it('answers 404 for another shop’s render id and an unknown product', async () => {
    const other = await upsertTenant('shopify', 'someone-else.myshopify.com', 'someone-else')
    const foreign = await insertRender(other, { backend: 'cpu-studio', enqueue: false })
    const auth = { authorization: `Bearer ${token}` }
    const approve = await page.request.post(`${appUrl}/app/products/${encodeURIComponent(foreign.productRef)}?index`, {
      headers: auth,
      form: { intent: 'approve', renderId: foreign.id },
    })
    expect(approve.status()).toBe(404)
    const product = await page.request.get(`${appUrl}/app/products/${encodeURIComponent('gid://shopify/Product/999999999')}`, { headers: auth })
    expect(product.status()).toBe(404)
  })
})
