import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, inject, it } from 'vitest'
import { setUpPage, shots } from './browser.ts'
import { toastShown, watchToasts } from './toasts.ts'

const baseUrl = inject('baseUrl')
const catalogDir = inject('catalogDir')
const product = 'classic-graphic-tee'

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')
const ours = () => readdirSync(path.join(catalogDir, product)).filter((f) => f.startsWith('atelier-'))

let page: Page
const pageErrors: string[] = []

setUpPage((p) => (page = p), pageErrors)

describe('merchant studio, end to end in Chromium', () => {
  it('lists products with thumbnails and finds one by search', async () => {
    await page.goto(`${baseUrl}/app`)
    await expect(page.getByRole('heading', { name: 'Products' })).toBeTruthy()
    await page.getByText('Sunday Supply Graphic Tee').first().waitFor()
    const thumbs = await page.locator('img').evaluateAll((imgs) =>
      (imgs as HTMLImageElement[]).filter((i) => i.complete && i.naturalWidth > 0).length,
    )
    expect(thumbs).toBeGreaterThanOrEqual(8)
    await page.getByPlaceholder('Search by title, vendor or type').fill('tee')
    await page.keyboard.press('Enter')
    await page.waitForURL(/q=tee/)
    await page.getByText('Sunday Supply Graphic Tee').first().waitFor()
    await expect.poll(() => page.getByText('Silk Slip Dress').count()).toBe(0)
    // Filters narrow further: the tee's vendor and an archived status.
    await page.getByLabel('Vendor').fill('Northfield')
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.waitForURL(/vendor=Northfield/)
    await page.getByText('Sunday Supply Graphic Tee').first().waitFor()
    await page.getByLabel('Status').selectOption('archived')
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.getByText('No products found').waitFor()
    await page.goto(`${baseUrl}/app?q=tee`)
    await page.screenshot({ path: path.join(shots, 'products.png') })
  })

  it('generates a look, shows live progress, then a scored result', async () => {
    const originals = readdirSync(path.join(catalogDir, product)).filter((f) => !f.startsWith('atelier'))
    const before = Object.fromEntries(originals.map((f) => [f, sha(path.join(catalogDir, product, f))]))

    await page.goto(`${baseUrl}/app/products/${product}`)
    await page.getByTestId('market-de').click()
    await page.getByTestId('scene-loft').click()
    // The CPU backend cannot render people: the model choice is one line, "None"; opened, the personas are disabled.
    expect(await page.getByTestId('personas-collapsed').textContent()).toBe('None: models need a GPU backend')
    await page.getByRole('button', { name: 'Show models' }).click()
    expect(await page.getByTestId('persona-none').getAttribute('aria-checked')).toBe('true')
    await page.getByText('Models need a GPU backend').waitFor()
    // why: other files' tests (a bulk run) may have rendered this product already; only this test's renders are counted.
    const cards = page.locator('[data-testid^="render-"]')
    const earlier = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid') ?? ''))
    const newCards = (status: string) =>
      cards.evaluateAll(
        (els, [known, wanted]) =>
          els.filter((e) => !known.includes(e.getAttribute('data-testid') ?? '') && e.getAttribute('data-status') === wanted).length,
        [earlier, status] as [string[], string],
      )
    // Four variants on the e2e server's one worker slot: three wait in the queue, so progress shows.
    await page.getByLabel('Variants').selectOption('4')
    await page.getByRole('button', { name: 'Generate' }).click()

    const card = page.locator('[data-testid^="render-"]').first()
    await card.waitFor()
    // Progress is visible while it runs (queued or rendering with a percent).
    const progress = page.locator('[data-testid^="progress-"]').first()
    await progress.waitFor({ timeout: 10_000 })
    expect(await progress.textContent()).toMatch(/Position \d+ in queue|\d+% ·/)
    await page.screenshot({ path: path.join(shots, 'studio-progress.png'), fullPage: true })
    await expect.poll(() => newCards('succeeded'), { timeout: 60_000 }).toBe(4)
    const verdict = page.locator('[data-testid^="verdict-"]').first()
    await verdict.waitFor()
    // Each card names the look that made it, and results are grouped by look, the newest look first.
    expect(await page.locator('[data-testid^="look-"]').first().textContent()).toContain('Germany · Industrial loft · No model')
    expect(await page.getByTestId('look-group').first().getAttribute('aria-label')).toBe('Germany · Industrial loft · No model')
    // The four variants differ in something a merchant can see, and each card says what.
    const variations = await page.getByTestId('look-group').first().locator('[data-testid^="variation-"]').allTextContents()
    expect(new Set(variations.slice(0, 4)).size).toBe(4)
    expect(variations[0]).toMatch(/^Light from the (front|left|right)/)
    // A verdict in words; the numbers, the same the score was made of, under Details.
    expect(await verdict.textContent()).toMatch(/(Product unchanged|Product may have changed|[A-Z][a-z ]+)$/)
    // The verdict opens what it means: what was compared, and what was found.
    await verdict.click()
    const explained = page.locator('[data-testid^="verdict-explained-"]')
    await explained.waitFor()
    expect(await explained.textContent()).toMatch(/compared the product in this image with your photo.*(Nothing differs|These differ|The product differs)/)
    await page.keyboard.press('Escape')
    await explained.waitFor({ state: 'detached' })
    await page.getByRole('button', { name: 'Details' }).first().click()
    expect(await page.locator('[data-testid^="details-"]').first().textContent()).toMatch(
      /^Fidelity score \d+ of 100 \(publishing needs \d+\)\. Colour difference ΔE2000 [\d.]+ .*structure SSIM [\d.]+/,
    )
    await page.screenshot({ path: path.join(shots, 'studio-result.png'), fullPage: true })
    // Finished renders are announced to screen readers.
    await expect.poll(() => page.getByTestId('studio-announcer').textContent()).toMatch(/A render finished: product fidelity \d+\./)

    // Approve, publish: the image lands in the catalog folder. Each says so, and focus stays on the card.
    await watchToasts(page)
    await page.getByRole('button', { name: 'Approve' }).first().focus()
    await page.keyboard.press('Enter')
    await page.locator('[data-review="approved"]').first().waitFor()
    await toastShown(page, 'Approved')
    await expect
      .poll(() => page.evaluate(() => !!document.activeElement?.closest('[data-testid^="card-"]') && document.activeElement?.tagName === 'BUTTON'))
      .toBe(true)
    await page.getByRole('button', { name: 'Publish' }).first().click()
    await page.locator('[data-review="published"]').first().waitFor()
    expect(ours()).toHaveLength(1)
    const manifest = JSON.parse(readFileSync(path.join(catalogDir, product, 'atelier.json'), 'utf8'))
    expect(JSON.stringify(manifest)).toContain(ours()[0])

    // Undo removes exactly what we added; the originals are byte-identical.
    await page.getByRole('button', { name: 'Undo publish' }).first().click()
    await page.locator('[data-review="unpublished"]').first().waitFor()
    expect(ours()).toHaveLength(0)
    for (const [f, hash] of Object.entries(before)) {
      expect(existsSync(path.join(catalogDir, product, f))).toBe(true)
      expect(sha(path.join(catalogDir, product, f))).toBe(hash)
    }
    expect(pageErrors).toEqual([])
  })

  it('shows results first and keeps Generate in reach, on a desktop and on a phone', async () => {
    for (const viewport of [{ width: 1440, height: 900 }, { width: 390, height: 844 }]) {
      await page.setViewportSize(viewport)
      await page.goto(`${baseUrl}/app/products/${product}?lang=en`)
      const results = (await page.getByRole('heading', { name: 'Results' }).boundingBox())!
      const choices = (await page.getByRole('complementary', { name: 'Choices' }).boundingBox())!
      // Results start at the top of the page (beside the choices on a desktop, above them on a phone).
      expect(results.y).toBeLessThan(300)
      expect(viewport.width > 800 ? choices.x > results.x : choices.y > results.y).toBe(true)
      // Generate is on screen without scrolling, and stays there at the bottom of the page.
      const generate = page.getByRole('button', { name: 'Generate' })
      const inView = async () => {
        const box = (await generate.boundingBox())!
        return box.y >= 0 && box.y + box.height <= viewport.height
      }
      expect(await inView()).toBe(true)
      await page.mouse.wheel(0, 1200)
      await expect.poll(inView).toBe(true)
      await page.screenshot({ path: path.join(shots, `studio-${viewport.width}.png`) })
    }
    await page.setViewportSize({ width: 1400, height: 1000 })
  })

  it('compares a result with the photo: slider, zoom and pan by keyboard', async () => {
    await page.goto(`${baseUrl}/app/products/${product}?lang=en`)
    await page.getByRole('button', { name: 'Compare' }).first().click()
    const canvas = page.getByTestId('compare-canvas')
    await canvas.waitFor()
    const before = page.getByTestId('compare-before')
    const clip = () => before.evaluate((i: HTMLElement) => i.style.clipPath)
    expect(await clip()).toBe('inset(0px 50% 0px 0px)')
    // The slider moves with the arrow keys.
    await page.getByTestId('compare-slider').focus()
    for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowLeft')
    expect(await clip()).toBe('inset(0px 60% 0px 0px)')
    // Zoom in with +, pan with the arrows, back with 0.
    await canvas.focus()
    await page.keyboard.press('+')
    await page.keyboard.press('+')
    expect(await page.getByTestId('compare-zoom').textContent()).toBe('200 %')
    const moved = () => canvas.evaluate((c) => (c.firstElementChild as HTMLElement).style.transform)
    const still = await moved()
    await page.keyboard.press('ArrowRight')
    expect(await moved()).not.toBe(still)
    await page.keyboard.press('0')
    expect(await canvas.getAttribute('data-zoom')).toBe('1')
    // The fidelity overlay is there for every result, loaded only when asked for; this one changed nothing visible.
    const [map] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/media/heat/')),
      page.getByRole('button', { name: 'Show changes' }).click(),
    ])
    expect(map.status()).toBe(200)
    expect(map.headers()['content-type']).toBe('image/png')
    expect(await page.getByTestId('compare-no-changes').textContent()).toBe('No change a shopper would notice was found.')
    await page.screenshot({ path: path.join(shots, 'studio-compare.png') })
    await page.keyboard.press('Escape')
    await canvas.waitFor({ state: 'detached' })
  })

  it('moves between choices with the arrow keys, one tab stop per group', async () => {
    await page.goto(`${baseUrl}/app/products/${product}?lang=en`)
    await page.getByTestId('market-de').click()
    // Flags are images, not emoji that Windows shows as letter pairs.
    const flag = page.locator('[data-testid="market-de"] img[data-flag="de"]')
    await expect.poll(() => flag.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true)
    expect(await page.getByTestId('market-de').textContent()).not.toMatch(/\u{1F1E9}/u)
    await page.getByRole('button', { name: 'Show models' }).click()
    const stops = await page.locator('[role="radiogroup"]').evaluateAll((groups) =>
      groups.map((g) => [...g.querySelectorAll<HTMLElement>('[role="radio"]')].filter((r) => r.tabIndex >= 0).length),
    )
    // Source photo, market, scene, model.
    expect(stops).toEqual([1, 1, 1, 1])
    await page.getByTestId('market-de').focus()
    await page.keyboard.press('ArrowRight')
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))
    const moved = await focused()
    expect(moved).toMatch(/^market-/)
    expect(moved).not.toBe('market-de')
    expect(await page.getByTestId(moved!).getAttribute('aria-checked')).toBe('true')
    expect(await page.getByTestId('market-de').getAttribute('tabindex')).toBe('-1')
    await page.keyboard.press('ArrowLeft')
    expect(await focused()).toBe('market-de')
    // Disabled personas (no GPU backend here) are skipped: the arrows stay on "No model".
    await page.getByTestId('persona-none').focus()
    await page.keyboard.press('ArrowRight')
    expect(await focused()).toBe('persona-none')
  })

  it('explains a refused product in words', async () => {
    await page.goto(`${baseUrl}/app/products/retro-court-sneakers`)
    await page.getByLabel('Variants').selectOption('1')
    await page.getByRole('button', { name: 'Generate' }).click()
    await page.locator('[data-status="failed"]').first().waitFor({ timeout: 60_000 })
    await page.getByText(/background is too busy/i).first().waitFor()
  })

  it('speaks Simplified Chinese', async () => {
    await page.goto(`${baseUrl}/app?lang=zh-CN`)
    await page.getByText('选择商品，生成模特图和场景图').waitFor()
    await page.goto(`${baseUrl}/app/products/${product}`)
    await page.getByRole('button', { name: '开始生成' }).waitFor()
    await page.screenshot({ path: path.join(shots, 'studio-zh.png') })
    await page.goto(`${baseUrl}/app?lang=en`)
  })

  it('answers 404 for a render or product that is not this shop’s', async () => {
    const r1 = await page.goto(`${baseUrl}/app/products/no-such-product`)
    expect(r1?.status()).toBe(404)
    const r2 = await page.goto(`${baseUrl}/media/${'a'.repeat(64)}?exp=9999999999&sig=forged`)
    expect(r2?.status()).toBe(403)
  })
})
