import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser } from '#test/support/chromium.ts'
import { afterAll, afterEach, beforeAll } from 'vitest'

/** Where e2e screenshots go (a failed test's too). */
export const shots = path.resolve('test-results')

export { launchBrowser }

/**
 * One page for a test file, 1400 × 1000: opened before its tests (handed to
 * `onPage`), with the page's uncaught errors pushed to `pageErrors`, a
 * full-page screenshot of any test that fails, and the browser closed after.
 */
export function setUpPage(onPage: (page: Page) => void, pageErrors: string[], opts: { acceptDownloads?: boolean } = {}): void {
  let browser: Browser | undefined
  let page: Page | undefined
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true })
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, ...opts })
    page.on('pageerror', (e) => pageErrors.push(e.message))
    onPage(page)
  })
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') {
      await page?.screenshot({ path: path.join(shots, `failed-${ctx.task.name.replace(/\W+/g, '-')}.png`), fullPage: true })
    }
  })
  afterAll(async () => {
    await browser?.close()
  })
}
