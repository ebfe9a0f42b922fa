import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { AppError } from '#app/lib/errors.ts'
import { measureFidelity } from '#app/modules/imaging/fidelity.server.ts'
import { markets } from '#app/modules/looks/markets.ts'
import { personas } from '#app/modules/looks/personas.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import type { Scene } from '#app/modules/looks/schema.ts'
import { variationPrompt } from '#app/modules/looks/variation.ts'
import { productShot } from '#test/fixtures/product-images.ts'
import { startComfyFake, type ComfyFake } from '#test/fakes/comfyui/index.ts'
import type { RenderRequest, SourceImage } from '../types.ts'
import { recordingControls } from '#test/support/render-controls.ts'
import { expectNotApi, garbageKinds } from '#test/support/not-api.ts'
import { planFrame } from '../frame.server.ts'
import { comfyuiBackendId, createComfyuiBackend, type ComfyuiBackend } from './adapter.server.ts'
import { comfyuiSceneSettingsSchema, comfyuiPersonaSettingsSchema } from './look-settings.ts'

/** The model files Atelier's looks name, installed on the fake GPU server. */
const atelierModels = {
  checkpoints: [...new Set(scenes.map((s) => comfyuiSceneSettingsSchema.parse(s.backends.comfyui).checkpoint))],
  controlnet: [
    ...new Set(scenes.flatMap((s) => comfyuiSceneSettingsSchema.parse(s.backends.comfyui).controlnet.map((c) => c.model))),
  ],
  loras: personas.map((p) => comfyuiPersonaSettingsSchema.parse(p.backends.comfyui).lora),
}
const beach = scenes.find((s) => s.id === 'beach')!

let fake: ComfyFake
let backend: ComfyuiBackend
afterEach(async () => {
  await backend?.close()
  await fake?.close()
})

async function start(options: Parameters<typeof startComfyFake>[0] = {}) {
  fake = await startComfyFake({ models: atelierModels, ...options })
  backend = createComfyuiBackend({
    url: fake.url,
    client: { pollIntervalMs: 40, historyGraceMs: 3000, connectWaitMs: 1000, reconnectMinMs: 20, reconnectMaxMs: 200 },
  })
}

async function shot(width: number, height: number) {
  const { pixels, truth } = productShot({ width, height, backdrop: 'white', seed: 5 })
  const source: SourceImage = { pixels, width, height, hasAlpha: false, sha256: 'test' }
  const mask = await sharp(Buffer.from(truth), { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer()
  return { source, mask }
}

function request(source: SourceImage, overrides: Partial<RenderRequest> = {}): RenderRequest {
  return {
    renderId: `render-${Math.random().toString(36).slice(2, 8)}`,
    operation: 'scene_swap',
    source,
    persona: null,
    market: markets[0],
    scene: beach,
    seed: 42,
    output: { width: source.width, height: source.height },
    ...overrides,
  }
}

const controls = (signal?: AbortSignal) => recordingControls(() => fake.requests.length, signal)

/** POST /prompt bodies as the fake received them. */
interface PostedPrompt {
  prompt_id: string
  client_id: string
  prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }>
}

const uploads = () => fake.requests.filter((r) => r.method === 'POST' && r.path === '/upload/image')
const prompts = () => fake.requests.filter((r) => r.method === 'POST' && r.path === '/prompt').map((r) => r.json as PostedPrompt)

describe('ComfyUI backend', () => {
  it('renders a scene swap end to end: unique uploads, our prompt id, progress, the product untouched', async () => {
    await start({ previews: true })
    const { source, mask } = await shot(512, 512)
    const { progress, framed, controls: c } = controls()
    const req = request(source, { mask })
    const result = await backend.render(req, c)

    // The framing was announced once, before anything reached the server, and is the result's (the worker prepares post-processing from it meanwhile).
    expect(framed).toHaveLength(1)
    expect(framed[0].requestsBefore).toBe(0)
    expect(framed[0].framing).toEqual({ sourceMask: result.sourceMask, placement: result.placement, width: result.width, height: result.height })

    // Uploads: two files under unique names (render id + prompt id), never overwriting.
    const sent = uploads()
    expect(sent).toHaveLength(2)
    for (const upload of sent) expect(upload.form!.fields).toEqual({ subfolder: 'atelier', type: 'input', overwrite: 'false' })
    const names = sent.map((u) => u.form!.files[0].filename)
    expect(new Set(names).size).toBe(2)
    const promptId = result.meta!.promptId as string
    expect(promptId).toMatch(/^[0-9a-f-]{36}$/)
    for (const name of names) expect(name).toContain(`${req.renderId}-${promptId}`)

    // The prompt: our id, the process's client id, the slots filled from the scene and the request.
    const [posted] = prompts()
    expect(posted.prompt_id).toBe(promptId)
    expect(posted.client_id).toBe(backend.client.clientId)
    const settings = comfyuiSceneSettingsSchema.parse(beach.backends.comfyui)
    expect(posted.prompt['4'].inputs.image).toBe(`atelier/${names[0]}`)
    expect(posted.prompt['5'].inputs.image).toBe(`atelier/${names[1]}`)
    expect(posted.prompt['2'].inputs.text).toBe(settings.prompt)
    expect(posted.prompt['1'].inputs.ckpt_name).toBe(settings.checkpoint)
    expect(posted.prompt['7'].inputs).toMatchObject({
      seed: 42,
      steps: settings.steps,
      denoise: settings.denoise,
      sampler_name: settings.sampler,
    })
    expect(posted.prompt['9'].inputs.filename_prefix).toBe(`atelier/${req.renderId}`)

    // Progress: rising, with the sampler's steps, to 100.
    const percents = progress.map(([p]) => p)
    expect(percents).toEqual([...percents].sort((a, b) => a - b))
    expect(progress.some(([, m]) => m === `ComfyUI: step ${settings.steps} of ${settings.steps}`)).toBe(true)
    expect(progress.at(-1)).toEqual([100, 'done'])

    // The result: output size, the source frame kept (placement 1:1), the product's pixels as they were.
    expect(result).toMatchObject({
      width: 512,
      height: 512,
      contentType: 'image/jpeg',
      workflow: 'scene_swap@1',
      protected: false,
    })
    expect(result.placement).toEqual({ crop: { left: 0, top: 0, width: 512, height: 512 }, scale: 1, x: 0, y: 0 })
    // Pixels only: the worker's post-processing encodes the image it stores, once protected.
    expect(result.image).toBeUndefined()
    const pixels = result.pixels!
    expect([pixels.width, pixels.height, pixels.channels]).toEqual([512, 512, 3])
    expect([result.sourceMask.width, result.resultMask!.width]).toEqual([512, 512])
    let kept = 0
    let changedInside = 0
    let repainted = 0
    for (let p = 0; p < 512 * 512; p++) {
      const same = [0, 1, 2].every((c) => pixels.data[p * 3 + c] === source.pixels.data[p * 3 + c])
      if (result.sourceMask.data[p] === 255) {
        kept++
        if (!same) changedInside++
      } else if (result.sourceMask.data[p] === 0 && !same) repainted++
    }
    expect(kept).toBeGreaterThan(20_000)
    expect(changedInside).toBe(0)
    expect(repainted).toBeGreaterThan(100_000)

    // A second render of the same request: new names, new prompt id, nothing overwritten.
    const again = await backend.render(req, controls().controls)
    expect(again.meta!.promptId).not.toBe(promptId)
    const allNames = uploads().map((u) => u.form!.files[0].filename)
    expect(new Set(allNames).size).toBe(4)
    expect(fake.inputs.size).toBe(4)
  })

  it('keeps the source frame on another aspect ratio: exact placement, the bands repainted, the work frame in multiples of 8', async () => {
    await start()
    const { source, mask } = await shot(400, 500)
    const output = { width: 1080, height: 1350 }
    const result = await backend.render(request(source, { mask, output }), controls().controls)
    const plan = planFrame(source, output, 1024)
    expect(plan.work).toEqual({ width: 816, height: 1024 })
    expect(result.placement).toEqual({ crop: { left: 0, top: 0, width: 400, height: 500 }, scale: 2.7, x: 0, y: 0 })
    expect(result.meta!.work).toEqual(plan.work)
    const [posted] = prompts()
    const sent = fake.inputs.get(String(posted.prompt['4'].inputs.image))!
    expect(await sharp(sent).metadata()).toMatchObject({ width: 816, height: 1024 })
    expect([result.width, result.height]).toEqual([1080, 1350])
    // The worker measures the unprotected result through the placement: it must line up.
    const fidelity = await measureFidelity({
      source,
      sourceMask: result.sourceMask,
      result: result.pixels!,
      placement: result.placement,
    })
    expect(fidelity.score).toBeGreaterThan(90)
  })

  it('letterboxes a square photo in a portrait frame and says exactly where it went', async () => {
    await start()
    const { source, mask } = await shot(512, 512)
    const output = { width: 768, height: 1024 }
    const result = await backend.render(request(source, { mask, output }), controls().controls)
    expect(result.placement).toEqual({ crop: { left: 0, top: 0, width: 512, height: 512 }, scale: 1.5, x: 0, y: 128 })
    const fidelity = await measureFidelity({
      source,
      sourceMask: result.sourceMask,
      result: result.pixels!,
      placement: result.placement,
    })
    expect(fidelity.score).toBeGreaterThan(90)
    // The keep mask in the result frame is empty in the bands.
    const band = result.resultMask!.data.subarray(0, 768 * 128)
    expect(band.every((v) => v === 0)).toBe(true)
  })

  it('swaps the model with the persona’s LoRA and prompt, keeping only the merchant’s garment mask', async () => {
    await start()
    const { source, mask } = await shot(512, 512)
    const persona = personas.find((p) => p.id === 'amara')!
    const noMask = backend.render(request(source, { operation: 'model_swap', persona }), controls().controls)
    await expect(noMask).rejects.toMatchObject({ code: 'GARMENT_MASK_REQUIRED' })
    const result = await backend.render(request(source, { operation: 'model_swap', persona, mask }), controls().controls)
    expect(result.workflow).toBe('model_swap@1')
    const [posted] = prompts()
    const settings = comfyuiPersonaSettingsSchema.parse(persona.backends.comfyui)
    expect(posted.prompt['2'].inputs).toMatchObject({
      lora_name: settings.lora,
      strength_model: settings.loraStrength,
      strength_clip: settings.loraStrength,
    })
    expect(posted.prompt['3'].inputs.text).toContain(settings.promptFragment)
    expect(posted.prompt['8'].inputs.control_net_name).toBe('controlnet-canny-sdxl-1.0.safetensors')
    expect(result.resultMask).toBeDefined()
  })

  it('asks for a variant’s light in the prompt and keeps the photo’s framing', async () => {
    await start()
    const { source, mask } = await shot(512, 512)
    const variation = { light: 'left' as const, framing: { position: 'right' as const, size: 'wide' as const } }
    const result = await backend.render(request(source, { mask, variation }), controls().controls)
    const [posted] = prompts()
    const settings = comfyuiSceneSettingsSchema.parse(beach.backends.comfyui)
    expect(posted.prompt['2'].inputs.text).toBe(`${settings.prompt}, ${variationPrompt({ light: 'left' })}`)
    expect(result.variation).toEqual({ light: 'left' })
    expect(result.placement).toEqual(planFrame(source, result, 1024).placement)
  })

  it('fails clearly, without retrying, when the server lacks the scene’s checkpoint', async () => {
    await start({ models: { ...atelierModels, checkpoints: ['other.safetensors'] } })
    const { source, mask } = await shot(256, 256)
    const error = await backend.render(request(source, { mask }), controls().controls).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AppError)
    expect(error).toMatchObject({ code: 'BACKEND_FAILED', retryable: false })
    expect((error as AppError).message).toContain('node 1 (CheckpointLoaderSimple) input "ckpt_name": Value not in list')
  })

  it('refuses what its templates cannot do, and looks without ComfyUI settings', async () => {
    await start()
    const { source, mask } = await shot(256, 256)
    await expect(backend.render(request(source, { operation: 'tryon' }), controls().controls)).rejects.toMatchObject({
      code: 'BACKEND_NEEDS_GPU',
    })
    const bare: Scene = { ...beach, backends: { 'cpu-studio': beach.backends['cpu-studio'] } }
    await expect(backend.render(request(source, { mask, scene: bare }), controls().controls)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('Scene "beach" has no usable ComfyUI settings'),
    })
    expect(prompts()).toHaveLength(0)
  })

  it('cancels through the render signal with the prompt’s own id', async () => {
    await start({ stepMs: 40 })
    const { source, mask } = await shot(256, 256)
    const abort = new AbortController()
    const c = {
      signal: abort.signal,
      onProgress: (_p: number, message: string) => {
        if (message.startsWith('ComfyUI: step 2')) abort.abort()
      },
    }
    const error = await backend.render(request(source, { mask }), c).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'RENDER_CANCELED' })
    const [posted] = prompts()
    const interrupt = fake.requests.find((r) => r.path === '/interrupt')!
    expect(interrupt.json).toEqual({ prompt_id: posted.prompt_id })
  })

  it('reports health from /system_stats', async () => {
    await start({ vram: { total: 24 * 1024 ** 3, free: 6 * 1024 ** 3 } })
    const health = await backend.health()
    expect(health).toEqual({
      ok: true,
      detail: 'cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync: 6.0 of 24.0 GiB VRAM free, ComfyUI 0.3.64',
    })
    await fake.close()
    const down = await backend.health()
    expect(down.ok).toBe(false)
    expect(down.detail).toContain('unreachable')
  })

  it('offers its templates’ operations and personas', async () => {
    await start()
    expect(backend.capabilities()).toMatchObject({
      type: 'comfyui',
      operations: ['scene_swap', 'model_swap'],
      personas: true,
      models: atelierModels.checkpoints,
    })
    expect(backend.id).toBe(comfyuiBackendId(fake.url))
    expect(comfyuiBackendId('http://GPU-1.local:8188/')).toBe('comfyui-gpu-1-local-8188')
    expect(comfyuiBackendId('https://comfy.example.com/proxy/a')).toBe('comfyui-comfy-example-com-443-proxy-a')
  })
})

describe('ComfyUI backend, a server that is not ComfyUI', () => {
  it.each(garbageKinds)('says so in words, with what to check, when it answers %s', async (kind) => {
    await start()
    const { source, mask } = await shot(256, 256)
    fake.answerGarbage(kind)
    const error = await backend.render(request(source, { mask }), controls().controls).catch((e: unknown) => e)
    const e = expectNotApi(error, 'ComfyUI')
    expect(e.message).toContain(`ComfyUI at ${fake.url} answered /upload/image`)
    expect(e.details).toMatchObject({ backend: fake.url, path: '/upload/image', status: 200 })
    expect(await backend.health()).toMatchObject({ ok: false, reason: 'not_api' })
  })
})
