import { readdirSync } from 'node:fs'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { closeDb, db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { upsertTenant } from '#app/modules/tenants/service.server.ts'
import { renders } from '#db/schema.ts'
import { insertRender } from '#test/support/fixtures.ts'
import { setUpPage, shots } from './browser.ts'
import { toastShown, watchToasts } from './toasts.ts'

// The review experience over a bulk run (issue 16): the run ends in a grid of
// thumbnails with product names, which leads to the review queue; there the
// merchant filters, ticks several and approves or publishes them at once, and
// a render that failed the fidelity check is published only after a
// confirmation that names why.

const baseUrl = inject('baseUrl')
const catalogDir = inject('catalogDir')
const picked = ['Sunday Supply Graphic Tee', 'Atelier Embroidered Baseball Cap', 'Champagne Silk Slip Dress']

let page: Page
const pageErrors: string[] = []
setUpPage((p) => (page = p), pageErrors)

beforeAll(() => {
  // why: this file reads and changes the rows the app's server keeps (its database, not the suite's).
  process.env.DATABASE_URL = process.env.E2E_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/atelier_e2e'
  resetEnvCache()
})

afterAll(async () => {
  await closeDb()
})

const runRenders = (runId: string) => db().select().from(renders).where(eq(renders.batchId, runId))
const published = (productId: string) => readdirSync(path.join(catalogDir, productId)).filter((f) => f.startsWith('atelier-'))

async function finishedRun(): Promise<string> {
  await page.goto(`${baseUrl}/app/bulk/new?lang=en`)
  await page.getByText('Products I choose').click()
  for (const title of picked) await page.getByText(title, { exact: true }).click()
  await page.getByText('The featured image').click()
  await page.getByTestId('market-de').click()
  await page.getByTestId('scene-street').click()
  await page.getByRole('button', { name: 'Add look' }).click()
  await page.getByRole('button', { name: 'Estimate' }).click()
  await page.waitForURL(/\/app\/bulk\/[0-9a-f-]{36}$/)
  await page.getByRole('button', { name: 'Start 3 renders' }).click({ timeout: 30_000 })
  await page.locator('[data-testid="bulk-status"][data-status="completed"]').waitFor({ timeout: 120_000 })
  return page.url().split('/').at(-1)!
}

describe('reviewing many renders at once, in Chromium', () => {
  let runId: string
  let low: { id: string; productRef: string }
  let passing: { id: string; productRef: string }[]

  it('a finished bulk run shows its results with product names and leads to their review', async () => {
    runId = await finishedRun()
    const grid = page.getByTestId('run-results')
    await grid.waitFor()
    for (const title of picked) await grid.getByAltText(title).waitFor()
    await page.screenshot({ path: path.join(shots, 'bulk-results.png'), fullPage: true })
    const rows = await runRenders(runId)
    expect(rows.filter((r) => r.status === 'succeeded')).toHaveLength(3)
    // One of them failed the fidelity check, two passed: set here, so what is tested is the review, not this
    // run's variants (the CPU studio's own scores are the studio e2e's and the golden sets' to check).
    ;[low, ...passing] = rows
    await db()
      .update(renders)
      .set({ fidelityScore: 12, gatePassed: false, reviewReasons: [{ code: 'colour_shifted', severity: 0.8 }] })
      .where(eq(renders.id, low.id))
    for (const r of passing) {
      await db().update(renders).set({ fidelityScore: 100, gatePassed: true, reviewReasons: [] }).where(eq(renders.id, r.id))
    }
    await page.getByRole('link', { name: 'Review all 3 renders' }).click()
    await page.waitForURL(new RegExp(`/app/review\\?run=${runId}`))
    await page.getByTestId(`review-${low.id}`).waitFor()
    expect(await page.locator('[data-testid^="review-verdict-"]').count()).toBe(3)
    expect(await page.getByTestId(`review-verdict-${low.id}`).textContent()).toMatch(/Colour shifted$/)
  })

  it('filters by verdict, then approves two at once; they move to "Approved, not published"', async () => {
    await page.getByLabel('Fidelity').selectOption('attention')
    await page.waitForURL(/verdict=attention/)
    await expect.poll(() => page.locator('[data-testid^="review-verdict-"]').count()).toBe(1)
    await page.getByLabel('Fidelity').selectOption('unchanged')
    await expect.poll(() => page.locator('[data-testid^="review-verdict-"]').count()).toBe(2)
    await watchToasts(page)
    await page.getByLabel('Select all 2 on this page').check()
    await page.getByRole('button', { name: 'Approve', exact: true }).click()
    await toastShown(page, '2 renders approved')
    // Focus stays on the page (the grid, now empty under this filter), not <body>.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('review-grid')
    await expect.poll(() => page.locator('[data-testid^="review-verdict-"]').count()).toBe(0)
    for (const r of passing)
      expect((await db().select().from(renders).where(eq(renders.id, r.id)))[0].reviewState).toBe('approved')
    await page.getByRole('tab', { name: 'Approved, not published' }).click()
    await expect.poll(() => page.locator('[data-testid^="review-verdict-"]').count()).toBe(2)
  })

  it('"Approve & publish" names what failed the check and publishes only the unchanged ones when asked', async () => {
    await page.goto(`${baseUrl}/app/review?lang=en&run=${runId}`)
    await page.getByTestId(`review-${low.id}`).waitFor()
    await watchToasts(page)
    await page.getByLabel('Select all 1 on this page').check()
    await page.getByRole('button', { name: 'Approve & publish' }).click()
    const risks = page.getByTestId('review-risks')
    await risks.waitFor()
    expect(await risks.textContent()).toMatch(/: Colour shifted$/)
    await page.screenshot({ path: path.join(shots, 'review-confirm.png'), fullPage: true })
    await page.getByRole('button', { name: 'Publish only the unchanged ones' }).click()
    await toastShown(page, /0 renders published · 1 approved but not published/)
    expect(published(low.productRef)).toEqual([])

    // From the approved tab, all three; the confirmation again, and this time anyway.
    await page.getByRole('tab', { name: 'Approved, not published' }).click()
    await expect.poll(() => page.locator('[data-testid^="review-verdict-"]').count()).toBe(3)
    await page.getByLabel('Select all 3 on this page').check()
    await page.getByRole('button', { name: 'Publish', exact: true }).click()
    await page.getByRole('button', { name: 'Publish all anyway' }).click()
    await toastShown(page, '3 renders published')
    for (const r of [low, ...passing]) expect(published(r.productRef)).toHaveLength(1)
    await expect.poll(() => page.locator('[data-testid^="review-verdict-"]').count()).toBe(0)
    await page.screenshot({ path: path.join(shots, 'review-done.png'), fullPage: true })
    expect(pageErrors).toEqual([])
  })

  it("answers 404 for another shop's render ids, and changes nothing of a mixed selection", async () => {
    const other = await upsertTenant('local', `review-e2e-${randomUUID()}`, 'Someone else')
    const foreign = await insertRender(other, { backend: 'cpu-studio', enqueue: false })
    const answer = await page.request.post(`${baseUrl}/app/review`, {
      headers: { origin: new URL(baseUrl).origin },
      form: { intent: 'reject', ids: `${foreign.id},${low.id}` },
    })
    expect(answer.status()).toBe(404)
    expect((await db().select().from(renders).where(eq(renders.id, low.id)))[0].reviewState).toBe('published')
  })
})
