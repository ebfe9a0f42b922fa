import http from 'node:http'
import { slotsOf } from '#app/modules/backends/slots.ts'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { personas } from '#app/modules/looks/index.ts'
import {
  createBackendConfig,
  deleteBackendConfig,
  updateBackendConfig,
  type BackendConfigInput,
} from '#app/modules/backends/rows.server.ts'
import { studioPersonaAvailability } from '#app/modules/backends/availability.server.ts'
import { checkBackends, closeHealth } from '#app/modules/backends/health.server.ts'
import { allBackends, backendsFor, closePool, type PooledBackend } from '#app/modules/backends/pool.server.ts'
import { backendConfigs, type BackendConfig, type Tenant } from '#db/schema.ts'
import { startComfyFake } from '#test/fakes/comfyui/index.ts'
import { createLocalTenant } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll } from '#test/support/queue.ts'

let prefix: string
let shopA: Tenant
let shopB: Tenant
/** Rows this file made with no tenant (they do not cascade with the test shops). */
const deploymentRows: string[] = []

const TOKEN = `tok-${randomUUID()}`

function comfyInput(overrides: Partial<BackendConfigInput> = {}): BackendConfigInput {
  return {
    type: 'comfyui',
    name: `gpu-${randomUUID().slice(0, 8)}`,
    url: 'http://127.0.0.1:1',
    slots: 2,
    operations: ['scene_swap', 'model_swap'],
    costPerSecond: 0.002,
    enabled: true,
    credentials: { action: 'clear' },
    ...overrides,
  }
}

async function deploymentRow(input: BackendConfigInput): Promise<BackendConfig> {
  const row = await createBackendConfig(null, input)
  deploymentRows.push(row.id)
  return row
}

const ids = (backends: PooledBackend[]) => backends.map((b) => b.id)

beforeAll(async () => {
  prefix = isolateQueue()
  ;[shopA, shopB] = [await createLocalTenant(), await createLocalTenant()]
})

afterAll(async () => {
  await closePool()
  await closeHealth()
  for (const id of deploymentRows) await db().delete(backendConfigs).where(eq(backendConfigs.id, id))
  await releaseAll(prefix)
})

describe('the backend pool', () => {
  it("gives a shop the deployment's backends and its own, never another shop's", async () => {
    const shared = await deploymentRow(comfyInput({ operations: ['scene_swap'] }))
    const ownA = await createBackendConfig(shopA.id, comfyInput())
    const ownB = await createBackendConfig(shopB.id, comfyInput())
    try {
      const forA = await backendsFor(shopA.id)
      expect(ids(forA)).toContain(`cfg-${ownA.id}`)
      expect(ids(forA)).toContain(`cfg-${shared.id}`)
      expect(ids(forA)).not.toContain(`cfg-${ownB.id}`)
      // The shop's own first, then the deployment's rows, then the environment's (the CPU studio last).
      expect(ids(forA).indexOf(`cfg-${ownA.id}`)).toBeLessThan(ids(forA).indexOf(`cfg-${shared.id}`))
      expect(ids(forA).at(-1)).toBe('cpu-studio')

      const forB = await backendsFor(shopB.id)
      expect(ids(forB)).toContain(`cfg-${ownB.id}`)
      expect(ids(forB)).not.toContain(`cfg-${ownA.id}`)
      expect(ids(await backendsFor(null))).not.toContain(`cfg-${ownA.id}`)
      expect(ids(await backendsFor(null))).toContain(`cfg-${shared.id}`)

      const all = ids(await allBackends())
      expect(all).toEqual(expect.arrayContaining([`cfg-${ownA.id}`, `cfg-${ownB.id}`, `cfg-${shared.id}`, 'cpu-studio']))
    } finally {
      await deleteBackendConfig(shopA.id, ownA.id)
      await deleteBackendConfig(shopB.id, ownB.id)
      await db().delete(backendConfigs).where(eq(backendConfigs.id, shared.id))
    }
  })

  it("exposes the row's slots, cost and operations (what the row allows of what the server can do)", async () => {
    const row = await createBackendConfig(shopA.id, comfyInput({ slots: 5, costPerSecond: 0.01, operations: ['scene_swap'] }))
    const backend = (await backendsFor(shopA.id)).find((b) => b.configId === row.id)!
    expect(backend).toMatchObject({
      id: `cfg-${row.id}`,
      tenantId: shopA.id,
      name: row.name,
      type: 'comfyui',
      slots: 5,
      costPerSecond: 0.01,
    })
    expect(backend.operations).toEqual(['scene_swap'])
    expect(backend.capabilities()).toMatchObject({ type: 'comfyui', operations: ['scene_swap'], slots: 5 })
    // The adapter stays reachable for what only its type answers, but out of logs and JSON.
    expect(backend.adapter.capabilities().operations).toEqual(['scene_swap', 'model_swap'])
    expect(Object.keys(backend)).not.toContain('adapter')
    // why the scheduler's default: the CPU studio runs in every worker, so its slots are the workers' (WORKER_CONCURRENCY × 16).
    const cpu = (await backendsFor(shopA.id)).find((b) => b.id === 'cpu-studio')!
    expect(cpu).toMatchObject({ configId: null, tenantId: null, slots: slotsOf(cpu.adapter.capabilities()), costPerSecond: 0 })
    await expect(
      backend.render({ operation: 'model_swap' } as never, { onProgress: () => {}, signal: new AbortController().signal }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await deleteBackendConfig(shopA.id, row.id)
  })

  it('skips disabled rows', async () => {
    const row = await createBackendConfig(shopA.id, comfyInput({ enabled: false }))
    expect(ids(await backendsFor(shopA.id))).not.toContain(`cfg-${row.id}`)
    await deleteBackendConfig(shopA.id, row.id)
  })

  it('keeps one backend per row version: an edited row is rebuilt and the old one closed; a removed one is closed', async () => {
    const row = await createBackendConfig(shopA.id, comfyInput())
    const first = (await backendsFor(shopA.id)).find((b) => b.configId === row.id)!
    expect((await backendsFor(shopA.id)).find((b) => b.configId === row.id)).toBe(first)
    const firstClosed = vi.spyOn(first, 'close')

    await updateBackendConfig(shopA.id, row.id, comfyInput({ name: row.name, slots: 7, credentials: { action: 'keep' } }))
    const second = (await backendsFor(shopA.id)).find((b) => b.configId === row.id)!
    expect(second).not.toBe(first)
    expect(second.id).toBe(first.id)
    expect(second.slots).toBe(7)
    expect(firstClosed).toHaveBeenCalled()
    // A retired backend refuses new renders with a retryable error: the scheduler moves them on.
    await expect(
      first.render({ operation: 'scene_swap' } as never, { onProgress: () => {}, signal: new AbortController().signal }),
    ).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true })

    const secondClosed = vi.spyOn(second, 'close')
    await updateBackendConfig(shopA.id, row.id, comfyInput({ name: row.name, enabled: false, credentials: { action: 'keep' } }))
    expect(ids(await backendsFor(shopA.id))).not.toContain(`cfg-${row.id}`)
    expect(secondClosed).toHaveBeenCalled()

    await updateBackendConfig(shopA.id, row.id, comfyInput({ name: row.name, enabled: true, credentials: { action: 'keep' } }))
    const third = (await backendsFor(shopA.id)).find((b) => b.configId === row.id)!
    const thirdClosed = vi.spyOn(third, 'close')
    await deleteBackendConfig(shopA.id, row.id)
    expect(ids(await backendsFor(shopA.id))).not.toContain(`cfg-${row.id}`)
    expect(thirdClosed).toHaveBeenCalled()
  })

  it('stores credentials encrypted and decrypts them only to build the backend', async () => {
    // A ComfyUI stand-in that records the Authorization header of /system_stats.
    const seen: (string | undefined)[] = []
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization)
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(
        JSON.stringify({
          system: {
            os: 'posix',
            ram_total: 1,
            ram_free: 1,
            comfyui_version: '0.3.64',
            python_version: '3.12',
            pytorch_version: '2.8',
            embedded_python: false,
            argv: [],
          },
          devices: [
            {
              name: 'cuda:0 Test GPU',
              type: 'cuda',
              index: 0,
              vram_total: 2 ** 34,
              vram_free: 2 ** 33,
              torch_vram_total: 2 ** 34,
              torch_vram_free: 2 ** 33,
            },
          ],
        }),
      )
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const row = await createBackendConfig(
        shopA.id,
        comfyInput({ url, credentials: { action: 'set', credentials: { kind: 'bearer', token: TOKEN } } }),
      )
      const raw = await db().execute<{ credentials_enc: string }>(
        sql`select credentials_enc from backend_configs where id = ${row.id}`,
      )
      const stored = raw.rows[0].credentials_enc
      expect(stored).toMatch(/^enc:v1:/)
      expect(stored).not.toContain(TOKEN)
      expect(Buffer.from(stored.slice(7), 'base64url').toString('latin1')).not.toContain(TOKEN)

      const backend = (await backendsFor(shopA.id)).find((b) => b.configId === row.id)!
      expect(JSON.stringify(backend)).not.toContain(TOKEN)
      expect(await backend.health()).toMatchObject({ ok: true })
      expect(seen).toEqual([`Bearer ${TOKEN}`])
      await deleteBackendConfig(shopA.id, row.id)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('skips a row that cannot be built and keeps serving the others', async () => {
    const broken = await createBackendConfig(shopA.id, comfyInput())
    // Credentials nobody can decrypt (another key, or a hand-edited row).
    await db()
      .update(backendConfigs)
      .set({ credentialsEnc: 'enc:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', updatedAt: new Date() })
      .where(eq(backendConfigs.id, broken.id))
    const fine = await createBackendConfig(shopA.id, comfyInput())
    const list = ids(await backendsFor(shopA.id))
    expect(list).not.toContain(`cfg-${broken.id}`)
    expect(list).toContain(`cfg-${fine.id}`)
    await deleteBackendConfig(shopA.id, broken.id)
    await deleteBackendConfig(shopA.id, fine.id)
  })
})

describe("the studio's persona choices", () => {
  it('enables personas for the shop whose GPU backend can change models, and says why not elsewhere', async () => {
    const fake = await startComfyFake()
    const shared = await deploymentRow(comfyInput({ operations: ['scene_swap'] }))
    const own = await createBackendConfig(shopA.id, comfyInput({ url: fake.url }))
    try {
      const a = await studioPersonaAvailability(shopA.id)
      expect(a.any).toBe(true)
      expect(a.personas[personas[0].id]).toEqual({ available: true, reasonKey: null })
      const b = await studioPersonaAvailability(shopB.id)
      expect(b.any).toBe(false)
      expect(b.personas[personas[0].id]).toEqual({ available: false, reasonKey: 'backends.reason.personaOperationsOff' })
    } finally {
      await deleteBackendConfig(shopA.id, own.id)
      await db().delete(backendConfigs).where(eq(backendConfigs.id, shared.id))
      await fake.close()
    }
    expect((await studioPersonaAvailability(shopB.id)).personas[personas[0].id].reasonKey).toBe('backends.reason.personaNeedsGpu')
  })

  it('does not enable personas through a saved backend that does not answer, and names it', async () => {
    const fake = await startComfyFake()
    const own = await createBackendConfig(shopA.id, comfyInput({ name: 'studio-gpu', url: fake.url }))
    try {
      expect((await studioPersonaAvailability(shopA.id)).any).toBe(true)
      // The server dies; the next health check (the worker's, every 15 s) records it.
      await fake.close()
      await checkBackends({ timeoutMs: 2_000, only: (b) => b.id === `cfg-${own.id}` })
      const a = await studioPersonaAvailability(shopA.id)
      expect(a.any).toBe(false)
      expect(a.down).toEqual(['studio-gpu'])
      expect(a.personas[personas[0].id]).toEqual({
        available: false,
        reasonKey: 'backends.reason.personaBackendDown',
        reasonVars: { backends: 'studio-gpu' },
      })
    } finally {
      await deleteBackendConfig(shopA.id, own.id)
    }
  })

  it('checks a saved backend nobody has checked yet before enabling personas through it', async () => {
    const own = await createBackendConfig(shopA.id, comfyInput({ name: 'never-answers' }))
    try {
      const a = await studioPersonaAvailability(shopA.id)
      expect(a.any).toBe(false)
      expect(a.personas[personas[0].id].reasonVars).toEqual({ backends: 'never-answers' })
    } finally {
      await deleteBackendConfig(shopA.id, own.id)
    }
  })
})
