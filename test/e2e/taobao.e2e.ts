import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTopClient } from '#app/modules/taobao/top/client.server.ts'
import { FAKE_APP, seedCatalogSeller, startTaobaoFake, type TaobaoFake } from '#test/fakes/taobao/index.ts'
import { freePort } from '#test/support/services.ts'
import { seriousViolations } from './axe.ts'
import { launchBrowser } from './browser.ts'

// The Taobao app, end to end in Chinese (issue 17): the production app in
// APP_MODE=taobao against the Taobao fake (TOP gateway and OAuth). A seller
// logs in through Taobao's consent page, opens an item, renders it, approves
// and publishes the render to a main-image slot, sees it on the item, and
// undoes it: the item's images are exactly what they were.

const shots = path.resolve('test-results')
let fake: TaobaoFake
let seller: { userId: string; nick: string; items: Record<string, number> }
let server: ChildProcess | undefined
let appUrl: string
let browser: Browser
let page: Page

beforeAll(async () => {
  fake = await startTaobaoFake()
  seller = seedCatalogSeller(fake, { nick: '小林的店' })
  const port = await freePort()
  appUrl = `http://127.0.0.1:${port}`
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    APP_MODE: 'taobao',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: process.env.E2E_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/atelier_e2e',
    QUEUE_PREFIX: `atelier-e2e-taobao-${process.pid}`,
    STORAGE_DIR: mkdtempSync(path.join(os.tmpdir(), 'atelier-e2e-taobao-')),
    SIGNING_SECRET: 'e2e-signing-secret-0123456789abcdef',
    ENCRYPTION_KEY: '22'.repeat(32),
    TAOBAO_APP_KEY: FAKE_APP.appKey,
    TAOBAO_APP_SECRET: FAKE_APP.appSecret,
    TAOBAO_APP_URL: appUrl,
    TAOBAO_OAUTH_URL: fake.oauthUrl,
    TAOBAO_GATEWAY_URL: fake.gatewayUrl,
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: '1',
  }
  server = spawn(process.execPath, ['--import', 'tsx', 'scripts/serve.ts', '--with-worker'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
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
  browser = await launchBrowser()
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, locale: 'zh-CN' })
}, 180_000)

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    await page?.screenshot({ path: path.join(shots, `failed-taobao-${ctx.task.name.replace(/\W+/g, '-')}.png`), fullPage: true })
  }
})

afterAll(async () => {
  await browser?.close()
  server?.kill('SIGTERM')
  await fake?.close()
})

const TEE = 'Sunday Supply 印花短袖T恤 藏青色'

describe('the Taobao app, end to end in Chinese', () => {
  it('logs a seller in through Taobao and lists their items', async () => {
    await page.goto(`${appUrl}/app`)
    await page.waitForURL(/\/login\?returnTo=%2Fapp$/)
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN')
    await page.getByRole('link', { name: '使用淘宝账号登录' }).click()
    // Taobao's consent page (the fake's), naming the shop.
    await page.locator('#nick').waitFor()
    expect(await page.locator('#nick').textContent()).toContain('小林的店')
    await page.locator('#authorize').click()
    await page.waitForURL(`${appUrl}/app`)
    await page.getByText(TEE).first().waitFor()
    await page.getByText('店铺：小林的店').waitFor()
    await page.screenshot({ path: path.join(shots, 'taobao-products.png') })
  })

  it('renders an item, publishes the render to a main image, and undoes it exactly', async () => {
    const itemId = seller.items['classic-graphic-tee']
    const before = fake
      .state(seller.userId)
      .items.find((i) => i.num_iid === itemId)!
      .item_imgs.map((i) => ({ ...i }))
    await page.getByText(TEE).first().click()
    await page.waitForURL(new RegExp(`/app/products/${itemId}$`))
    // A Taobao shop starts from the China market.
    expect(await page.getByTestId('market-cn').getAttribute('aria-checked')).toBe('true')
    await page.getByLabel('生成数量').selectOption('1')
    await page.getByRole('button', { name: '开始生成' }).click()
    const card = page.locator('[data-testid^="render-"][data-status="succeeded"]').first()
    await card.waitFor({ timeout: 90_000 })
    const renderId = (await card.getAttribute('data-testid'))!.replace('render-', '')
    await page.getByTestId(`card-${renderId}`).getByRole('button', { name: '通过', exact: true }).click()
    await page.locator(`[data-testid="render-${renderId}"][data-review="approved"]`).waitFor()
    // The seller picks the slot: the fourth main image (slots 2–5 are free).
    await page.getByTestId(`card-${renderId}`).getByLabel('位置').selectOption('3')
    await page.getByTestId(`card-${renderId}`).getByRole('button', { name: '发布', exact: true }).click()
    await page.locator(`[data-testid="render-${renderId}"][data-review="published"]`).waitFor({ timeout: 60_000 })
    const published = fake.state(seller.userId).items.find((i) => i.num_iid === itemId)!.item_imgs
    expect(published).toHaveLength(before.length + 1)
    const ours = published.find((i) => !before.some((b) => b.id === i.id))!
    expect(ours.position).toBe(3)
    await page.screenshot({ path: path.join(shots, 'taobao-published.png'), fullPage: true })

    await page.getByTestId(`card-${renderId}`).getByRole('button', { name: '撤回发布' }).click()
    await page.locator(`[data-testid="render-${renderId}"][data-review="unpublished"]`).waitFor({ timeout: 60_000 })
    const after = fake.state(seller.userId).items.find((i) => i.num_iid === itemId)!.item_imgs
    expect(after).toEqual(before)
  })

  it('asks which original to replace when all five main images are taken, and undo puts it back', async () => {
    const photo = (handle: string) => ({ bytes: readFileSync(path.resolve('catalog', handle, 'front.jpg')) })
    const full = fake.addItem(seller.userId, {
      title: '五图满 条纹T恤',
      images: [
        'breton-striped-long-sleeve',
        'classic-graphic-tee',
        'linen-button-shirt',
        'northfield-logo-hoodie',
        'straight-leg-jeans',
      ].map(photo),
    })
    const images = () =>
      fake
        .state(seller.userId)
        .items.find((i) => i.num_iid === full)!
        .item_imgs.map((i) => ({ ...i }))
    const before = images()
    expect(before).toHaveLength(5)
    await page.goto(`${appUrl}/app/products/${full}`)
    await page.getByLabel('生成数量').selectOption('1')
    await page.getByRole('button', { name: '开始生成' }).click()
    const card = page.locator('[data-testid^="render-"][data-status="succeeded"]').first()
    await card.waitFor({ timeout: 90_000 })
    const renderId = (await card.getAttribute('data-testid'))!.replace('render-', '')
    const cardBox = page.getByTestId(`card-${renderId}`)
    await cardBox.getByRole('button', { name: '通过', exact: true }).click()
    await page.locator(`[data-testid="render-${renderId}"][data-review="approved"]`).waitFor()
    await cardBox.getByRole('button', { name: '发布', exact: true }).click()
    // Nothing was attached: the seller is asked which of the five to replace (a question, not a failure).
    await page.getByTestId(`slots-${renderId}`).waitFor()
    expect(images()).toEqual(before)
    expect(await page.getByTestId(`render-${renderId}`).getAttribute('data-review')).toBe('approved')
    await page.screenshot({ path: path.join(shots, 'taobao-slots-full.png'), fullPage: true })
    await page.getByTestId(`slots-${renderId}`).getByRole('button', { name: '替换第 2 张' }).click()
    await page.locator(`[data-testid="render-${renderId}"][data-review="published"]`).waitFor({ timeout: 60_000 })
    const replaced = images()
    expect(replaced).toHaveLength(5)
    expect(replaced.find((i) => i.position === 1)?.url).not.toBe(before.find((i) => i.position === 1)?.url)
    await cardBox.getByRole('button', { name: '撤回发布' }).click()
    await page.locator(`[data-testid="render-${renderId}"][data-review="unpublished"]`).waitFor({ timeout: 60_000 })
    expect(images()).toEqual(before)
  })

  it('renders a colour variant’s image and publishes it as that colour’s image, undone to the original bytes', async () => {
    const itemId = seller.items['breton-striped-long-sleeve']
    const black = '1627207:28341'
    // The seller's own photo for the black variant (uploaded as Taobao would have it).
    const original = readFileSync(path.resolve('catalog/breton-striped-long-sleeve', 'front.jpg'))
    const top = createTopClient({ appKey: FAKE_APP.appKey, appSecret: FAKE_APP.appSecret, gatewayUrl: fake.gatewayUrl, redis: null, keyPrefix: 'e2e-taobao' })
    const auth = { session: fake.issueToken(seller.userId).access_token, seller: seller.userId }
    const prop = await top.itemPropimgUpload(auth, { num_iid: itemId, properties: black, image: { bytes: original, filename: 'black.jpg' } })
    const colourImage = () => fake.state(seller.userId).items.find((i) => i.num_iid === itemId)!.prop_imgs.find((p) => p.properties === black)!
    const bytesAt = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer())
    await page.goto(`${appUrl}/app/products/${itemId}`)
    await page.getByTestId(`source-prop-${prop.id}`).click()
    await page.getByLabel('生成数量').selectOption('1')
    await page.getByRole('button', { name: '开始生成' }).click()
    const card = page.locator('[data-testid^="render-"][data-status="succeeded"]').first()
    await card.waitFor({ timeout: 90_000 })
    const renderId = (await card.getAttribute('data-testid'))!.replace('render-', '')
    const cardBox = page.getByTestId(`card-${renderId}`)
    await cardBox.getByRole('button', { name: '通过', exact: true }).click()
    await page.locator(`[data-testid="render-${renderId}"][data-review="approved"]`).waitFor()
    await cardBox.getByRole('button', { name: '发布为颜色图' }).click()
    await page.locator(`[data-testid="render-${renderId}"][data-review="published"]`).waitFor({ timeout: 60_000 })
    expect((await bytesAt(colourImage().url)).equals(original)).toBe(false)
    await cardBox.getByRole('button', { name: '撤回发布' }).click()
    await page.locator(`[data-testid="render-${renderId}"][data-review="unpublished"]`).waitFor({ timeout: 60_000 })
    expect(colourImage().id).toBe(prop.id)
    expect((await bytesAt(colourImage().url)).equals(original)).toBe(true)
  })

  it('has no critical or serious axe violations on the login page and the seller’s pages, in both languages', async () => {
    const item = seller.items['classic-graphic-tee']
    const found: string[] = []
    for (const lang of ['zh-CN', 'en']) {
      for (const p of ['/app', `/app/products/${item}`, '/app/review', '/app/bulk']) {
        for (const v of await seriousViolations(page, `${appUrl}${p}?lang=${lang}`)) found.push(`${lang} ${p}: ${v}`)
      }
    }
    await page.goto(`${appUrl}/app?lang=zh-CN`)
    // The login page, seen logged out (a new browser context has no cookie).
    const outside = await browser.newPage({ locale: 'zh-CN' })
    for (const lang of ['zh-CN', 'en']) for (const v of await seriousViolations(outside, `${appUrl}/login?lang=${lang}`)) found.push(`${lang} /login: ${v}`)
    await outside.close()
    expect(found).toEqual([])
  })

  it('logs out, and the app asks to log in again', async () => {
    await page.getByRole('button', { name: '退出登录' }).click()
    await page.waitForURL(/\/login$/)
    await page.goto(`${appUrl}/app/review`)
    await page.waitForURL(/\/login\?returnTo=%2Fapp%2Freview$/)
  })
})
