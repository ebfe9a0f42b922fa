import type { Page } from 'playwright-core'
import { describe, expect, inject, it } from 'vitest'
import { seriousViolations } from './axe.ts'
import { setUpPage } from './browser.ts'

// axe-core on every page of the standalone app, in both languages (issue 16:
// no critical or serious violation): the catalog's first product's studio
// and a bulk run made here for its page.

const baseUrl = inject('baseUrl')
let page: Page
const pageErrors: string[] = []
setUpPage((p) => (page = p), pageErrors)

describe('accessibility, every page, both languages', () => {
  it('has no critical or serious axe violations', async () => {
    await page.goto(`${baseUrl}/app?lang=en`)
    const productHref = await page.locator('a[href^="/app/products/"]').first().getAttribute('href')
    // A bulk run's page: a run over one product, waiting for its estimate to be confirmed.
    await page.goto(`${baseUrl}/app/bulk/new?lang=en`)
    await page.getByText('Products I choose').click()
    await page.getByText('Sunday Supply Graphic Tee', { exact: true }).click()
    await page.getByRole('button', { name: 'Estimate' }).click()
    await page.waitForURL(/\/app\/bulk\/[0-9a-f-]{36}$/)
    const runPath = new URL(page.url()).pathname
    await page.getByTestId('bulk-estimate').waitFor({ timeout: 30_000 })
    const pages = ['/app', productHref!.split('?')[0], '/app/review', '/app/bulk', '/app/bulk/new', runPath, '/app/settings/backends', '/app/settings/backends/new', '/app/plan']
    const found: string[] = []
    for (const lang of ['en', 'zh-CN']) {
      for (const p of pages) for (const v of await seriousViolations(page, `${baseUrl}${p}?lang=${lang}`)) found.push(`${lang} ${p}: ${v}`)
    }
    expect(found).toEqual([])
    expect(pageErrors).toEqual([])
  })
})
