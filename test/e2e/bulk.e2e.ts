import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, inject, it } from 'vitest'
import { setUpPage, shots } from './browser.ts'
import { parseCsv } from '#test/support/csv.ts'

// "Regenerate all listings" in local mode: a bulk run over three catalog
// products, from the form to the estimate, the live progress and the report.

const baseUrl = inject('baseUrl')
const picked = ['Sunday Supply Graphic Tee', 'Atelier Embroidered Baseball Cap', 'Champagne Silk Slip Dress']

let page: Page
const pageErrors: string[] = []

setUpPage((p) => (page = p), pageErrors, { acceptDownloads: true })

describe('bulk runs, end to end in Chromium', () => {
  it('creates a run over a few products, confirms the estimate, watches it complete and downloads the report', async () => {
    await page.goto(`${baseUrl}/app/bulk?lang=en`)
    await page.getByRole('heading', { name: 'Bulk runs' }).waitFor()
    await page.getByRole('link', { name: 'New bulk run' }).first().click()
    await page.waitForURL(/\/app\/bulk\/new/)

    await page.getByText('Products I choose').click()
    for (const title of picked) await page.getByText(title, { exact: true }).click()
    await page.getByText('The featured image').click()
    // A look from the cards: Germany, loft. One look, added explicitly.
    await page.getByTestId('market-de').click()
    await page.getByTestId('scene-loft').click()
    await page.getByRole('button', { name: 'Add look' }).click()
    await page.getByLabel('At most at once').fill('2')
    await page.screenshot({ path: path.join(shots, 'bulk-new.png'), fullPage: true })
    await page.getByRole('button', { name: 'Estimate' }).click()

    // The catalog is read, then the estimate waits for the merchant.
    await page.waitForURL(/\/app\/bulk\/[0-9a-f-]{36}$/)
    const runId = page.url().split('/').at(-1)!
    const estimate = page.getByTestId('bulk-estimate')
    await estimate.waitFor({ timeout: 30_000 })
    expect(await estimate.textContent()).toMatch(/Renders\s*3 \(3 images × 1 looks\)/)
    expect(await estimate.textContent()).toContain('Free (not billed)')
    await page.screenshot({ path: path.join(shots, 'bulk-estimate.png'), fullPage: true })
    await page.getByRole('button', { name: 'Start 3 renders' }).click()

    // Live progress, without reloading, until every item is done.
    await page
      .locator('[data-testid="bulk-status"][data-status="running"], [data-testid="bulk-status"][data-status="completed"]')
      .waitFor({ timeout: 30_000 })
    await page.getByTestId('bulk-progress').waitFor()
    await page.screenshot({ path: path.join(shots, 'bulk-progress.png'), fullPage: true })
    await page.locator('[data-testid="bulk-status"][data-status="completed"]').waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('bulk-progress').textContent()).toBe('3 of 3 done')
    await page.screenshot({ path: path.join(shots, 'bulk-completed.png'), fullPage: true })

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download report (CSV)' }).click(),
    ])
    expect(download.suggestedFilename()).toBe(`atelier-bulk-${runId}.csv`)
    const csv = readFileSync((await download.path())!, 'utf8').replace(/^\uFEFF/, '')
    const [header, ...rows] = parseCsv(csv.trimEnd())
    expect(header.join(',')).toBe('product_id,product_title,image_id,look,status,render_id,fidelity_score,error_code,error')
    expect(rows).toHaveLength(3)
    expect(rows.map((r) => r[0]).sort()).toEqual(['classic-graphic-tee', 'embroidered-cap', 'silk-slip-dress'])
    for (const row of rows) {
      expect(row[3]).toBe('de / loft / no-model / product_scene')
      expect(row[4]).toMatch(/^(succeeded|failed)$/)
    }
    expect(rows.some((r) => r[4] === 'succeeded' && /^[0-9a-f-]{36}$/.test(r[5]) && /^\d+(\.\d)?$/.test(r[6]))).toBe(true)

    // The list shows it, finished.
    await page.goto(`${baseUrl}/app/bulk`)
    await page.locator(`[data-testid="bulk-run-${runId}"][data-status="completed"]`).waitFor()
    expect(pageErrors).toEqual([])
  })

  it('holds a paused run: what had not started waits for Resume, then the run completes', async () => {
    await page.goto(`${baseUrl}/app/bulk/new?lang=en`)
    await page.getByText('All products', { exact: true }).click()
    await page.getByText('The featured image').click()
    // Six looks over the whole catalog, all at once: far more renders than the one worker slot here starts.
    for (const scene of ['loft', 'street', 'beach', 'cafe-interior', 'studio-white', 'grey-seamless']) {
      await page.getByTestId('market-de').click()
      await page.getByTestId(`scene-${scene}`).click()
      await page.getByRole('button', { name: 'Add look' }).click()
    }
    await page.getByLabel('At most at once').fill('100')
    await page.getByRole('button', { name: 'Estimate' }).click()
    await page.getByTestId('bulk-estimate').waitFor({ timeout: 30_000 })
    const start = page.getByRole('button', { name: /^Start \d+ renders$/ })
    const total = Number((await start.textContent())!.match(/\d+/)![0])
    expect(total).toBeGreaterThanOrEqual(60)
    await start.click()
    await page.getByRole('button', { name: 'Pause' }).click()
    await page.locator('[data-testid="bulk-status"][data-status="paused"]').waitFor({ timeout: 30_000 })
    // The page the pause answered with: what was done, and what had started and is finishing.
    const note = (await page.getByTestId('bulk-paused-note').textContent())!
    const done = async () => Number((await page.getByTestId('bulk-progress').textContent())!.split(' ')[0])
    const atPause = await done()
    const finishing = Number(/(\d+) renders? that had already started/.exec(note)?.[1] ?? 0)
    // Those finish; nothing else does, however long the run stays paused.
    let held = -1
    for (let still = 0; still < 3; ) {
      await page.waitForTimeout(1_500)
      const now = await done()
      still = now === held ? still + 1 : 0
      held = now
    }
    expect(held).toBe(atPause + finishing)
    expect(held).toBeLessThan(total)
    await page.screenshot({ path: path.join(shots, 'bulk-paused.png'), fullPage: true })
    await page.getByRole('button', { name: 'Resume' }).click()
    await page.locator('[data-testid="bulk-status"][data-status="completed"]').waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('bulk-progress').textContent()).toBe(`${total} of ${total} done`)
    expect(pageErrors).toEqual([])
  })

  it('speaks Simplified Chinese, chosen from the language menu and kept, and answers 404 for a run that is not there', async () => {
    await page.goto(`${baseUrl}/app/bulk?lang=en`)
    await page.getByLabel('Language').selectOption('zh-CN')
    await page.getByRole('heading', { name: '批量任务' }).waitFor()
    // Kept in a cookie: the next page, without ?lang, is Chinese too.
    await page.goto(`${baseUrl}/app/bulk`)
    await page.getByRole('heading', { name: '批量任务' }).waitFor()
    expect(await page.getByLabel('语言').inputValue()).toBe('zh-CN')
    await page.getByText('已完成').first().waitFor()
    // The document says its language and names the page, in it.
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN')
    expect(await page.title()).toBe('批量任务 · Atelier')
    await page.goto(`${baseUrl}/app/bulk?lang=en`)
    expect(await page.getAttribute('html', 'lang')).toBe('en')
    expect(await page.title()).toBe('Bulk runs · Atelier')
    const missing = await page.goto(`${baseUrl}/app/bulk/00000000-0000-4000-8000-000000000000`)
    expect(missing?.status()).toBe(404)
    const csv = await page.request.get(`${baseUrl}/app/bulk/00000000-0000-4000-8000-000000000000/report.csv`)
    expect(csv.status()).toBe(404)
  })
})
