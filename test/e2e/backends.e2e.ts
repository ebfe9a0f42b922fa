import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { startComfyFake, type ComfyFake } from '#test/fakes/comfyui/index.ts'
import { launchBrowser } from './browser.ts'

// Settings → GPU backends in Chromium: a merchant connects a ComfyUI server
// (the fake, on this machine), tests the connection, saves it, and the
// studio's model personas become choosable. The backend is deleted again at
// the end, through the page, so the other e2e files see the CPU studio alone.

const baseUrl = inject('baseUrl')
const product = 'classic-graphic-tee'
const shots = path.resolve('test-results')
const NAME = 'E2E ComfyUI'

let browser: Browser
let page: Page
let fake: ComfyFake
let closedPort: string
const pageErrors: string[] = []

beforeAll(async () => {
  mkdirSync(shots, { recursive: true })
  fake = await startComfyFake()
  const gone = await startComfyFake()
  closedPort = new URL(gone.url).port
  await gone.close()
  browser = await launchBrowser()
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
  page.on('pageerror', (e) => pageErrors.push(e.message))
})

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    await page?.screenshot({
      path: path.join(shots, `failed-backends-${ctx.task.name.replace(/\W+/g, '-')}.png`),
      fullPage: true,
    })
  }
})

afterAll(async () => {
  await browser?.close()
  await fake?.close().catch(() => {})
})

async function openEditor(): Promise<void> {
  await page.goto(`${baseUrl}/app/settings/backends`)
  await page.getByRole('link', { name: `Edit ${NAME}` }).click()
  await page.waitForURL(/\/app\/settings\/backends\/[0-9a-f-]{36}$/)
}

describe('GPU backends, end to end in Chromium', () => {
  it('connects a ComfyUI server, tests it, and makes models choosable in the studio', async () => {
    // Before: the CPU studio alone, so models collapse to one line; opened, they cannot be chosen, with the reason on hover.
    await page.goto(`${baseUrl}/app/products/${product}`)
    expect(await page.getByTestId('personas-collapsed').textContent()).toBe('None: models need a GPU backend')
    await page.getByRole('button', { name: 'Show models' }).click()
    const persona = page.getByTestId('persona-amara')
    await persona.waitFor()
    expect(await persona.isDisabled()).toBe(true)
    expect(await persona.getAttribute('title')).toMatch(/Needs a GPU backend/)

    await page.goto(`${baseUrl}/app/settings/backends`)
    await page.getByRole('link', { name: 'Add backend' }).click()
    await page.waitForURL(/\/app\/settings\/backends\/new$/)
    await page.getByLabel('Name', { exact: true }).fill(NAME)
    await page.getByLabel('Slots').fill('2')

    // A port where nothing listens: the page says so in words, with the next step.
    await page.getByLabel('Server URL').fill(`http://127.0.0.1:${closedPort}`)
    await page.getByRole('button', { name: 'Test connection' }).click()
    const refused = page.locator('[data-testid="test-result"][data-ok="false"]')
    await refused.waitFor()
    expect(await refused.getByTestId('check-reason').getAttribute('data-reason')).toBe('refused')
    await refused.getByText(/Nothing accepted the connection at this address and port/).waitFor()
    await page.screenshot({ path: path.join(shots, 'backends-test-refused.png'), fullPage: true })

    await page.getByLabel('Server URL').fill(fake.url)
    await page.getByRole('button', { name: 'Test connection' }).click()
    const result = page.locator('[data-testid="test-result"][data-ok="true"]')
    await result.waitFor()
    expect(await result.getAttribute('data-ok')).toBe('true')
    await result.getByText('Connected').waitFor()
    await result.getByText(/RTX 4090/).waitFor()
    await page.screenshot({ path: path.join(shots, 'backends-test-connection.png'), fullPage: true })
    expect(fake.requests.some((r) => r.path === '/system_stats')).toBe(true)

    await page.getByRole('button', { name: 'Save' }).click()
    await page.waitForURL(/\/app\/settings\/backends$/)
    await page.getByRole('heading', { name: NAME }).waitFor()
    await page.screenshot({ path: path.join(shots, 'backends-list.png'), fullPage: true })

    // The studio now offers models on the connected server.
    await page.goto(`${baseUrl}/app/products/${product}`)
    await persona.waitFor()
    expect(await persona.isDisabled()).toBe(false)
    expect(await page.getByText('Models need a GPU backend').count()).toBe(0)
    await persona.click()
    expect(await persona.getAttribute('aria-checked')).toBe('true')
    await page.screenshot({ path: path.join(shots, 'backends-studio-personas.png'), fullPage: true })

    // A saved backend's test keeps its result: the list shows it as connected.
    await openEditor()
    await page.getByRole('button', { name: 'Test connection' }).click()
    await page.getByTestId('test-result').waitFor()
    await page.goto(`${baseUrl}/app/settings/backends`)
    expect(await page.locator('[data-check="ok"]').count()).toBe(1)
    expect(pageErrors).toEqual([])
  })

  it('locks models again when the saved server stops answering, and names it', async () => {
    await fake.close()
    // The worker checks every backend every 15 s; the studio reads the last check.
    const persona = page.getByTestId('persona-amara')
    const deadline = Date.now() + 45_000
    for (;;) {
      await page.goto(`${baseUrl}/app/products/${product}`)
      await page.getByTestId('generate-bar').waitFor()
      if ((await page.getByTestId('personas-collapsed').count()) > 0) break
      if (Date.now() > deadline) throw new Error('the persona stayed enabled through a backend that does not answer')
      await page.waitForTimeout(2_000)
    }
    expect(await page.getByTestId('personas-collapsed').textContent()).toBe('None: the GPU backend for models is not answering')
    await page.getByRole('button', { name: 'Show models' }).click()
    expect(await persona.isDisabled()).toBe(true)
    expect(await persona.getAttribute('title')).toContain(`${NAME} did not pass its last health check`)
    expect(await page.getByTestId('personas-down').textContent()).toContain(NAME)
    await page.screenshot({ path: path.join(shots, 'backends-studio-backend-down.png'), fullPage: true })
    expect(pageErrors).toEqual([])
  }, 60_000)

  it('deletes the backend, and the studio is back to the CPU studio', async () => {
    await openEditor()
    await page.getByRole('button', { name: 'Delete', exact: true }).click()
    await page.getByRole('button', { name: 'Delete backend' }).click()
    await page.waitForURL(/\/app\/settings\/backends$/)
    await page.getByText(/No GPU backend of your own yet/).waitFor()

    await page.goto(`${baseUrl}/app/products/${product}`)
    await page.getByRole('button', { name: 'Show models' }).click()
    await page.getByText('Models need a GPU backend').waitFor()
    expect(await page.getByTestId('persona-amara').isDisabled()).toBe(true)
    expect(pageErrors).toEqual([])
  })
})
