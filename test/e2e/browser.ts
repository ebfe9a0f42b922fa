import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll } from 'vitest'

/** Where e2e screenshots go (a failed test's too). */
export const shots = path.resolve('test-results')

/** Debian's Chromium, headless, with the flags this offline sandbox needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

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
