import path from 'node:path'
import type { Page } from 'playwright-core'

const axePath = path.resolve('node_modules/axe-core/axe.min.js')

interface Violation {
  id: string
  impact: string | null
  help: string
  nodes: { target: string[] }[]
}

/** axe-core's critical and serious violations on the page at `url`, one line each. */
export async function seriousViolations(page: Page, url: string): Promise<string[]> {
  await page.goto(url)
  await page.waitForLoadState('networkidle')
  await page.addScriptTag({ path: axePath })
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: Violation[] }> } }).axe
    const result = await axe.run(document, { resultTypes: ['violations'] })
    return result.violations
  })
  return found
    .filter((v) => v.impact === 'critical' || v.impact === 'serious')
    .map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`)
}
