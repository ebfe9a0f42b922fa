import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { AppError } from '#app/lib/errors.ts'
import { placeProduct } from '#app/modules/imaging/compose.ts'
import { measureFidelity } from '#app/modules/imaging/fidelity.server.ts'
import { protectProduct } from '#app/modules/imaging/protect.server.ts'
import { markets } from '#app/modules/looks/markets.ts'
import { personas } from '#app/modules/looks/personas.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import type { Scene } from '#app/modules/looks/schema.ts'
import { variationPrompt } from '#app/modules/looks/variation.ts'
import { productShot } from '#test/fixtures/product-images.ts'
import { startSdwebuiFake, type SdwebuiFake, type SdwebuiFakeOptions } from '#test/fakes/sdwebui/index.ts'
import type { RenderRequest, RenderResult, SourceImage } from '../types.ts'
import { recordingControls } from '#test/support/render-controls.ts'
import { expectNotApi, garbageKinds } from '#test/support/not-api.ts'
import { createSdwebuiBackend, sdwebuiBackendId, type SdwebuiBackend, type SdwebuiBackendOptions } from './adapter.server.ts'
import { img2imgRequestSchema, type Img2imgRequest } from './api.ts'
import { personaSettings, sceneSettings, sdwebuiSceneSectionSchema } from './look-settings.ts'

const beach = scenes.find((s) => s.id === 'beach')!
const studio = scenes.find((s) => s.id === 'studio-white')!
const lookCheckpoint = sdwebuiSceneSectionSchema.parse(beach.backends.sdwebui).checkpoint
const OTHER_CHECKPOINT = 'juggernautXL_v9Rdphoto2Lightning.safetensors'

/** The beach scene on another checkpoint (what a look edit or an SDXL scene would ask for). */
const beachOnOther: Scene = {
  ...beach,
  backends: { ...beach.backends, sdwebui: { ...beach.backends.sdwebui, checkpoint: OTHER_CHECKPOINT } },
}

let fake: SdwebuiFake
let backend: SdwebuiBackend
const extra: SdwebuiBackend[] = []
afterEach(async () => {
  for (const b of [backend, ...extra.splice(0)]) await b?.close()
  await fake?.close()
})

async function start(options: SdwebuiFakeOptions = {}, backendOptions: Partial<SdwebuiBackendOptions> = {}) {
  fake = await startSdwebuiFake({ checkpoints: [lookCheckpoint, OTHER_CHECKPOINT], ...options })
  backend = createSdwebuiBackend({ url: fake.url, pollIntervalMs: 10, ...backendOptions })
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

const img2imgBodies = () =>
  fake.requests.filter((r) => r.method === 'POST' && r.path === '/sdapi/v1/img2img').map((r) => r.json as Img2imgRequest)

/** What the worker does with an unprotected result: put the product's own pixels back through the placement, then measure. */
async function asTheWorkerSees(result: RenderResult, source: SourceImage) {
  const out = protectProduct({
    source,
    sourceMask: result.sourceMask,
    result: result.pixels!,
    placement: result.placement,
    geometry: 'unchanged',
  })
  expect(out.method).toBe('composite')
  return measureFidelity({ source, sourceMask: result.sourceMask, result: out.pixels, placement: result.placement })
}

async function decodeMask(b64: string) {
  return sharp(Buffer.from(b64, 'base64')).extractChannel(0).raw().toBuffer({ resolveWithObject: true })
}

describe('SD WebUI backend', () => {
  it('renders a scene swap end to end: the product kept in place, the rest repainted, progress with steps and eta', async () => {
    await start({ stepMs: 8 })
    const { source, mask } = await shot(512, 512)
    const { progress, framed, controls: c } = controls()
    const req = request(source, { mask })
    const result = await backend.render(req, c)

    // The framing was announced once, before anything reached the server, and is the result's (the worker prepares post-processing from it meanwhile).
    expect(framed).toHaveLength(1)
    expect(framed[0].requestsBefore).toBe(0)
    expect(framed[0].framing).toEqual({ sourceMask: result.sourceMask, placement: result.placement, width: result.width, height: result.height })

    expect(result).toMatchObject({
      width: 512,
      height: 512,
      contentType: 'image/jpeg',
      workflow: 'sdwebui-scene_swap@1',
      protected: false,
    })
    expect(result.placement).toEqual({ crop: { left: 0, top: 0, width: 512, height: 512 }, scale: 1, x: 0, y: 0 })
    // Pixels only: the worker's post-processing encodes the image it stores, once protected.
    expect(result.image).toBeUndefined()
    const pixels = result.pixels!
    expect([pixels.width, pixels.height, pixels.channels]).toEqual([512, 512, 3])

    // The work frame: SD 1.5 at 768 px is more than 512, so it works at the output size.
    expect(result.meta!.work).toEqual({ width: 512, height: 512 })
    const [body] = img2imgBodies()
    expect([body.width, body.height]).toEqual([512, 512])

    // The product's inside is untouched (A1111's overlay keeps what the mask keeps); every backdrop pixel is repainted,
    // and a rim of maskBlur px inside the product too (the mask is grown so no light halo of backdrop survives).
    const sentMask = await decodeMask(img2imgBodies()[0].mask)
    let interior = 0
    let changedInterior = 0
    let backdrop = 0
    let keptBackdrop = 0
    for (let p = 0; p < 512 * 512; p++) {
      const same = [0, 1, 2].every((ch) => Math.abs(pixels.data[p * 3 + ch] - source.pixels.data[p * 3 + ch]) <= 3)
      if (sentMask.data[p] === 0) {
        interior++
        if (!same) changedInterior++
      } else if (result.sourceMask.data[p] === 0) {
        backdrop++
        if (same) keptBackdrop++
      }
    }
    expect(interior).toBeGreaterThan(20_000)
    expect(changedInterior / interior).toBeLessThan(0.01)
    expect(backdrop).toBeGreaterThan(100_000)
    expect(keptBackdrop / backdrop).toBeLessThan(0.01)

    // Progress: rising, the sampler's steps with an eta, to 100.
    const percents = progress.map(([p]) => p)
    expect(percents).toEqual([...percents].sort((a, b) => a - b))
    expect(progress.some(([, m]) => /^SD WebUI: step \d+ of \d+, about \d+ s left$/.test(m))).toBe(true)
    expect(progress.at(-1)).toEqual([100, 'done'])

    // The worker puts the product back through the placement: it lines up, pixel for pixel.
    const fidelity = await asTheWorkerSees(result, source)
    expect(fidelity).toMatchObject({
      ssim: expect.closeTo(1, 2),
      alignment: { dx: expect.closeTo(0, 0), dy: expect.closeTo(0, 0), scale: expect.closeTo(1, 2) },
    })
    expect(fidelity.deltaEMean).toBeLessThan(0.5)
    expect(result.meta).toMatchObject({ checkpoint: expect.stringContaining(lookCheckpoint), maskOrigin: 'merchant' })
  })

  it('spells out every parameter: inpainting, sampler, size, batch, checkpoint override kept, ControlNet units without maps', async () => {
    await start()
    const { source, mask } = await shot(400, 500)
    const output = { width: 1080, height: 1350 }
    const result = await backend.render(request(source, { mask, output, seed: 1234 }), controls().controls)
    const [body] = img2imgBodies()
    // The whole body is what api.ts says we send: nothing missing, nothing extra.
    expect(img2imgRequestSchema.strict().safeParse(body).success).toBe(true)
    const settings = sceneSettings(beach)
    const { init_images: _init, mask: _mask, alwayson_scripts, override_settings, ...rest } = body
    expect(rest).toEqual({
      resize_mode: 0,
      prompt: settings.prompt,
      negative_prompt: settings.negative_prompt,
      styles: [],
      seed: 1234,
      subseed: -1,
      subseed_strength: 0,
      seed_resize_from_h: -1,
      seed_resize_from_w: -1,
      sampler_name: 'DPM++ 2M',
      scheduler: 'Karras',
      steps: settings.steps,
      cfg_scale: settings.cfg_scale,
      denoising_strength: settings.denoising_strength,
      width: 616,
      height: 768,
      batch_size: 1,
      n_iter: 1,
      restore_faces: false,
      tiling: false,
      mask_blur: settings.maskBlur,
      mask_blur_x: settings.maskBlur,
      mask_blur_y: settings.maskBlur,
      mask_round: true,
      inpainting_fill: 1,
      inpaint_full_res: false,
      inpaint_full_res_padding: 32,
      inpainting_mask_invert: 0,
      initial_noise_multiplier: 1,
      disable_extra_networks: false,
      do_not_save_samples: true,
      do_not_save_grid: true,
      save_images: false,
      send_images: true,
      include_init_images: false,
      script_args: [],
      override_settings_restore_afterwards: false,
      force_task_id: result.meta!.taskId,
    })
    expect(override_settings).toEqual({
      sd_model_checkpoint: fake.loadedCheckpoint(),
      sd_vae: 'Automatic',
      CLIP_stop_at_last_layers: 1,
    })
    expect(fake.loadedCheckpoint()).toMatch(new RegExp(`^${lookCheckpoint.replaceAll('.', '\\.')} \\[[0-9a-f]{10}\\]$`))
    // Every field reached the server as sent (none left to the API's defaults).
    expect(fake.generations[0].sent.sort()).toEqual(expect.arrayContaining(Object.keys(rest)))

    // ControlNet: the scene's units, every field, the model's full name, no detected maps.
    const units = (alwayson_scripts.controlnet as { args: Array<Record<string, unknown>> }).args
    expect(units).toHaveLength(settings.controlnet.length)
    units.forEach((unit, i) => {
      expect(unit).toEqual({
        enabled: true,
        module: settings.controlnet[i].module,
        model: expect.stringMatching(new RegExp(`^${settings.controlnet[i].model} \\[[0-9a-f]{8}\\]$`)),
        weight: settings.controlnet[i].weight,
        image: body.init_images[0],
        resize_mode: 'Just Resize',
        low_vram: false,
        processor_res: 616,
        threshold_a: unit.module === 'canny' ? 100 : -1,
        threshold_b: unit.module === 'canny' ? 200 : -1,
        guidance_start: 0,
        guidance_end: 1,
        pixel_perfect: true,
        control_mode: settings.controlnet[i].control_mode,
        save_detected_map: false,
      })
    })
    expect(fake.generations[0].controlnet).toMatchObject({ applied: true })

    // The mask is SD's: white = repaint, i.e. the background; the product (and nothing else) black.
    const sentMask = await decodeMask(body.mask)
    expect([sentMask.info.width, sentMask.info.height]).toEqual([616, 768])
    expect(sentMask.data[0]).toBe(255)
    const centre = sentMask.data[Math.round(768 * 0.6) * 616 + 308]
    expect(centre).toBe(0)

    // The frame: the photo scaled to fit 1080 × 1350 exactly (the same aspect ratio), back at the output size.
    expect(result.placement).toEqual({ crop: { left: 0, top: 0, width: 400, height: 500 }, scale: 2.7, x: 0, y: 0 })
    expect([result.width, result.height, result.pixels!.width]).toEqual([1080, 1350, 1080])
  })

  it('takes the result, not the ControlNet maps an older extension appends after it', async () => {
    await start({ controlnet: { alwaysAppendMaps: true } })
    const { source, mask } = await shot(256, 256)
    const result = await backend.render(request(source, { mask }), controls().controls)
    const answered = fake.generations[0]
    expect(answered.controlnet?.units).toHaveLength(2)
    // The maps are grey; the result around the product carries the scene's colour.
    const [r, g, b] = result.pixels!.data.subarray(0, 3)
    expect(Math.max(Math.abs(r - g), Math.abs(g - b), Math.abs(r - b))).toBeGreaterThan(8)
  })

  it('never sends two generations at once to one server, from one backend or two', async () => {
    await start({ stepMs: 3 })
    const twin = createSdwebuiBackend({ url: `${fake.url}/`, id: 'twin', pollIntervalMs: 10 })
    extra.push(twin)
    const { source, mask } = await shot(256, 256)
    const results = await Promise.all([
      backend.render(request(source, { mask, seed: 1 }), controls().controls),
      twin.render(request(source, { mask, seed: 2 }), controls().controls),
      backend.render(request(source, { mask, seed: 3 }), controls().controls),
    ])
    expect(results.map((r) => r.meta!.seed)).toEqual([1, 2, 3])
    expect(fake.generations).toHaveLength(3)
    expect(fake.maxConcurrentRequests).toBe(1)
    expect(fake.maxConcurrentJobs).toBe(1)
  })

  it('switches the checkpoint only when the next render needs another, and says which is loaded', async () => {
    await start({ modelSwitchMs: 20 })
    const { source, mask } = await shot(256, 256)
    expect(backend.loadedCheckpoint()).toBeUndefined()
    expect(backend.loadedModel()).toBeUndefined()
    const order = [beach, beach, beachOnOther, beachOnOther, beach]
    const switched: boolean[] = []
    for (const scene of order) {
      const result = await backend.render(request(source, { mask, scene }), controls().controls)
      switched.push(result.meta!.switchedCheckpoint as boolean)
    }
    expect(switched).toEqual([false, false, true, false, true])
    expect(fake.switches).toBe(2)
    expect(fake.generations.map((g) => g.switched)).toEqual(switched)
    // The loaded checkpoint is read once, at first use; after that it is tracked.
    expect(fake.requests.filter((r) => r.method === 'GET' && r.path === '/sdapi/v1/options')).toHaveLength(1)
    expect(backend.loadedCheckpoint()).toBe(lookCheckpoint)
    expect(backend.loadedModel()).toBe('scene_swap:beach')
    // The options stay on the loaded checkpoint (override_settings_restore_afterwards: false).
    expect(fake.options().sd_model_checkpoint).toBe(fake.loadedCheckpoint())
    // The server's checkpoints are the backend's models once it has read them.
    expect(backend.capabilities().models).toEqual([lookCheckpoint, OTHER_CHECKPOINT])
  })

  it('cancels through the render signal: the interrupt reaches our job, and the server is free for the next render', async () => {
    await start({ stepMs: 30 })
    const { source, mask } = await shot(256, 256)
    const abort = new AbortController()
    const c = {
      signal: abort.signal,
      onProgress: (_p: number, message: string) => {
        if (/step 2 of/.test(message)) abort.abort()
      },
    }
    const error = await backend.render(request(source, { mask }), c).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'RENDER_CANCELED', retryable: false })
    expect(fake.interrupts).toHaveLength(1)
    const [ours] = img2imgBodies()
    expect(fake.interrupts[0]).toEqual({ job: 'scripts_img2img', taskId: ours.force_task_id })

    fake.configure({ stepMs: 1 })
    const next = await backend.render(request(source, { mask }), controls().controls)
    expect(next.width).toBe(256)
    expect(fake.generations[0]).toMatchObject({ interrupted: true })
    expect(fake.generations[0].stepsDone).toBeLessThan(fake.generations[0].samplingSteps)
    expect(fake.maxConcurrentRequests).toBe(1)
  })

  it('never interrupts a job that is not ours: a cancel while the server finishes its own UI job waits for ours to start', async () => {
    await start({ stepMs: 15 })
    const { source, mask } = await shot(256, 256)
    const outside = fake.runOutsideJob({ steps: 12 })
    const abort = new AbortController()
    const c = {
      signal: abort.signal,
      onProgress: (_p: number, message: string) => {
        if (message === 'SD WebUI is finishing another job first') abort.abort()
      },
    }
    const error = await backend.render(request(source, { mask }), c).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'RENDER_CANCELED' })
    await outside
    // The UI job ran to its end; our job was interrupted once it began.
    await expect.poll(() => fake.interrupts.length, { timeout: 5000 }).toBe(1)
    const [ours] = img2imgBodies()
    expect(fake.interrupts[0].taskId).toBe(ours.force_task_id)
    await expect.poll(() => fake.generations[0]?.interrupted, { timeout: 5000 }).toBe(true)
  })

  it('turns a timeout into a retryable BACKEND_TIMEOUT', async () => {
    await start({ stepMs: 40 })
    const { source, mask } = await shot(256, 256)
    const error = await backend
      .render(request(source, { mask }), controls(AbortSignal.timeout(300)).controls)
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'BACKEND_TIMEOUT', retryable: true })
    await expect.poll(() => fake.interrupts.length, { timeout: 5000 }).toBe(1)
  })

  it('fails when someone else interrupts our job on the server', async () => {
    await start({ stepMs: 25 })
    const { source, mask } = await shot(256, 256)
    let sent = false
    const c = {
      signal: new AbortController().signal,
      onProgress: (_p: number, message: string) => {
        if (!sent && /step 2 of/.test(message)) {
          sent = true
          void fetch(`${fake.url}/sdapi/v1/interrupt`, { method: 'POST' })
        }
      },
    }
    const error = await backend.render(request(source, { mask }), c).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'RENDER_CANCELED',
      retryable: false,
      message: expect.stringContaining('interrupted on the SD WebUI server'),
    })
  })

  it('turns a 422 into a clear, final error naming the field; both body shapes', async () => {
    await start({ pydantic: 2 })
    const { source, mask } = await shot(256, 256)
    fake.failNext({
      status: 422,
      at: 'request',
      body: { detail: [{ type: 'int_parsing', loc: ['body', 'steps'], msg: 'Input should be a valid integer', input: 'x' }] },
    })
    const validation = await backend.render(request(source, { mask }), controls().controls).catch((e: unknown) => e)
    expect(validation).toBeInstanceOf(AppError)
    expect(validation).toMatchObject({ code: 'BACKEND_FAILED', retryable: false })
    expect((validation as AppError).message).toContain('steps: Input should be a valid integer')
    expect((validation as AppError).details).toMatchObject({ problems: [{ field: 'steps', type: 'int_parsing' }] })

    fake.failNext({
      status: 422,
      at: 'request',
      body: { error: 'HTTPException', detail: "Script 'controlnet' not found", body: '', errors: '' },
    })
    const script = await backend.render(request(source, { mask }), controls().controls).catch((e: unknown) => e)
    expect(script).toMatchObject({ code: 'BACKEND_FAILED', retryable: false })
    expect((script as AppError).message).toContain("(HTTPException): Script 'controlnet' not found")
    // Neither left the server locked.
    const ok = await backend.render(request(source, { mask }), controls().controls)
    expect(ok.width).toBe(256)
  })

  it('retries what may pass next time: CUDA out of memory, an unreachable server', async () => {
    await start()
    const { source, mask } = await shot(256, 256)
    fake.failNext()
    const oom = await backend.render(request(source, { mask }), controls().controls).catch((e: unknown) => e)
    expect(oom).toMatchObject({ code: 'BACKEND_FAILED', retryable: true })
    expect((oom as AppError).message).toContain('HTTP 500 (OutOfMemoryError): CUDA out of memory')
    // The failed generation may have switched checkpoints: the next one reads it again.
    const ok = await backend.render(request(source, { mask }), controls().controls)
    expect(ok.width).toBe(256)

    const url = fake.url
    await fake.close()
    const gone = createSdwebuiBackend({ url, pollIntervalMs: 10 })
    extra.push(gone)
    const refused = await gone.render(request(source, { mask }), controls().controls).catch((e: unknown) => e)
    expect(refused).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true })
    expect((refused as AppError).message).toContain('is unreachable')
  })

  it('refuses before sending what the server cannot do right: a missing checkpoint, ControlNet model or extension', async () => {
    await start({ checkpoints: [OTHER_CHECKPOINT] })
    const { source, mask } = await shot(256, 256)
    const noCheckpoint = await backend.render(request(source, { mask }), controls().controls).catch((e: unknown) => e)
    expect(noCheckpoint).toMatchObject({ code: 'BACKEND_FAILED', retryable: false })
    expect((noCheckpoint as AppError).message).toContain(`has no checkpoint "${lookCheckpoint}"`)
    await fake.close()

    await start({ controlnet: { models: ['control_v11p_sd15_canny'] } })
    const noModel = await backend.render(request(source, { mask }), controls().controls).catch((e: unknown) => e)
    expect((noModel as AppError).message).toContain('has no ControlNet model "control_v11f1p_sd15_depth"')
    await fake.close()

    await start({ controlnet: false })
    const noExtension = await backend.render(request(source, { mask }), controls().controls).catch((e: unknown) => e)
    expect((noExtension as AppError).message).toContain('has no ControlNet extension')
    expect(img2imgBodies()).toHaveLength(0)
  })

  it('swaps the model with the persona’s prompt and LoRA, an openpose unit, and only the garment kept', async () => {
    await start()
    const { source, mask } = await shot(256, 320)
    const persona = personas.find((p) => p.id === 'grace')!
    await expect(
      backend.render(request(source, { operation: 'model_swap', persona }), controls().controls),
    ).rejects.toMatchObject({
      code: 'GARMENT_MASK_REQUIRED',
    })
    await expect(backend.render(request(source, { operation: 'model_swap', mask }), controls().controls)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
    const result = await backend.render(request(source, { operation: 'model_swap', persona, mask }), controls().controls)
    expect(result.workflow).toBe('sdwebui-model_swap@1')
    const [body] = img2imgBodies()
    const settings = personaSettings(persona)
    expect(body.prompt).toBe(`${settings.prompt}, wearing the garment, ${sceneSettings(beach).prompt}`)
    expect(body.prompt).toContain('<lora:atelier-persona-grace-v1:')
    expect(body.negative_prompt).toContain(settings.negative_prompt)
    expect(body.denoising_strength).toBe(settings.denoise)
    expect(body.inpainting_fill).toBe(1)
    const units = (body.alwayson_scripts.controlnet as { args: Array<Record<string, unknown>> }).args
    expect(units).toHaveLength(1)
    expect(units[0]).toMatchObject({
      module: 'openpose_full',
      weight: settings.poseWeight,
      model: expect.stringContaining('control_v11p_sd15_openpose'),
    })
    expect(result.resultMask).toBeDefined()
  })

  it('places a product in a scene where the CPU studio would, and reports that placement', async () => {
    await start()
    const { source, mask } = await shot(400, 400)
    const output = { width: 600, height: 800 }
    const result = await backend.render(
      request(source, { operation: 'product_scene', scene: studio, mask, output }),
      controls().controls,
    )
    const [body] = img2imgBodies()
    expect(body.denoising_strength).toBe(sceneSettings(studio).productSceneDenoise)
    const expected = placeProduct(result.placement.crop, output, studio.backends['cpu-studio']!)
    expect(result.placement).toEqual(expected.placement)
    expect(result.placement.crop.width).toBeLessThan(400)
    // Enlarged 1.5×, the product lines up as closely as the CPU studio's own (ssim 0.968, within a pixel).
    const fidelity = await asTheWorkerSees(result, source)
    expect(fidelity.ssim).toBeGreaterThan(0.95)
    expect(Math.abs(fidelity.alignment!.dx)).toBeLessThan(1)
    expect(Math.abs(fidelity.alignment!.dy)).toBeLessThan(1)
    expect(fidelity.alignment!.scale).toBeCloseTo(1, 1)
    // Around the product is the scene, not the photo's backdrop.
    const x = result.placement.x - 10
    const y = result.placement.y + 20
    const at = (y * 600 + Math.max(0, x)) * 3
    expect([...result.pixels!.data.subarray(at, at + 3)]).not.toEqual([...studio.preview.from])
  })

  it('frames a variant where the CPU studio would, and asks for its light in the prompt', async () => {
    await start()
    const { source, mask } = await shot(400, 400)
    const output = { width: 800, height: 600 }
    const variation = { light: 'left' as const, framing: { position: 'right' as const, size: 'wider' as const } }
    const result = await backend.render(
      request(source, { operation: 'product_scene', scene: studio, mask, output, variation }),
      controls().controls,
    )
    const expected = placeProduct(result.placement.crop, output, studio.backends['cpu-studio']!, variation.framing)
    expect(result.placement).toEqual(expected.placement)
    expect(result.placement.x).toBeGreaterThan(
      placeProduct(result.placement.crop, output, studio.backends['cpu-studio']!).placement.x,
    )
    expect(img2imgBodies()[0].prompt).toBe(`${sceneSettings(studio).prompt}, ${variationPrompt(variation)}`)
    expect(result.variation).toEqual(variation)
  })

  it('refuses what it cannot do, and looks without SD WebUI settings', async () => {
    await start()
    const { source, mask } = await shot(256, 256)
    await expect(backend.render(request(source, { operation: 'tryon' }), controls().controls)).rejects.toMatchObject({
      code: 'BACKEND_NEEDS_GPU',
    })
    await expect(backend.render(request(source, { mask, persona: personas[0] }), controls().controls)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
    const bare: Scene = { ...beach, backends: { 'cpu-studio': beach.backends['cpu-studio'] } }
    await expect(backend.render(request(source, { mask, scene: bare }), controls().controls)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('Scene "beach" has no usable SD WebUI settings'),
    })
    expect(img2imgBodies()).toHaveLength(0)
  })

  it('reports health from /sdapi/v1/progress, and reads the server’s checkpoints', async () => {
    await start()
    const idle = await backend.health()
    expect(idle).toEqual({ ok: true, detail: 'SD WebUI idle, 2 checkpoints' })
    expect(backend.capabilities().models).toEqual([lookCheckpoint, OTHER_CHECKPOINT])
    fake.configure({ stepMs: 20 })
    const outside = fake.runOutsideJob({ steps: 10 })
    await expect
      .poll(async () => (await backend.health()).detail, { timeout: 3000 })
      .toMatch(/^SD WebUI busy \(task\(.+\), step \d+ of 10\)/)
    await outside
    await fake.close()
    const down = await backend.health()
    expect(down.ok).toBe(false)
    expect(down.detail).toContain('unreachable')
  })

  it('offers its operations, personas and one slot, under a stable id', async () => {
    await start()
    expect(backend.capabilities()).toMatchObject({
      type: 'sdwebui',
      operations: ['scene_swap', 'model_swap', 'product_scene'],
      personas: true,
      slots: 1,
      models: [lookCheckpoint],
    })
    expect(backend.id).toBe(sdwebuiBackendId(fake.url))
    expect(sdwebuiBackendId('http://user:secret@GPU-1.local:7860/')).toBe('sdwebui-gpu-1-local-7860')
    expect(sdwebuiBackendId('https://sd.example.com/proxy/a')).toBe('sdwebui-sd-example-com-443-proxy-a')
  })
})

describe('SD WebUI backend, a server that is not SD WebUI', () => {
  it.each(garbageKinds)('says so in words, with what to check, when it answers %s', async (kind) => {
    await start()
    const { source, mask } = await shot(256, 256)
    fake.answerGarbage(kind)
    const error = await backend.render(request(source, { mask }), controls().controls).catch((e: unknown) => e)
    const e = expectNotApi(error, 'SD WebUI')
    expect(e.message).toContain(`SD WebUI at ${fake.url} answered /sdapi/v1/`)
    expect(e.details).toMatchObject({ backend: fake.url, status: 200 })
    expect(await backend.health()).toMatchObject({ ok: false, reason: 'not_api' })
  })

  it('says so for the generation itself, once the server was read as SD WebUI', async () => {
    await start()
    const { source, mask } = await shot(256, 256)
    await backend.render(request(source, { mask }), controls().controls)
    fake.answerGarbage('other_json')
    const error = await backend.render(request(source, { mask }), controls().controls).catch((e: unknown) => e)
    expect(expectNotApi(error, 'SD WebUI').details).toMatchObject({ path: expect.stringMatching(/^\/sdapi\/v1\//) })
  })
})
