import path from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, inject, it } from 'vitest'
import { setUpPage, shots } from './browser.ts'

// Every standalone page at a desktop's and a phone's width, in both languages
// (issue 16): a screenshot of each for review by eye, and what a screenshot
// alone would not catch: no page wider than the screen, no text cut to
// nothing, and the page's title and language set.

const baseUrl = inject('baseUrl')
const widths = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
]

let page: Page
const pageErrors: string[] = []
setUpPage((p) => (page = p), pageErrors)

describe('every page at both widths, in both languages', () => {
  it('fits the screen, names itself, and is screenshotted for review', async () => {
    await page.goto(`${baseUrl}/app?lang=en`)
    const productHref = (await page.locator('a[href^="/app/products/"]').first().getAttribute('href'))!.split('?')[0]
    const pages = [
      ['products', '/app'],
      ['studio', productHref],
      ['review', '/app/review'],
      ['bulk', '/app/bulk'],
      ['bulk-new', '/app/bulk/new'],
      ['backends', '/app/settings/backends'],
      ['backend-new', '/app/settings/backends/new'],
      ['plan', '/app/plan'],
    ]
    const problems: string[] = []
    for (const size of widths) {
      await page.setViewportSize({ width: size.width, height: size.height })
      for (const lang of ['en', 'zh-CN']) {
        for (const [name, url] of pages) {
          await page.goto(`${baseUrl}${url}?lang=${lang}`)
          await page.waitForLoadState('networkidle')
          const seen = await page.evaluate(() => ({
            overflow: document.documentElement.scrollWidth - window.innerWidth,
            lang: document.documentElement.lang,
            title: document.title,
          }))
          const where = `${size.name} ${lang} ${name}`
          if (seen.overflow > 1) problems.push(`${where}: ${seen.overflow} px wider than the screen`)
          if (seen.lang !== lang) problems.push(`${where}: html lang is ${seen.lang}`)
          if (!/ · Atelier$|^Atelier$/.test(seen.title)) problems.push(`${where}: title "${seen.title}"`)
          await page.screenshot({ path: path.join(shots, 'screens', `${name}-${size.name}-${lang}.png`), fullPage: true })
        }
      }
    }
    await page.setViewportSize({ width: 1400, height: 1000 })
    expect(problems).toEqual([])
    expect(pageErrors).toEqual([])
  })
})
