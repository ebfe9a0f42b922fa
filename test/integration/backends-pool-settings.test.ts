import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { createBackendConfig, type BackendConfigInput } from '#app/modules/backends/rows.server.ts'
import { closeHealth, healthOf } from '#app/modules/backends/health.server.ts'
import { closePool } from '#app/modules/backends/pool.server.ts'
import { action, loader } from '#app/routes/app.settings.backends_.$backendId.tsx'
import { loader as listLoader } from '#app/routes/app.settings.backends.tsx'
import { backendConfigs, type BackendConfig, type Tenant } from '#db/schema.ts'
import { startComfyFake, type ComfyFake } from '#test/fakes/comfyui/index.ts'
import { createLocalTenant } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll } from '#test/support/queue.ts'

// The settings page's loaders and actions, called as Remix calls them, as one
// shop at a time (the session is the only thing mocked).

let current: Tenant
vi.mock('#app/modules/tenants/session.server.ts', () => ({
  requireTenant: async () => current,
  requireShop: async () => ({ tenant: current, admin: null }),
}))

let prefix: string
let shopA: Tenant
let shopB: Tenant
let fake: ComfyFake
let downUrl: string
const deploymentRows: string[] = []
const TOKEN = `secret-${randomUUID()}`

const BASE = 'http://localhost/app/settings/backends'

function post(backendId: string, fields: Record<string, string | string[]>) {
  const body = new URLSearchParams()
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one)
  const request = new Request(`${BASE}/${backendId}`, { method: 'POST', body })
  return action({ request, params: { backendId }, context: {} })
}

function form(overrides: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return {
    intent: 'save',
    type: 'comfyui',
    name: `Studio GPU ${randomUUID().slice(0, 6)}`,
    url: fake.url,
    slots: '2',
    operations: ['scene_swap', 'model_swap'],
    costPerSecond: '0.002',
    enabled: 'true',
    auth: 'bearer',
    token: TOKEN,
    ...overrides,
  }
}

/** Status and body of what a loader or action returned or threw (a Response, or Remix's data()). */
async function settle(attempt: Promise<unknown>): Promise<{ status: number; body: unknown; location?: string | null }> {
  let value: unknown
  try {
    value = await attempt
  } catch (e) {
    value = e
  }
  if (value instanceof Response) return { status: value.status, body: null, location: value.headers.get('location') }
  const wrapped = value as { type?: string; data?: unknown; init?: { status?: number } }
  if (wrapped?.type === 'DataWithResponseInit') return { status: wrapped.init?.status ?? 200, body: wrapped.data }
  if (value instanceof Error) throw value
  return { status: 200, body: value }
}

async function rowsOf(tenant: Tenant): Promise<BackendConfig[]> {
  return db().select().from(backendConfigs).where(eq(backendConfigs.tenantId, tenant.id))
}

async function added(fields: Record<string, string | string[]>): Promise<BackendConfig> {
  const res = await settle(post('new', fields))
  expect(res).toMatchObject({ status: 302, location: '/app/settings/backends' })
  return (await rowsOf(current)).find((r) => r.name === fields.name)!
}

beforeAll(async () => {
  prefix = isolateQueue()
  ;[shopA, shopB] = [await createLocalTenant(), await createLocalTenant()]
  current = shopA
  fake = await startComfyFake()
  const down = await startComfyFake()
  downUrl = down.url
  await down.close()
})

afterAll(async () => {
  await fake?.close()
  await closePool()
  await closeHealth()
  for (const id of deploymentRows) await db().delete(backendConfigs).where(eq(backendConfigs.id, id))
  await releaseAll(prefix)
})

describe('Settings → GPU backends', () => {
  it('adds a backend with its token encrypted; no page ever shows the token', async () => {
    current = shopA
    const fields = form()
    const row = await added(fields)
    expect(row).toMatchObject({
      type: 'comfyui',
      url: fake.url,
      slots: 2,
      operations: ['scene_swap', 'model_swap'],
      costPerSecond: 0.002,
      enabled: true,
    })
    expect(row.credentialsEnc).toMatch(/^enc:v1:/)
    expect(row.credentialsEnc).not.toContain(TOKEN)

    const list = await settle(listLoader({ request: new Request(BASE), params: {}, context: {} }))
    const edit = await settle(loader({ request: new Request(`${BASE}/${row.id}`), params: { backendId: row.id }, context: {} }))
    for (const page of [list, edit]) {
      const json = JSON.stringify(page.body)
      expect(json).toContain(row.id)
      expect(json).not.toContain(TOKEN)
      expect(json).not.toContain(row.credentialsEnc!)
      expect(json).not.toContain('credentialsEnc')
    }
    expect(edit.body).toMatchObject({ config: { id: row.id, credentialsSet: true, scope: 'shop' } })
  })

  it('edits a backend and keeps the stored secret unless a new one is typed', async () => {
    current = shopA
    const row = await added(form())
    const renamed = `${row.name} (renamed)`
    const res = await settle(post(row.id, form({ name: renamed, slots: '4', auth: 'keep', token: '' })))
    expect(res.status).toBe(302)
    const kept = (await rowsOf(shopA)).find((r) => r.id === row.id)!
    expect(kept).toMatchObject({ name: renamed, slots: 4 })
    expect(kept.credentialsEnc).toBe(row.credentialsEnc)

    await settle(post(row.id, form({ name: renamed, auth: 'bearer', token: 'a-new-token' })))
    const replaced = (await rowsOf(shopA)).find((r) => r.id === row.id)!
    expect(replaced.credentialsEnc).not.toBe(row.credentialsEnc)

    await settle(post(row.id, form({ name: renamed, auth: 'none', token: '' })))
    expect((await rowsOf(shopA)).find((r) => r.id === row.id)!.credentialsEnc).toBeNull()
  })

  it('refuses what is not a backend, field by field', async () => {
    current = shopA
    const cases: [Record<string, string | string[]>, string][] = [
      [{ slots: '0' }, 'slots'],
      [{ slots: '65' }, 'slots'],
      [{ url: 'ftp://gpu-1:8188' }, 'url'],
      [{ url: `http://user:pass@127.0.0.1:1` }, 'url'],
      [{ url: '' }, 'url'],
      [{ operations: [] }, 'operations'],
      [{ type: 'sdwebui', operations: ['tryon'] }, 'operations'],
      [{ costPerSecond: '-1' }, 'costPerSecond'],
      [{ auth: 'bearer', token: '' }, 'token'],
      [{ type: 'sdwebui', auth: 'bearer' }, 'auth'],
      [{ type: 'weshop', url: '', apiKey: '' }, 'apiKey'],
      [{ name: '' }, 'name'],
    ]
    for (const [overrides, field] of cases) {
      const res = await settle(post('new', form(overrides)))
      expect(res.status, JSON.stringify(overrides)).toBe(400)
      expect((res.body as { fieldErrors: Record<string, string> }).fieldErrors, JSON.stringify(overrides)).toHaveProperty(field)
    }
    const taken = await added(form())
    const duplicate = await settle(post('new', form({ name: taken.name })))
    expect(duplicate).toMatchObject({ status: 400, body: { fieldErrors: { name: expect.stringContaining('already exists') } } })
  })

  it('tests a connection from the form before saving: ok, and failed with the reason in words', async () => {
    current = shopA
    const before = (await rowsOf(shopA)).length
    const ok = await settle(post('new', form({ intent: 'test' })))
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({
      ok: true,
      intent: 'test',
      stored: false,
      check: { ok: true, detail: expect.stringContaining('RTX 4090') },
    })
    expect((ok.body as { check: { latencyMs: number } }).check.latencyMs).toBeGreaterThanOrEqual(0)

    const failed = await settle(post('new', form({ intent: 'test', url: downUrl })))
    expect(failed.body).toMatchObject({ ok: true, check: { ok: false, detail: expect.stringMatching(/unreachable/) } })
    // Testing saves nothing new.
    expect((await rowsOf(shopA)).length).toBe(before)
  })

  it('tests a saved backend with its stored secret and keeps the result as its last check', async () => {
    current = shopA
    const row = await added(form())
    const res = await settle(post(row.id, form({ intent: 'test', name: row.name, auth: 'keep', token: '' })))
    expect(res.body).toMatchObject({ ok: true, stored: true, check: { ok: true } })
    const saved = (await rowsOf(shopA)).find((r) => r.id === row.id)!
    expect(saved.lastCheck).toMatchObject({ ok: true, detail: expect.stringContaining('RTX 4090') })
    expect(await healthOf(`cfg-${row.id}`)).toMatchObject({ ok: true, consecutiveFailures: 0 })

    // Another URL typed but not saved: the result is shown, not stored on the row.
    const elsewhere = await settle(post(row.id, form({ intent: 'test', name: row.name, url: downUrl, auth: 'keep', token: '' })))
    expect(elsewhere.body).toMatchObject({ ok: true, stored: false, check: { ok: false } })
    expect((await rowsOf(shopA)).find((r) => r.id === row.id)!.lastCheck).toMatchObject({ ok: true })
  })

  it('keeps the check of a saved backend that has no credentials', async () => {
    current = shopA
    const row = await added(form({ auth: 'none', token: '' }))
    const res = await settle(post(row.id, form({ intent: 'test', name: row.name, auth: 'none', token: '' })))
    expect(res.body).toMatchObject({ ok: true, stored: true, check: { ok: true } })
    expect((await rowsOf(shopA)).find((r) => r.id === row.id)!.lastCheck).toMatchObject({ ok: true })
  })

  it('deletes a backend', async () => {
    current = shopA
    const row = await added(form())
    const res = await settle(post(row.id, { intent: 'delete' }))
    expect(res).toMatchObject({ status: 302, location: '/app/settings/backends' })
    expect((await rowsOf(shopA)).some((r) => r.id === row.id)).toBe(false)
  })

  it("answers 404 for another shop's backend and for the deployment's, whatever is asked", async () => {
    current = shopA
    const row = await added(form())
    const shared = await createBackendConfig(null, {
      type: 'comfyui',
      name: `shared-${randomUUID().slice(0, 8)}`,
      url: 'http://127.0.0.1:1',
      slots: 1,
      operations: ['scene_swap'],
      costPerSecond: 0,
      enabled: false,
      credentials: { action: 'clear' },
    } satisfies BackendConfigInput)
    deploymentRows.push(shared.id)

    current = shopB
    for (const id of [row.id, shared.id, 'not-a-uuid']) {
      expect(
        (await settle(loader({ request: new Request(`${BASE}/${id}`), params: { backendId: id }, context: {} }))).status,
      ).toBe(404)
      for (const intent of ['save', 'test', 'delete']) {
        expect((await settle(post(id, form({ intent, name: 'hijacked' })))).status, `${intent} ${id}`).toBe(404)
      }
    }
    const untouched = (await rowsOf(shopA)).find((r) => r.id === row.id)!
    expect(untouched.name).toBe(row.name)

    // Shop B's list shows the deployment's row (read-only) and none of shop A's.
    const list = await settle(listLoader({ request: new Request(BASE), params: {}, context: {} }))
    const body = list.body as { shop: { id: string }[]; deployment: { id: string }[] }
    expect(body.shop.map((b) => b.id)).not.toContain(row.id)
    expect(body.deployment.map((b) => b.id)).toContain(shared.id)
    current = shopA
  })
})
