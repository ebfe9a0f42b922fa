import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { backendConfigs, type Tenant } from '#db/schema.ts'
import { startComfyFake, type ComfyFake } from '#test/fakes/comfyui/index.ts'
import { createLocalTenant } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll } from '#test/support/queue.ts'
import { createComfyuiBackend } from './comfyui/adapter.server.ts'
import { createBackendConfig, type BackendConfigInput } from './rows.server.ts'
import { checkBackend, checkBackends, closeHealth, healthOf, onBackendHealth, recordHealth, startHealthChecks } from './health.server.ts'
import { closePool } from './pool.server.ts'
import type { Backend } from './types.ts'

let prefix: string
let shop: Tenant
let up: ComfyFake
/** A port nothing listens on: a ComfyUI that is down. */
let downUrl: string

function comfyRow(url: string): BackendConfigInput {
  return {
    type: 'comfyui',
    name: `gpu-${randomUUID().slice(0, 8)}`,
    url,
    slots: 1,
    operations: ['scene_swap', 'model_swap'],
    costPerSecond: 0,
    enabled: true,
    credentials: { action: 'clear' },
  }
}

beforeAll(async () => {
  prefix = isolateQueue()
  shop = await createLocalTenant()
  up = await startComfyFake()
  const down = await startComfyFake()
  downUrl = down.url
  await down.close()
})

afterAll(async () => {
  await up?.close()
  await closePool()
  await closeHealth()
  await releaseAll(prefix)
})

describe('checking one backend', () => {
  it('reports a ComfyUI that is up: its GPU, how fast it answered, the models it uses', async () => {
    const backend = createComfyuiBackend({ url: up.url })
    const check = await checkBackend(backend)
    await backend.close()
    expect(check.ok).toBe(true)
    expect(check.detail).toMatch(/RTX 4090.*VRAM free/)
    expect(check.latencyMs).toBeGreaterThanOrEqual(0)
    expect(check.models?.length).toBeGreaterThan(0)
    expect(Date.parse(check.checkedAt)).toBeGreaterThan(Date.now() - 60_000)
  })

  it('reports a ComfyUI that is down, in words', async () => {
    const backend = createComfyuiBackend({ url: downUrl })
    const check = await checkBackend(backend)
    await backend.close()
    expect(check).toMatchObject({ ok: false, detail: expect.stringMatching(/unreachable/) })
    expect(check.models).toBeUndefined()
  })

  it('gives up on a backend that does not answer in time, and on one whose check throws', async () => {
    const silent: Backend = {
      id: 'silent',
      capabilities: () => ({ type: 'comfyui', operations: [], personas: false, maxEdge: 1024, models: [] }),
      render: () => Promise.reject(new Error('unused')),
      health: () => new Promise(() => {}),
    }
    expect(await checkBackend(silent, 50)).toMatchObject({ ok: false, detail: 'No answer within 50 ms' })
    const crashing: Backend = { ...silent, health: () => Promise.reject(new Error('socket hang up')) }
    expect(await checkBackend(crashing, 1000)).toMatchObject({ ok: false, detail: expect.stringContaining('socket hang up') })
  })
})

describe('the published health status', () => {
  it('counts failures in a row and resets on an ok check', async () => {
    const id = `test-${randomUUID()}`
    expect(await healthOf(id)).toBeNull()
    expect(await recordHealth(id, false, 'refused')).toMatchObject({ ok: false, consecutiveFailures: 1, detail: 'refused' })
    expect(await recordHealth(id, false, 'refused again')).toMatchObject({
      ok: false,
      consecutiveFailures: 2,
      detail: 'refused again',
    })
    expect(await healthOf(id)).toMatchObject({ ok: false, consecutiveFailures: 2 })
    const ok = await recordHealth(id, true)
    expect(ok).toMatchObject({ ok: true, consecutiveFailures: 0, detail: null })
    expect(await healthOf(id)).toEqual(ok)
  })
})

describe('checking every configured backend', () => {
  it('saves each row its last check and publishes every status', async () => {
    const good = await createBackendConfig(shop.id, comfyRow(up.url))
    const bad = await createBackendConfig(shop.id, comfyRow(downUrl))
    const results = await checkBackends({ timeoutMs: 5000 })
    const byId = new Map(results.map((r) => [r.backendId, r]))
    expect(byId.get(`cfg-${good.id}`)?.check.ok).toBe(true)
    expect(byId.get(`cfg-${bad.id}`)?.check.ok).toBe(false)
    expect(byId.get('cpu-studio')?.check.ok).toBe(true)

    const rows = await db().select().from(backendConfigs).where(eq(backendConfigs.tenantId, shop.id))
    const row = (id: string) => rows.find((r) => r.id === id)!
    expect(row(good.id).lastCheck).toMatchObject({ ok: true, detail: expect.stringContaining('RTX 4090') })
    expect(row(bad.id).lastCheck).toMatchObject({ ok: false, detail: expect.stringMatching(/unreachable/) })
    // why: saving a check must not look like an edit (the pool would rebuild the backend).
    expect(row(good.id).updatedAt).toEqual(good.updatedAt)

    expect(await healthOf(`cfg-${good.id}`)).toMatchObject({ ok: true, consecutiveFailures: 0 })
    expect(await healthOf(`cfg-${bad.id}`)).toMatchObject({ ok: false, consecutiveFailures: 1 })
    await checkBackends({ timeoutMs: 5000 })
    expect(await healthOf(`cfg-${bad.id}`)).toMatchObject({ ok: false, consecutiveFailures: 2 })
  })

  it('tells the registered listener (the circuit breaker) each remote backend\'s result, not the CPU studio\'s', async () => {
    const bad = await createBackendConfig(shop.id, comfyRow(downUrl))
    const heard: [string, boolean][] = []
    onBackendHealth((backendId, ok) => void heard.push([backendId, ok]))
    try {
      await checkBackends({ timeoutMs: 5000 })
    } finally {
      onBackendHealth(undefined)
    }
    expect(heard).toContainEqual([`cfg-${bad.id}`, false])
    expect(heard.map(([id]) => id)).not.toContain('cpu-studio')
  })

  it('runs periodically until stopped', async () => {
    const row = await createBackendConfig(shop.id, comfyRow(up.url))
    const runner = startHealthChecks(50, { timeoutMs: 5000 })
    const deadline = Date.now() + 10_000
    let seen = 0
    while (Date.now() < deadline && seen < 3) {
      const before = up.requests.filter((r) => r.path === '/system_stats').length
      await new Promise((r) => setTimeout(r, 60))
      if (up.requests.filter((r) => r.path === '/system_stats').length > before) seen++
    }
    await runner.stop()
    expect(seen).toBeGreaterThanOrEqual(3)
    const stopped = up.requests.length
    await new Promise((r) => setTimeout(r, 200))
    expect(up.requests.length).toBe(stopped)
    expect(await healthOf(`cfg-${row.id}`)).toMatchObject({ ok: true })
  })
})
