import type { Worker } from 'bullmq'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { comfyuiPersonaSettingsSchema, comfyuiSceneSettingsSchema } from '#app/modules/backends/comfyui/look-settings.ts'
import { createBackendConfig } from '#app/modules/backends/rows.server.ts'
import { closePool } from '#app/modules/backends/pool.server.ts'
import { markets, personas, scenes } from '#app/modules/looks/index.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import { startRenderWorker } from '#app/modules/renders/jobs.server.ts'
import { createRenders } from '#app/modules/renders/service.server.ts'
import { refreshDispatchBackends } from '#app/modules/scheduler/dispatcher.server.ts'
import type { Tenant } from '#db/schema.ts'
import { startComfyFake, type ComfyFake } from '#test/fakes/comfyui/index.ts'
import { translator } from '#app/lib/i18n.ts'
import { catalogImages, createLocalTenant, insertRender } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { readRender, releaseAll, waitForRenderStatus } from '#test/support/queue.ts'

// A shop connects its own ComfyUI server in Settings → GPU backends; a model
// render is then made for that server, dispatched to it by the scheduler, run
// by the worker, protected and measured. Another shop cannot use the server.

let prefix: string
let worker: Worker | undefined
let fake: ComfyFake
let shop: Tenant
let other: Tenant

beforeAll(async () => {
  prefix = isolateQueue()
  fake = await startComfyFake({
    models: {
      checkpoints: [...new Set(scenes.map((s) => comfyuiSceneSettingsSchema.parse(s.backends.comfyui).checkpoint))],
      controlnet: [...new Set(scenes.flatMap((s) => comfyuiSceneSettingsSchema.parse(s.backends.comfyui).controlnet.map((c) => c.model)))],
      loras: personas.map((p) => comfyuiPersonaSettingsSchema.parse(p.backends.comfyui).lora),
    },
    stepMs: 2,
  })
  ;[shop, other] = [await createLocalTenant(), await createLocalTenant()]
  worker = startRenderWorker({ concurrency: 4, dispatchLoop: { tickMs: 500, healthEveryMs: 0 } })
  await worker.waitUntilReady()
})

afterAll(async () => {
  await releaseAll(prefix, [worker])
  await closePool()
  await fake?.close()
})

describe("a shop's own GPU backend", () => {
  it('renders the shop’s model shots end to end, and only the shop’s', async () => {
    const row = await createBackendConfig(shop.id, {
      type: 'comfyui',
      name: 'my-gpu',
      url: fake.url,
      slots: 1,
      operations: ['scene_swap', 'model_swap'],
      costPerSecond: 0.001,
      enabled: true,
      credentials: { action: 'clear' },
    })
    await refreshDispatchBackends(true)
    const [image] = await catalogImages(shop)
    const market = markets[0]
    const look = { personaId: personas[0].id, marketId: market.id, sceneId: market.defaultScenes[0] }

    // A model change keeps only what the merchant marked as the garment (the Keep layer, red).
    const original = await platformFor(shop).readImage(image.productId, image.imageId)
    const { width = 0, height = 0 } = await sharp(original).metadata()
    const keep = await sharp({ create: { width: Math.round(width / 2), height: Math.round(height / 2), channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer()
    const mask = await sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 } } })
      .composite([{ input: keep, left: Math.round(width / 4), top: Math.round(height / 4) }])
      .png()
      .toBuffer()
    const [render] = await createRenders(shop, { productId: image.productId, imageId: image.imageId, look, seeds: [7], mask })
    expect(render.backend).toBe(`cfg-${row.id}`)
    expect(render.operation).toBe('model_swap')
    const done = await waitForRenderStatus(render.id, ['succeeded', 'failed'], { timeoutMs: 60_000 })
    expect(done.errorMessage).toBeNull()
    expect(done.status).toBe('succeeded')
    expect((await readRender(render.id)).fidelityScore).not.toBeNull()
    // The prompt went to the shop's server.
    expect(fake.requests.some((r) => r.method === 'POST' && r.path.endsWith('/prompt'))).toBe(true)

    // Another shop has no GPU backend: a model shot is refused before anything is queued.
    const [theirs] = await catalogImages(other)
    await expect(createRenders(other, { productId: theirs.productId, imageId: theirs.imageId, look, seeds: [7] })).rejects.toMatchObject({
      code: 'BACKEND_NEEDS_GPU',
    })
  })

  it('a model change without a garment mask is refused with that reason, never as "could not find the product"', async () => {
    const row = await createBackendConfig(shop.id, {
      type: 'comfyui',
      name: 'mask-gpu',
      url: fake.url,
      slots: 1,
      operations: ['model_swap'],
      costPerSecond: 0,
      enabled: true,
      credentials: { action: 'clear' },
    })
    await refreshDispatchBackends(true)
    const [image] = await catalogImages(shop)
    const look = { personaId: personas[0].id, marketId: markets[0].id, sceneId: markets[0].defaultScenes[0] }
    // Up front, before any queue or GPU time.
    await expect(createRenders(shop, { productId: image.productId, imageId: image.imageId, look, seeds: [8] })).rejects.toMatchObject({
      code: 'GARMENT_MASK_REQUIRED',
    })
    // And a render that reaches the worker anyway (made before the check, or moved between backends) keeps the reason.
    const queued = await insertRender(shop, { backend: `cfg-${row.id}`, look, operation: 'model_swap' })
    const failed = await waitForRenderStatus(queued.id, ['failed', 'succeeded'], { timeoutMs: 30_000 })
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'GARMENT_MASK_REQUIRED' })
    expect(translator('en')(`errors.${failed.errorCode}`)).toMatch(/garment/)
    expect(translator('zh-CN')(`errors.${failed.errorCode}`)).toMatch(/服装/)
  })
})
