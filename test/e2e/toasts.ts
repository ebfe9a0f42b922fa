import type { Page } from 'playwright-core'

/**
 * Records every Polaris toast the page shows from now on. why: a toast stays
 * five seconds; on a loaded machine the test can look after it has gone.
 * Call again after a navigation (a new document forgets the recorder).
 */
export async function watchToasts(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __toasts?: string[] }
    if (w.__toasts) return
    const seen: string[] = (w.__toasts = [])
    const read = () => document.querySelectorAll('.Polaris-Frame-Toast').forEach((t) => seen.push(t.textContent ?? ''))
    new MutationObserver(read).observe(document.body, { childList: true, subtree: true, characterData: true })
    read()
  })
}

/** Waits until a toast containing `text` (or matching it) has been shown since watchToasts. */
export async function toastShown(page: Page, text: string | RegExp, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout
  for (;;) {
    const seen = await page.evaluate(() => (window as unknown as { __toasts?: string[] }).__toasts ?? [])
    if (seen.some((s) => (typeof text === 'string' ? s.includes(text) : text.test(s)))) return
    if (Date.now() > deadline) throw new Error(`no toast ${String(text)} was shown; saw: ${JSON.stringify([...new Set(seen)])}`)
    await page.waitForTimeout(100)
  }
}
