import { createServer, type Server } from 'node:net'
import type { Worker } from 'bullmq'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { createComfyuiBackend } from '#app/modules/backends/comfyui/adapter.server.ts'
import { comfyuiPersonaSettingsSchema, comfyuiSceneSettingsSchema } from '#app/modules/backends/comfyui/look-settings.ts'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import type { Backend } from '#app/modules/backends/types.ts'
import { markets, personas, scenes } from '#app/modules/looks/index.ts'
import { startRenderWorker } from '#app/modules/renders/jobs.server.ts'
import { readMerchantMask, storeMerchantMask } from '#app/modules/renders/mask.server.ts'
import { progressLine } from '#app/components/RenderCard.tsx'
import { translator } from '#app/lib/i18n.ts'
import { cancelRender, progressOf } from '#app/modules/renders/service.server.ts'
import { localTenant } from '#app/modules/tenants/service.server.ts'
import { loader as studioLoader } from '#app/routes/app.products.$productId.tsx'
import { configureScheduler, scheduler } from '#app/modules/scheduler/dispatcher.server.ts'
import type { Render, Tenant } from '#db/schema.ts'
import { startComfyFake, type ComfyFake } from '#test/fakes/comfyui/index.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { catalogImages, createLocalTenant, insertRender, sampleProductPng } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { readRender, releaseAll, sleep, waitFor, waitForRenderStatus } from '#test/support/queue.ts'

// Nothing waits forever: a render whose GPU server dies or hangs, whether it
// is queued, between attempts, or running, either moves to a backend that
// answers or waits at most RENDER_WAIT_TIMEOUT, visibly ("waiting for <backend>
// — not answering since <time>"), and then fails with BACKEND_UNAVAILABLE.
// Real PostgreSQL, Redis, worker and ComfyUI fake; the fake is killed or hung.

const WAIT_MS = 3_000
// why a long cooldown: no half-open probe muddies "never dispatched"; health checks alone feed the circuit.
const CIRCUIT = { threshold: 2, cooldownMs: 60_000 }
const saved = {
  RENDER_ATTEMPTS: process.env.RENDER_ATTEMPTS,
  RENDER_BACKOFF_MS: process.env.RENDER_BACKOFF_MS,
  RENDER_WAIT_TIMEOUT: process.env.RENDER_WAIT_TIMEOUT,
}

let prefix: string
let worker: Worker | undefined
let tenant: Tenant
let maskKey: string
const fakes: ComfyFake[] = []
const persona = personas[0]
const market = markets[0]
const look = { personaId: persona.id, marketId: market.id, sceneId: market.defaultScenes[0] }

async function comfyFake(stepMs = 2): Promise<ComfyFake> {
  const fake = await startComfyFake({
    models: {
      checkpoints: [...new Set(scenes.map((s) => comfyuiSceneSettingsSchema.parse(s.backends.comfyui).checkpoint))],
      controlnet: [...new Set(scenes.flatMap((s) => comfyuiSceneSettingsSchema.parse(s.backends.comfyui).controlnet.map((c) => c.model)))],
      loras: personas.map((p) => comfyuiPersonaSettingsSchema.parse(p.backends.comfyui).lora),
    },
    stepMs,
  })
  fakes.push(fake)
  return fake
}

const holders: Server[] = []

/**
 * Kills the fake as a crashed server dies: its port keeps refusing. why hold
 * the port: under load another test file's fake can take a freed port, and a
 * render would then reach a different ComfyUI that does not know its models.
 */
async function kill(fake: ComfyFake): Promise<void> {
  const port = Number(new URL(fake.url).port)
  await fake.close()
  const holder = createServer((socket) => socket.destroy())
  await new Promise<void>((resolve, reject) => holder.once('error', reject).listen(port, '127.0.0.1', resolve))
  holders.push(holder)
}

/** A ComfyUI backend on the fake; why long client timeouts by default: only the liveness mechanism may end a hung render. */
function comfyBackend(id: string, fake: ComfyFake, client: { stallTimeoutMs?: number } = {}): Backend {
  const backend = createComfyuiBackend({
    id,
    url: fake.url,
    client: { requestTimeoutMs: 120_000, stallTimeoutMs: 120_000, pollIntervalMs: 100, connectWaitMs: 200, reconnectMinMs: 50, reconnectMaxMs: 200, ...client },
  })
  registerBackend(backend)
  return backend
}

/** A model change on `backend` with the merchant's garment mask (what a GPU model change needs). */
function modelRender(backend: string): Promise<Render> {
  return insertRender(tenant, { backend, look, operation: 'model_swap', maskKey })
}

async function circuitOf(backendId: string) {
  const d = await scheduler()
  return (await d.store.backendStates([backendId], Date.now(), CIRCUIT))[backendId]
}

beforeAll(async () => {
  Object.assign(process.env, { RENDER_ATTEMPTS: '20', RENDER_BACKOFF_MS: '50', RENDER_WAIT_TIMEOUT: String(WAIT_MS) })
  resetEnvCache()
  prefix = isolateQueue()
  configureScheduler({ circuit: CIRCUIT })
  tenant = await createLocalTenant()
  const source = await sampleProductPng()
  const keep = await sharp({ create: { width: 120, height: 160, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer()
  const maskPng = await sharp({ create: { width: 200, height: 240, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .composite([{ input: keep, left: 40, top: 40 }])
    .png()
    .toBuffer()
  const { width = 0, height = 0 } = await sharp(source).metadata()
  maskKey = await storeMerchantMask(await readMerchantMask(maskPng, { width, height }, { requireKeep: true }))
  worker = startRenderWorker({ concurrency: 4, dispatchLoop: { tickMs: 100, healthEveryMs: 200, healthTimeoutMs: 300 } })
  await worker.waitUntilReady()
})

afterAll(async () => {
  await releaseAll(prefix, [worker])
  configureScheduler(undefined)
  for (const fake of fakes) await fake.close().catch(() => {})
  for (const holder of holders) await new Promise((resolve) => holder.close(resolve))
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  resetEnvCache()
})

/** Waits while the render waits, checking the studio's account of it, then returns the failed row. */
async function expectVisibleWaitThenUnavailable(render: Render, backendId: string) {
  const shown = await waitFor('the studio to show the wait', async () => {
    const row = await readRender(render.id)
    if (row.status === 'failed' || row.status === 'succeeded') throw new Error(`the render ended (${row.status}) before its wait was shown`)
    return (await progressOf(tenant.id, [row]))[render.id]?.waitingFor ?? undefined
  })
  const down = await circuitOf(backendId)
  expect(shown.backend).toBe(backendId)
  expect(Date.parse(shown.since)).toBe(down.downSince)
  expect(Date.parse(shown.until)).toBeGreaterThan(Date.now())
  // why: an ETA for a render nobody can run would be a lie.
  expect((await progressOf(tenant.id, [await readRender(render.id)]))[render.id]?.etaSeconds).toBeNull()

  const failed = await waitForRenderStatus(render.id, ['failed', 'succeeded'], { timeoutMs: 15_000 })
  expect(failed.status).toBe('failed')
  expect(failed.errorCode).toBe('BACKEND_UNAVAILABLE')
  expect(failed.errorMessage).toContain(backendId)
  expect(failed.errorMessage).toContain('Test connection')
  // Bounded by the wait: gave up RENDER_WAIT_TIMEOUT after the backend went down (plus, for a hung
  // server, the client's 3 s budget to cancel the prompt there, the test's polling, and a second
  // or two of lag on two cores busy with the rest of the suite).
  expect(failed.finishedAt!.getTime() - Math.max(down.downSince!, render.queuedAt.getTime())).toBeLessThan(WAIT_MS + 6_500)
  expect(await (await scheduler()).store.item(render.id)).toBeUndefined()
  return failed
}

describe('a dead or hung GPU backend', () => {
  it('a render queued while its only backend is down waits visibly, is never dispatched, and fails as unavailable', async () => {
    const fake = await comfyFake()
    comfyBackend('live-queued', fake)
    await kill(fake)
    await waitFor('the circuit to open on failed health checks', async () => ((await circuitOf('live-queued')).circuit === 'open' ? true : undefined))
    const render = await modelRender('live-queued')
    const failed = await expectVisibleWaitThenUnavailable(render, 'live-queued')
    expect(failed.attempts).toBe(0)
  })

  it('a render between attempts (its server killed mid-run) waits visibly, then fails as unavailable', async () => {
    const fake = await comfyFake(100)
    // why a short stall limit: the client gives up on a server that stopped answering, as it does in production (later).
    comfyBackend('live-killed', fake, { stallTimeoutMs: 800 })
    const render = await modelRender('live-killed')
    await waitFor('the render to run on the server', async () => ((await readRender(render.id)).status === 'running' ? true : undefined))
    await sleep(200)
    await kill(fake)
    await waitFor('the render to be retrying', async () => ((await readRender(render.id)).status === 'retrying' ? true : undefined))
    const failed = await expectVisibleWaitThenUnavailable(render, 'live-killed')
    expect(failed.attempts).toBeLessThan(20)
  })

  it('a render running on a server that hangs (accepts, never answers) is stopped and fails as unavailable', async () => {
    const fake = await comfyFake(400)
    comfyBackend('live-hung', fake)
    const render = await modelRender('live-hung')
    await waitFor('the render to run on the server', async () => ((await readRender(render.id)).status === 'running' ? true : undefined))
    await sleep(300)
    fake.stallSockets(true)
    fake.configure({ httpLatencyMs: 600_000 })
    const failed = await expectVisibleWaitThenUnavailable(render, 'live-hung')
    expect(failed.attempts).toBeGreaterThanOrEqual(1)
  }, 30_000)

  it('the studio page says which backend a render waits for, since when, and gives no ETA', async () => {
    const fake = await comfyFake()
    comfyBackend('live-studio', fake)
    await kill(fake)
    await waitFor('the circuit to open on failed health checks', async () => ((await circuitOf('live-studio')).circuit === 'open' ? true : undefined))
    const local = await localTenant()
    const [image] = await catalogImages(local)
    const render = await insertRender(local, { backend: 'live-studio', look, operation: 'model_swap', maskKey, productRef: image.productId })
    try {
      const page = await studioLoader({ request: new Request(`http://localhost/app/products/${image.productId}`), params: { productId: image.productId }, context: {} })
      const card = page.renders.find((r) => r.id === render.id)!
      expect(card.waitingFor?.backend).toBe('live-studio')
      expect(Date.parse(card.waitingFor!.since)).toBe((await circuitOf('live-studio')).downSince)
      expect(card.etaSeconds).toBeNull()
      expect(progressLine(card, translator('en'), 'en')).toMatch(/^Waiting for live-studio: not answering since .+\. Gives up at .+ unless it answers\.$/)
      expect(progressLine(card, translator('zh-CN'), 'zh-CN')).toMatch(/^正在等待 live-studio：自 .+ 起无响应/)
    } finally {
      // why tolerated: the render may have reached its end of wait (failed) meanwhile.
      await cancelRender(local.id, render.id).catch(() => undefined)
    }
  })

  it('fails over to a capable backend of another type when the only one of its type is down', async () => {
    const fake = await comfyFake()
    comfyBackend('live-failover', fake)
    await kill(fake)
    await waitFor('the backend to be known down', async () => ((await circuitOf('live-failover')).downSince !== undefined ? true : undefined))
    // A hosted model service (another type) that answers: the render moves there.
    const inner = createZeroLatencyBackend({ id: 'live-hosted', claimsProtected: true })
    const capabilities = { ...inner.capabilities(), type: 'weshop' as const, slots: 2 }
    const calls: string[] = []
    registerBackend({
      ...inner,
      capabilities: () => capabilities,
      async render(request, controls) {
        calls.push(request.renderId)
        if (!request.persona) throw new AppError('INVALID_INPUT', 'a model change needs its persona')
        return inner.render(request, controls)
      },
    })
    const render = await modelRender('live-failover')
    const done = await waitForRenderStatus(render.id, ['succeeded', 'failed'], { timeoutMs: 15_000 })
    expect(done).toMatchObject({ status: 'succeeded', backend: 'live-hosted', errorCode: null })
    expect(calls).toEqual([render.id])
  })
})
