import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Browser, BrowserContext, CDPSession, Locator, Page } from 'playwright-core'
import sharp from 'sharp'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { launchBrowser } from './browser.ts'

const baseUrl = inject('baseUrl')
const product = 'retro-court-sneakers'
const shots = path.resolve('test-results')
/** catalog/retro-court-sneakers/lifestyle.jpg: two white court sneakers on a busy terrazzo floor. */
const photo = { width: 1600, height: 1200 }

/**
 * Where the sneakers are in the photo, as brush rows (source pixels): the
 * back shoe's upper from y≈420, both soles down to y≈1010, x≈270…1330.
 */
const keepRows: [x0: number, x1: number, y: number][] = [
  [330, 1000, 470],
  [300, 1240, 570],
  [290, 1300, 670],
  [300, 1320, 770],
  [380, 1320, 870],
  [400, 1300, 960],
]
/** Rough strokes a GPU backend would read as guidance; the CPU studio ignores them. */
const hintStroke: [number, number][] = [
  [160, 160],
  [260, 220],
  [360, 180],
]
/** A corner of the floor nobody paints. */
const floor = { x: 80, y: 1120 }

let browser: Browser
let context: BrowserContext
let page: Page
let cdp: CDPSession
const pageErrors: string[] = []

beforeAll(async () => {
  mkdirSync(shots, { recursive: true })
  browser = await launchBrowser()
  // why hasTouch: the touch stroke goes through Chromium's real touch input, which a touch-less page ignores.
  context = await browser.newContext({ viewport: { width: 1400, height: 1100 }, hasTouch: true })
  page = await context.newPage()
  cdp = await context.newCDPSession(page)
  page.on('pageerror', (e) => pageErrors.push(e.message))
})

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    await page?.screenshot({ path: path.join(shots, `failed-mask-${ctx.task.name.replace(/\W+/g, '-')}.png`), fullPage: true })
  }
})

afterAll(async () => {
  await browser?.close()
})

/** Page coordinates of a point given in the source photo's pixels. */
async function onPhoto(canvas: Locator, x: number, y: number): Promise<{ x: number; y: number }> {
  const box = await canvas.boundingBox()
  if (!box) throw new Error('the mask canvas is not on screen')
  return { x: box.x + (x / photo.width) * box.width, y: box.y + (y / photo.height) * box.height }
}

async function mouseStroke(canvas: Locator, points: [number, number][]): Promise<void> {
  const [first, ...rest] = points
  const start = await onPhoto(canvas, ...first)
  await page.mouse.move(start.x, start.y)
  await page.mouse.down()
  for (const p of rest) {
    const at = await onPhoto(canvas, ...p)
    await page.mouse.move(at.x, at.y, { steps: 12 })
  }
  await page.mouse.up()
}

/** A finger stroke through Chromium's touch input: the page sees pointer events with pointerType 'touch'. */
async function touchStroke(canvas: Locator, points: [number, number][]): Promise<void> {
  const at = await Promise.all(points.map((p) => onPhoto(canvas, ...p)))
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at[0]] })
  for (let i = 1; i < at.length; i++) {
    for (let s = 1; s <= 8; s++) {
      const x = at[i - 1].x + ((at[i].x - at[i - 1].x) * s) / 8
      const y = at[i - 1].y + ((at[i].y - at[i - 1].y) * s) / 8
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x, y }] })
    }
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] })
}

/** The overlay's RGBA at a source pixel (what the merchant sees painted there). */
function overlayAt(canvas: Locator, x: number, y: number): Promise<number[]> {
  return canvas.evaluate(
    (c: HTMLCanvasElement, [sx, sy, w]) => {
      const scale = c.width / w
      return [...c.getContext('2d')!.getImageData(Math.round(sx * scale), Math.round(sy * scale), 1, 1).data]
    },
    [x, y, photo.width] as const,
  )
}

const strokes = async (editor: Locator) => Number(await editor.getAttribute('data-strokes'))

describe('the merchant’s brush, end to end in Chromium', () => {
  it('a refused busy-background photo renders once the merchant paints the sneakers', async () => {
    await page.goto(`${baseUrl}/app/products/${product}`)
    await page.getByLabel('Variants').selectOption('1')
    await page.getByRole('button', { name: 'Generate' }).click()
    const refused = page.locator('.Polaris-Banner').filter({ hasText: /background is too busy/i }).first()
    await refused.waitFor({ timeout: 60_000 })
    expect(await page.locator('[data-status="failed"]').count()).toBeGreaterThanOrEqual(1)

    // The refusal offers the brush, for that render's source photo.
    await refused.getByRole('button', { name: 'Draw a mask' }).click()
    const editor = page.getByTestId('mask-editor')
    const canvas = page.getByTestId('mask-canvas')
    await canvas.waitFor()
    expect(await page.getByRole('button', { name: 'Draw a mask', pressed: true }).count()).toBe(1)
    expect(await page.getByRole('button', { name: 'Keep', pressed: true }).count()).toBe(1)
    expect(await strokes(editor)).toBe(0)

    // A broad brush, then the sneakers painted row by row with the mouse.
    await editor.getByLabel('Brush size').fill('150')
    for (const [x0, x1, y] of keepRows) await mouseStroke(canvas, [[x0, y], [(x0 + x1) / 2, y + 20], [x1, y]])
    expect(await strokes(editor)).toBe(keepRows.length)
    await page.mouse.move(5, 5)
    const shoe = await overlayAt(canvas, 800, 770)
    expect(shoe[3], 'the Keep overlay covers the shoe').toBeGreaterThan(100)
    expect(shoe[1], 'Keep is drawn in green').toBeGreaterThan(shoe[0])
    expect((await overlayAt(canvas, floor.x, floor.y))[3]).toBe(0)

    // One stroke with a finger on the Hint layer, then Undo takes it back.
    await editor.getByRole('button', { name: 'Hint' }).click()
    expect(await editor.getAttribute('data-layer')).toBe('hint')
    const beforeTouch = await overlayAt(canvas, 260, 220)
    expect(beforeTouch[3]).toBe(0)
    const pointerTypes = canvas.evaluate(
      (c) => new Promise<string>((resolve) => c.addEventListener('pointerdown', (e) => resolve((e as PointerEvent).pointerType), { once: true })),
    )
    await touchStroke(canvas, hintStroke)
    expect(await pointerTypes).toBe('touch')
    expect(await strokes(editor)).toBe(keepRows.length + 1)
    const touched = await overlayAt(canvas, 260, 220)
    expect(touched[3], 'the touch stroke is on the overlay').toBeGreaterThan(100)
    expect(touched[2], 'Hint is drawn in blue').toBeGreaterThan(touched[0])
    await editor.getByRole('button', { name: 'Undo', exact: true }).click()
    expect(await strokes(editor)).toBe(keepRows.length)
    expect(await overlayAt(canvas, 260, 220)).toEqual(beforeTouch)

    // The eraser and Ctrl+Z: a stray stroke over the floor, undone from the keyboard.
    await editor.getByRole('button', { name: 'Keep' }).click()
    await mouseStroke(canvas, [[60, 1100], [200, 1150]])
    expect(await strokes(editor)).toBe(keepRows.length + 1)
    await page.keyboard.press('Control+z')
    expect(await strokes(editor)).toBe(keepRows.length)

    // A hint that stays (drawn with the mouse this time), so the saved mask has all three kinds of layer data.
    await editor.getByRole('button', { name: 'Hint' }).click()
    await editor.getByLabel('Brush size').fill('60')
    await mouseStroke(canvas, hintStroke)
    await editor.getByRole('button', { name: 'Keep' }).click()
    await page.mouse.move(5, 5)
    await editor.scrollIntoViewIfNeeded()
    await editor.screenshot({ path: path.join(shots, 'mask-editor.png') })
    await editor.getByRole('button', { name: 'See the photo' }).click()
    expect((await overlayAt(canvas, 800, 770))[3]).toBeLessThan(shoe[3])
    await editor.screenshot({ path: path.join(shots, 'mask-editor-see-through.png') })
    await editor.getByRole('button', { name: 'See the photo' }).click()

    // Generate with the mask: the render succeeds and is scored, with a Mask badge.
    await page.getByText('Generates with your mask.').waitFor()
    const succeededBefore = await page.locator('[data-status="succeeded"]').count()
    await page.getByRole('button', { name: 'Generate' }).click()
    await expect
      .poll(() => page.locator('[data-status="succeeded"]').count(), { timeout: 90_000 })
      .toBe(succeededBefore + 1)
    await page.locator('[data-testid^="verdict-"]').first().waitFor()
    const badge = page.locator('[data-testid^="masked-"]')
    expect(await badge.count()).toBe(1)
    await page.screenshot({ path: path.join(shots, 'mask-result.png'), fullPage: true })

    // The stored mask: a 3-channel PNG the size of the source, R keep, G repaint, B hint.
    const href = await badge.getAttribute('href')
    const response = await page.request.get(new URL(href!, baseUrl).toString())
    expect(response.status()).toBe(200)
    const stored = await response.body()
    expect(await sharp(stored).metadata()).toMatchObject({ format: 'png', ...photo, channels: 3 })
    const pixels = await sharp(stored).raw().toBuffer()
    const at = (x: number, y: number) => [...pixels.subarray((y * photo.width + x) * 3, (y * photo.width + x) * 3 + 3)]
    expect(at(800, 770)).toEqual([255, 0, 0])
    expect(at(260, 220)).toEqual([0, 0, 255])
    expect(at(floor.x, floor.y)).toEqual([0, 0, 0])
    expect(pageErrors).toEqual([])
  })

  it('draws in the photo’s own pixels at a phone’s width', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    try {
      await page.goto(`${baseUrl}/app/products/${product}`)
      await page.getByRole('button', { name: 'Draw a mask' }).first().click()
      const editor = page.getByTestId('mask-editor')
      const canvas = page.getByTestId('mask-canvas')
      await canvas.waitFor()
      await canvas.scrollIntoViewIfNeeded()
      const box = await canvas.boundingBox()
      expect(box!.width).toBeLessThan(390)
      expect(box!.width / box!.height).toBeCloseTo(photo.width / photo.height, 1)
      await touchStroke(canvas, [[700, 600], [900, 600]])
      expect(await strokes(editor)).toBe(1)
      expect((await overlayAt(canvas, 800, 600))[3]).toBeGreaterThan(100)
      expect((await overlayAt(canvas, 800, 300))[3]).toBe(0)
      await editor.screenshot({ path: path.join(shots, 'mask-editor-phone.png') })
    } finally {
      await page.setViewportSize({ width: 1400, height: 1100 })
    }
  })

  it('speaks Simplified Chinese', async () => {
    await page.goto(`${baseUrl}/app/products/${product}?lang=zh-CN`)
    await page.getByRole('button', { name: '绘制蒙版' }).first().click()
    const editor = page.getByTestId('mask-editor')
    await page.getByTestId('mask-canvas').waitFor()
    for (const name of ['保留', '重绘', '提示', '画笔', '橡皮擦', '撤销', '清空', '查看原图']) {
      await editor.getByRole('button', { name, exact: true }).waitFor()
    }
    await editor.getByText('已画 0 笔').waitFor()
    await editor.screenshot({ path: path.join(shots, 'mask-editor-zh.png') })
    await page.goto(`${baseUrl}/app?lang=en`)
  })
})
