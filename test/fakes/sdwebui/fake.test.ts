// The fake against SD WebUI's real shapes and behaviour, spoken to with plain
// fetch (not our client), so a client bug can't hide a fake bug.
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { startSdwebuiFake, type SdwebuiFake, type SdwebuiFakeOptions } from './index.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- why: each test asserts the response shape it reads.
type Loose = any

const SD15 = 'v1-5-pruned-emaonly.safetensors'
const SDXL = 'sd_xl_base_1.0.safetensors'
let fake: SdwebuiFake
afterEach(async () => fake?.close())

async function start(options: SdwebuiFakeOptions = {}) {
  fake = await startSdwebuiFake(options)
}

async function call(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Loose }
}

/** A 64 × 64 grey photo with a dark square in the middle, and a mask whose white is the border (what gets repainted). */
async function photoAndMask() {
  const size = 64
  const photo = Buffer.alloc(size * size * 3, 200)
  const mask = Buffer.alloc(size * size, 255)
  for (let y = 24; y < 40; y++) {
    for (let x = 24; x < 40; x++) {
      photo.fill(30, (y * size + x) * 3, (y * size + x) * 3 + 3)
      mask[y * size + x] = 0
    }
  }
  const png = (data: Buffer, channels: 1 | 3) =>
    sharp(data, { raw: { width: size, height: size, channels } })
      .png()
      .toBuffer()
  return { photo: (await png(photo, 3)).toString('base64'), mask: (await png(mask, 1)).toString('base64') }
}

async function img2imgBody(overrides: Record<string, unknown> = {}) {
  const { photo, mask } = await photoAndMask()
  return {
    init_images: [photo],
    mask,
    prompt: 'a beach',
    seed: 7,
    steps: 10,
    denoising_strength: 1,
    width: 64,
    height: 64,
    sampler_name: 'Euler',
    scheduler: 'Automatic',
    mask_blur: 0,
    inpainting_fill: 1,
    inpaint_full_res: false,
    override_settings_restore_afterwards: false,
    ...overrides,
  }
}

async function pixels(b64: string) {
  return sharp(Buffer.from(b64, 'base64')).removeAlpha().raw().toBuffer({ resolveWithObject: true })
}

describe('SD WebUI fake', () => {
  it('lists checkpoints, samplers, schedulers, options and ControlNet like A1111 v1.10', async () => {
    await start({ checkpoints: [SD15, 'sub/dreamshaper_8.safetensors'] })
    const models = await call('GET', '/sdapi/v1/sd-models')
    expect(models.body[1]).toEqual({
      title: expect.stringMatching(/^sub\/dreamshaper_8\.safetensors \[[0-9a-f]{10}\]$/),
      model_name: 'sub_dreamshaper_8',
      hash: expect.stringMatching(/^[0-9a-f]{10}$/),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      filename: '/stable-diffusion-webui/models/Stable-diffusion/sub/dreamshaper_8.safetensors',
      config: null,
    })
    expect((await call('GET', '/sdapi/v1/options')).body).toMatchObject({
      sd_model_checkpoint: models.body[0].title,
      samples_format: 'png',
    })
    expect((await call('GET', '/sdapi/v1/samplers')).body[0]).toEqual({
      name: 'DPM++ 2M',
      aliases: ['k_dpmpp_2m'],
      options: { scheduler: 'karras' },
    })
    expect((await call('GET', '/sdapi/v1/schedulers')).body[2]).toMatchObject({ name: 'karras', label: 'Karras' })
    expect((await call('GET', '/controlnet/model_list')).body.model_list).toContainEqual(
      expect.stringMatching(/^control_v11p_sd15_canny \[[0-9a-f]{8}\]$/),
    )
    expect((await call('GET', '/controlnet/module_list')).body.module_list).toContain('depth_midas')
    expect(await call('GET', '/internal/ping')).toEqual({ status: 200, body: {} })
    expect(await call('GET', '/sdapi/v1/progress')).toEqual({
      status: 200,
      body: {
        progress: 0,
        eta_relative: 0,
        state: expect.objectContaining({ job: '', job_count: 0, interrupted: false, sampling_steps: 0 }),
        current_image: null,
        textinfo: null,
      },
    })
  })

  it('inpaints: white in the mask is repainted, black kept exactly; inpainting_mask_invert flips it', async () => {
    await start()
    const res = await call('POST', '/sdapi/v1/img2img', await img2imgBody())
    expect(res.status).toBe(200)
    expect(res.body.images).toHaveLength(1)
    expect(res.body.parameters).toMatchObject({ init_images: null, mask: null, steps: 10, restore_faces: null })
    const info = JSON.parse(res.body.info)
    expect(info).toMatchObject({ seed: 7, index_of_first_image: 0, sd_model_name: 'v1-5-pruned-emaonly', width: 64, height: 64 })
    const out = await pixels(res.body.images[0])
    const at = (x: number, y: number) => [...out.data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)]
    expect(at(32, 32)).toEqual([30, 30, 30])
    expect(at(2, 2)).not.toEqual([200, 200, 200])

    const inverted = await call('POST', '/sdapi/v1/img2img', await img2imgBody({ inpainting_mask_invert: 1 }))
    const flipped = await pixels(inverted.body.images[0])
    expect([...flipped.data.subarray(0, 3)]).toEqual([200, 200, 200])
    expect([...flipped.data.subarray((32 * 64 + 32) * 3, (32 * 64 + 32) * 3 + 3)]).not.toEqual([30, 30, 30])
  })

  it('is deterministic by seed, prompt and checkpoint', async () => {
    await start({ checkpoints: [SD15, SDXL] })
    const first = await call('POST', '/sdapi/v1/img2img', await img2imgBody())
    const again = await call('POST', '/sdapi/v1/img2img', await img2imgBody())
    const seed8 = await call('POST', '/sdapi/v1/img2img', await img2imgBody({ seed: 8 }))
    const xl = await call('POST', '/sdapi/v1/img2img', await img2imgBody({ override_settings: { sd_model_checkpoint: SDXL } }))
    expect(again.body.images[0]).toBe(first.body.images[0])
    expect(seed8.body.images[0]).not.toBe(first.body.images[0])
    expect(xl.body.images[0]).not.toBe(first.body.images[0])
  })

  it('answers a body that does not fit the model with FastAPI’s 422, pydantic 1 or 2', async () => {
    await start()
    const v1 = await call('POST', '/sdapi/v1/img2img', {
      ...(await img2imgBody()),
      steps: 'ten',
      cfg_scale: 'high',
      tiling: 'maybe',
    })
    expect(v1).toEqual({
      status: 422,
      body: {
        detail: [
          { loc: ['body', 'steps'], msg: 'value is not a valid integer', type: 'type_error.integer' },
          { loc: ['body', 'cfg_scale'], msg: 'value is not a valid float', type: 'type_error.float' },
          { loc: ['body', 'tiling'], msg: 'value could not be parsed to a boolean', type: 'type_error.bool' },
        ],
      },
    })
    // pydantic 1 is lax: "10" and 9.7 are integers.
    expect((await call('POST', '/sdapi/v1/img2img', await img2imgBody({ steps: '10', width: 64.7 }))).status).toBe(200)
    expect(await call('POST', '/sdapi/v1/img2img', '{"steps": ')).toMatchObject({
      status: 422,
      body: { detail: [{ type: 'value_error.jsondecode' }] },
    })
    expect(await call('POST', '/sdapi/v1/img2img', [1])).toEqual({
      status: 422,
      body: { detail: [{ loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }] },
    })
    await fake.close()

    await start({ pydantic: 2 })
    const v2 = await call('POST', '/sdapi/v1/img2img', { ...(await img2imgBody()), steps: 'ten' })
    expect(v2.body.detail).toEqual([
      {
        type: 'int_parsing',
        loc: ['body', 'steps'],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        input: 'ten',
        url: 'https://errors.pydantic.dev/2.9/v/int_parsing',
      },
    ])
  })

  it('answers api.py’s {error, detail, body, errors} for what it refuses later', async () => {
    await start()
    expect(await call('POST', '/sdapi/v1/img2img', await img2imgBody({ alwayson_scripts: { adetailer: { args: [] } } }))).toEqual(
      {
        status: 422,
        body: { error: 'HTTPException', detail: "Script 'adetailer' not found", body: '', errors: '' },
      },
    )
    expect(await call('POST', '/sdapi/v1/img2img', await img2imgBody({ init_images: ['not an image'] }))).toEqual({
      status: 500,
      body: { error: 'HTTPException', detail: 'Invalid encoded image', body: '', errors: '' },
    })
    expect(await call('POST', '/sdapi/v1/img2img', await img2imgBody({ init_images: null }))).toMatchObject({
      status: 404,
      body: { error: 'HTTPException', detail: 'Init image not found' },
    })
    expect(await call('POST', '/sdapi/v1/options', { sd_model_checkpoint: 'nope.safetensors' })).toEqual({
      status: 500,
      body: { error: 'RuntimeError', detail: '', body: '', errors: "model 'nope.safetensors' not found" },
    })
    expect(
      await call('POST', '/sdapi/v1/img2img', await img2imgBody({ override_settings: { no_such_option: 1 } })),
    ).toMatchObject({
      status: 500,
      body: { error: 'KeyError', errors: "'no_such_option'" },
    })
  })

  it('runs one generation at a time: a second request waits for the first, with progress and eta meanwhile', async () => {
    await start({ stepMs: 25 })
    const first = call('POST', '/sdapi/v1/img2img', await img2imgBody({ force_task_id: 'first' }))
    const second = call('POST', '/sdapi/v1/img2img', await img2imgBody({ force_task_id: 'second' }))
    await expect
      .poll(async () => (await call('GET', '/sdapi/v1/progress')).body.state.sampling_step, { timeout: 3000 })
      .toBeGreaterThan(2)
    const running = (await call('GET', '/sdapi/v1/progress')).body
    expect(running.state).toMatchObject({ job: 'scripts_img2img', job_count: 1, sampling_steps: 10 })
    expect(running.progress).toBeGreaterThan(0.2)
    expect(running.eta_relative).toBeGreaterThan(0)
    await Promise.all([first, second])
    expect(fake.generations.map((g) => g.taskId)).toEqual(['first', 'second'])
    expect(fake.maxConcurrentRequests).toBe(2)
    expect(fake.maxConcurrentJobs).toBe(1)
  })

  it('samples int(denoise × steps) + 1 steps in img2img, as A1111 does without img2img_fix_steps', async () => {
    await start()
    await call('POST', '/sdapi/v1/img2img', await img2imgBody({ steps: 28, denoising_strength: 0.62 }))
    expect(fake.generations[0]).toMatchObject({ samplingSteps: 18, stepsDone: 18 })
  })

  it('stops at the next step on /interrupt and still answers 200 with the half-done image; the flag outlives the job', async () => {
    await start({ stepMs: 20 })
    const done = call('POST', '/sdapi/v1/img2img', await img2imgBody({ steps: 40 }))
    await expect
      .poll(async () => (await call('GET', '/sdapi/v1/progress')).body.state.sampling_step, { timeout: 3000 })
      .toBeGreaterThan(3)
    expect(await call('POST', '/sdapi/v1/interrupt')).toEqual({ status: 200, body: {} })
    const res = await done
    expect(res.status).toBe(200)
    expect(res.body.images).toHaveLength(1)
    expect(fake.generations[0].interrupted).toBe(true)
    expect(fake.generations[0].stepsDone).toBeLessThan(40)
    expect(fake.interrupts).toEqual([{ job: 'scripts_img2img', taskId: expect.stringMatching(/^task\(img2img-/) }])
    expect((await call('GET', '/sdapi/v1/progress')).body.state).toMatchObject({ job: '', job_count: 0, interrupted: true })
  })

  it('loads another checkpoint only when asked for one, at a cost; restoring afterwards reverts the option, not the weights', async () => {
    await start({ checkpoints: [SD15, SDXL], modelSwitchMs: 80 })
    const t0 = performance.now()
    await call('POST', '/sdapi/v1/img2img', await img2imgBody({ override_settings: { sd_model_checkpoint: SD15 } }))
    const same = performance.now() - t0
    await call('POST', '/sdapi/v1/img2img', await img2imgBody({ override_settings: { sd_model_checkpoint: SDXL } }))
    expect(performance.now() - t0 - same).toBeGreaterThan(80)
    expect(fake.switches).toBe(1)
    expect(fake.loadedCheckpoint()).toMatch(/^sd_xl_base_1\.0\.safetensors \[/)
    expect((await call('GET', '/sdapi/v1/options')).body.sd_model_checkpoint).toBe(fake.loadedCheckpoint())

    await call(
      'POST',
      '/sdapi/v1/img2img',
      await img2imgBody({ override_settings: { sd_model_checkpoint: SD15 }, override_settings_restore_afterwards: true }),
    )
    expect(fake.switches).toBe(2)
    expect(fake.loadedCheckpoint()).toMatch(/^v1-5-pruned-emaonly/)
    expect((await call('GET', '/sdapi/v1/options')).body.sd_model_checkpoint).toMatch(/^sd_xl_base/)

    // POST /options loads it too (queued behind generations).
    expect(await call('POST', '/sdapi/v1/options', { sd_model_checkpoint: SDXL })).toEqual({ status: 200, body: null })
    expect(fake.switches).toBe(3)
  })

  it('silently keeps the loaded checkpoint when the override names one it does not have', async () => {
    await start()
    const res = await call(
      'POST',
      '/sdapi/v1/img2img',
      await img2imgBody({ override_settings: { sd_model_checkpoint: 'missing.safetensors' } }),
    )
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body.info).sd_model_name).toBe('v1-5-pruned-emaonly')
    expect(fake.log).toContainEqual(expect.stringContaining('Checkpoint missing.safetensors not found'))
  })

  it('applies ControlNet units, appends their detected maps unless told not to, and writes the infotext', async () => {
    await start()
    const unit = { enabled: true, module: 'canny', model: 'control_v11p_sd15_canny', weight: 0.5, control_mode: 'Balanced' }
    const withMaps = await call(
      'POST',
      '/sdapi/v1/img2img',
      await img2imgBody({
        alwayson_scripts: {
          ControlNet: { args: [unit, { ...unit, module: 'depth_midas', model: 'control_v11f1p_sd15_depth' }] },
        },
      }),
    )
    expect(withMaps.body.images).toHaveLength(3)
    const info = JSON.parse(withMaps.body.info)
    expect(info.extra_generation_params['ControlNet 0']).toMatch(
      /^Module: canny, Model: control_v11p_sd15_canny \[[0-9a-f]{8}\], Weight: 0\.5, /,
    )
    expect(info.extra_generation_params['ControlNet 1']).toContain('Module: depth_midas')
    const noMaps = await call(
      'POST',
      '/sdapi/v1/img2img',
      await img2imgBody({ alwayson_scripts: { controlnet: { args: [{ ...unit, save_detected_map: false }] } } }),
    )
    expect(noMaps.body.images).toHaveLength(1)
    // A unit that does not say enabled is ignored (A1111's extension defaults it off).
    const { enabled: _enabled, ...unsaid } = unit
    await call('POST', '/sdapi/v1/img2img', await img2imgBody({ alwayson_scripts: { controlnet: { args: [unsaid] } } }))
    expect(fake.generations.at(-1)!.controlnet).toMatchObject({ units: [], applied: false })
  })

  it('drops broken ControlNet units with only a console line, as A1111 swallows the extension’s errors', async () => {
    await start()
    const badModule = await call(
      'POST',
      '/sdapi/v1/img2img',
      await img2imgBody({
        alwayson_scripts: { controlnet: { args: [{ enabled: true, module: 'sketchy', model: 'control_v11p_sd15_canny' }] } },
      }),
    )
    expect(badModule.status).toBe(200)
    expect(badModule.body.images).toHaveLength(1)
    expect(JSON.parse(badModule.body.info).extra_generation_params['ControlNet 0']).toBeUndefined()
    expect(fake.log.at(-1)).toContain('module(sketchy) not found in supported modules.')

    const badModel = await call(
      'POST',
      '/sdapi/v1/img2img',
      await img2imgBody({ alwayson_scripts: { controlnet: { args: [{ enabled: true, module: 'canny', model: 'nope' }] } } }),
    )
    expect(badModel.status).toBe(200)
    // The infotext is written before the model loads, so it names a unit that never applied.
    expect(JSON.parse(badModel.body.info).extra_generation_params['ControlNet 0']).toContain('Model: nope')
    expect(fake.generations.at(-1)!.controlnet).toMatchObject({ applied: false })
    expect(fake.log.at(-1)).toBe('RuntimeError: model not found: nope')
  })

  it('falls back silently from an unknown sampler or scheduler, with a console warning', async () => {
    await start()
    const res = await call('POST', '/sdapi/v1/img2img', await img2imgBody({ sampler_name: 'Euler Karras', scheduler: null }))
    expect(JSON.parse(res.body.info).extra_generation_params['Schedule type']).toBe('Karras')
    await call('POST', '/sdapi/v1/img2img', await img2imgBody({ sampler_name: 'Nonsense', scheduler: 'Weird' }))
    expect(fake.generations.at(-1)).toMatchObject({ sampler: 'DPM++ 2M', scheduler: 'Automatic' })
    expect(fake.log.at(-1)).toContain('Sampler Scheduler autocorrection')
  })

  it('fails generations on demand and at a seeded rate, like CUDA running out of memory', async () => {
    await start({ failureRate: 0.5, seed: 3 })
    const statuses: number[] = []
    for (let i = 0; i < 8; i++) statuses.push((await call('POST', '/sdapi/v1/img2img', await img2imgBody())).status)
    expect(statuses.filter((s) => s === 500).length).toBeGreaterThan(0)
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0)
    const again = await startSdwebuiFake({ failureRate: 0.5, seed: 3 })
    const replay: number[] = []
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${again.url}/sdapi/v1/img2img`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(await img2imgBody()),
      })
      replay.push(res.status)
    }
    await again.close()
    expect(replay).toEqual(statuses)

    fake.configure({ failureRate: 0 })
    fake.failNext()
    expect(await call('POST', '/sdapi/v1/img2img', await img2imgBody())).toMatchObject({
      status: 500,
      body: { error: 'OutOfMemoryError', detail: '', body: '', errors: expect.stringContaining('CUDA out of memory') },
    })
    expect((await call('GET', '/sdapi/v1/progress')).body.state.job_count).toBe(0)
  })

  it('asks for --api-auth credentials on /sdapi routes only', async () => {
    await start({ auth: { username: 'bot', password: 'pw' } })
    expect(await call('GET', '/sdapi/v1/sd-models')).toEqual({
      status: 401,
      body: { error: 'HTTPException', detail: 'Not authenticated', body: '', errors: '' },
    })
    const wrong = await call('GET', '/sdapi/v1/sd-models', undefined, {
      Authorization: `Basic ${Buffer.from('bot:nope').toString('base64')}`,
    })
    expect(wrong.body.detail).toBe('Incorrect username or password')
    const right = await call('GET', '/sdapi/v1/sd-models', undefined, {
      Authorization: `Basic ${Buffer.from('bot:pw').toString('base64')}`,
    })
    expect(right.status).toBe(200)
    expect((await call('GET', '/controlnet/model_list')).status).toBe(200)
  })

  it('paints a scene for txt2img', async () => {
    await start()
    const res = await call('POST', '/sdapi/v1/txt2img', {
      prompt: 'a loft',
      seed: 3,
      steps: 4,
      width: 96,
      height: 64,
      sampler_name: 'Euler',
    })
    expect(res.status).toBe(200)
    const image = await pixels(res.body.images[0])
    expect([image.info.width, image.info.height]).toEqual([96, 64])
    expect(fake.generations[0]).toMatchObject({ job: 'scripts_txt2img', samplingSteps: 4 })
  })

  it('lets a job from its own UI hold the server', async () => {
    await start({ stepMs: 10 })
    const outside = fake.runOutsideJob({ steps: 8 })
    await expect.poll(async () => (await call('GET', '/sdapi/v1/progress')).body.state.job, { timeout: 2000 }).toMatch(/^task\(/)
    const started = performance.now()
    await call('POST', '/sdapi/v1/img2img', await img2imgBody({ steps: 1 }))
    await outside
    expect(performance.now() - started).toBeGreaterThan(30)
    expect(fake.maxConcurrentJobs).toBe(1)
  })
})
