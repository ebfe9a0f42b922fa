import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { translator } from '#app/lib/i18n.ts'
import { failureText } from '#app/components/RenderCard.tsx'
import { comfyuiPersonaSettingsSchema, comfyuiSceneSettingsSchema } from '#app/modules/backends/comfyui/look-settings.ts'
import { closePool } from '#app/modules/backends/pool.server.ts'
import { configBackendId, createBackendConfig } from '#app/modules/backends/rows.server.ts'
import { personas, scenes } from '#app/modules/looks/index.ts'
import { processRender } from '#app/modules/renders/jobs.server.ts'
import { createRenders } from '#app/modules/renders/service.server.ts'
import { startComfyFake, type ComfyFake } from '#test/fakes/comfyui/index.ts'
import { catalogImages, createLocalTenant, productSceneLook } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { readRender, releaseAll } from '#test/support/queue.ts'

// A shop's GPU URL that reaches some other server (a web page on that port):
// the render fails with the reason the connection test would give, stored
// with the row, and the studio says it in the merchant's language.

let prefix: string
let fake: ComfyFake

beforeAll(async () => {
  prefix = isolateQueue()
  const settings = scenes.map((s) => comfyuiSceneSettingsSchema.parse(s.backends.comfyui))
  fake = await startComfyFake({
    models: {
      checkpoints: [...new Set(settings.map((s) => s.checkpoint))],
      controlnet: [...new Set(settings.flatMap((s) => s.controlnet.map((c) => c.model)))],
      loras: personas.map((p) => comfyuiPersonaSettingsSchema.parse(p.backends.comfyui).lora),
    },
  })
})

afterAll(async () => {
  await closePool()
  await fake?.close()
  await releaseAll(prefix)
})

describe('a render on a server that is not its backend’s API', () => {
  it('fails with the reason in words and none of the raw answer, stored so the studio translates it', async () => {
    const tenant = await createLocalTenant()
    const config = await createBackendConfig(tenant.id, {
      type: 'comfyui',
      name: 'Studio GPU',
      url: fake.url,
      slots: 1,
      operations: ['scene_swap'],
      costPerSecond: 0.001,
      enabled: true,
      credentials: { action: 'clear' },
    })
    const [image] = await catalogImages(tenant)
    const [render] = await createRenders(tenant, {
      productId: image.productId,
      imageId: image.imageId,
      look: productSceneLook(),
      seeds: [7],
      operation: 'scene_swap',
    })
    fake.answerGarbage('html')
    await expect(processRender(render.id, { backendId: configBackendId(config.id), finalAttempt: true })).rejects.toMatchObject({
      code: 'BACKEND_FAILED',
      retryable: true,
    })

    const row = await readRender(render.id)
    expect(row).toMatchObject({ status: 'failed', errorCode: 'BACKEND_FAILED', errorReason: 'not_api' })
    expect(row.errorMessage).toContain(`ComfyUI at ${fake.url} answered /upload/image, but not as ComfyUI's API does`)
    expect(row.errorMessage).not.toMatch(/✖|Invalid input|expected \w+, received|<html|nginx/i)

    const view = { status: row.status, errorCode: row.errorCode, errorReason: row.errorReason, backendName: 'Studio GPU' }
    expect(failureText(view, translator('en'))).toBe(
      "Something answered, but it is not Studio GPU's API (a web page, another service, or the API is turned off). Check the URL and port, and that Studio GPU's API is enabled.",
    )
    expect(failureText(view, translator('zh-CN'))).toContain('它不是 Studio GPU 的 API')
    // A failure with no known reason keeps the code's own sentence.
    expect(failureText({ ...view, errorReason: null }, translator('en'))).toBe(translator('en')('errors.BACKEND_FAILED'))
  })
})
