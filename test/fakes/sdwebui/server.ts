// An SD WebUI (AUTOMATIC1111 v1.10, started with --api, with the
// sd-webui-controlnet extension) for tests: real HTTP (node:http) on
// 127.0.0.1:0, answering with the shapes of modules/api/api.py.
//   POST /sdapi/v1/img2img       the inpainting request → {images, parameters, info}
//   POST /sdapi/v1/txt2img       minimal: a scene tint at width × height
//   GET  /sdapi/v1/progress      {progress, eta_relative, state, current_image, textinfo}
//   POST /sdapi/v1/interrupt     {} (global: stops whatever runs)
//   GET  /sdapi/v1/options       every setting; POST sets them (a checkpoint change loads it, queued)
//   GET  /sdapi/v1/sd-models     [{title, model_name, hash, sha256, filename, config}]
//   GET  /sdapi/v1/samplers      [{name, aliases, options}]
//   GET  /sdapi/v1/schedulers    [{name, label, aliases, default_rho, need_inner_model}]
//   GET  /controlnet/model_list  {model_list}   GET /controlnet/module_list {module_list, module_detail}
//   GET  /internal/ping          {} (no auth, answers without --api too)
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { runControlnet, type ControlnetOutcome } from './controlnet.ts'
import { decodeRgb, detectedMap, encodePng, paint, seededRandom } from './painter.ts'
import { IMG2IMG_FIELDS, TXT2IMG_FIELDS, validateBody, type PydanticVersion } from './validation.ts'
import { answerGarbage, type GarbageKind } from '../garbage.ts'

export interface SdwebuiFakeTimings {
  /** Time per sampling step, ms. */
  stepMs: number
  /** Time to load another checkpoint, ms. */
  modelSwitchMs: number
  /** Encoding, decoding and the VAE around the steps, ms per generation. */
  overheadMs: number
  /** Delay before answering every HTTP request, ms. */
  httpLatencyMs: number
  /** Share of generations that fail with CUDA out of memory mid-way (seeded). */
  failureRate: number
}

export interface SdwebuiFakeOptions extends Partial<SdwebuiFakeTimings> {
  /** Checkpoint files in models/Stable-diffusion (default: SD 1.5 and SDXL base). */
  checkpoints?: string[]
  /** The checkpoint loaded at start (default: the first). */
  loaded?: string
  /** The ControlNet extension's models (names without hash) and preprocessors; false = not installed. */
  controlnet?:
    | false
    | {
        models?: string[]
        modules?: string[]
        /** An extension version that predates save_detected_map: every applied unit's map is appended. */
        alwaysAppendMaps?: boolean
      }
  /** Seed of the fake's own randomness (failure rate). */
  seed?: number
  /** The 422 shape: 1 = A1111 (pydantic 1), 2 = newer forks. */
  pydantic?: PydanticVersion
  /** --api-auth: /sdapi routes then need HTTP Basic credentials. */
  auth?: { username: string; password: string }
}

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  json?: unknown
  status?: number
}

export interface GenerationRecord {
  taskId: string
  job: string
  checkpoint: string
  switched: boolean
  sampler: string
  scheduler: string
  seed: number
  samplingSteps: number
  stepsDone: number
  interrupted: boolean
  /** The fields the request spelled out (the rest took the API's defaults). */
  sent: string[]
  controlnet: ControlnetOutcome | null
}

export interface InjectedFailure {
  status?: number
  body?: unknown
  /** 'request': answered at once; 'sampling' (default): after the first step, inside the lock. */
  at?: 'request' | 'sampling'
}

export interface SdwebuiFake {
  /** Base URL, e.g. http://127.0.0.1:53123 */
  readonly url: string
  /** Every HTTP request, in order, with its JSON body and status. */
  readonly requests: RecordedRequest[]
  readonly generations: GenerationRecord[]
  /** Most generation requests (img2img, txt2img) the server held at once, waiting for the lock or running. */
  readonly maxConcurrentRequests: number
  /** Most generations running at once (the global lock keeps this at 1). */
  readonly maxConcurrentJobs: number
  /** Checkpoint loads after the first (each costs modelSwitchMs). */
  readonly switches: number
  /** Every POST /sdapi/v1/interrupt, with what was running then. */
  readonly interrupts: Array<{ job: string; taskId: string | null }>
  /** What the server printed to its console (fallbacks, swallowed extension errors). */
  readonly log: string[]
  options(): Record<string, unknown>
  /** Title of the checkpoint whose weights are loaded. */
  loadedCheckpoint(): string
  configure(timings: Partial<SdwebuiFakeTimings>): void
  /** Makes the next generation request fail with this status and body (default: a 500 CUDA out of memory). */
  failNext(failure?: InjectedFailure): void
  /** Runs a generation from the server's own UI (job name `task(...)`), taking the lock like A1111's queue. */
  runOutsideJob(opts?: { steps?: number }): Promise<void>
  /** While set, every HTTP request is answered 200 with a body that is not this API's (null: the API again). */
  answerGarbage(kind: GarbageKind | null): void
  close(): Promise<void>
}

const DEFAULT_CHECKPOINTS = ['v1-5-pruned-emaonly.safetensors', 'sd_xl_base_1.0.safetensors']
const DEFAULT_CONTROLNET_MODELS = ['control_v11p_sd15_canny', 'control_v11f1p_sd15_depth', 'control_v11p_sd15_openpose']
const DEFAULT_MODULES = [
  'none',
  'canny',
  'depth_midas',
  'depth_leres',
  'depth_zoe',
  'openpose',
  'openpose_face',
  'openpose_full',
  'dw_openpose_full',
  'lineart_realistic',
  'softedge_pidinet',
  'inpaint_only',
  'reference_only',
  'tile_resample',
]
/** modules/sd_samplers_kdiffusion.py and friends, v1.10. */
export const SAMPLERS: Array<{ name: string; aliases: string[]; options: Record<string, unknown> }> = [
  { name: 'DPM++ 2M', aliases: ['k_dpmpp_2m'], options: { scheduler: 'karras' } },
  { name: 'DPM++ SDE', aliases: ['k_dpmpp_sde'], options: { scheduler: 'karras', second_order: true, brownian_noise: true } },
  { name: 'DPM++ 2M SDE', aliases: ['k_dpmpp_2m_sde'], options: { scheduler: 'exponential', brownian_noise: true } },
  { name: 'DPM++ 2S a', aliases: ['k_dpmpp_2s_a'], options: { scheduler: 'karras', uses_ensd: true, second_order: true } },
  { name: 'Euler a', aliases: ['k_euler_a', 'k_euler_ancestral'], options: { uses_ensd: true } },
  { name: 'Euler', aliases: ['k_euler'], options: {} },
  { name: 'LMS', aliases: ['k_lms'], options: {} },
  { name: 'Heun', aliases: ['k_heun'], options: { second_order: true } },
  { name: 'DPM2', aliases: ['k_dpm_2'], options: { scheduler: 'karras', discard_next_to_last_sigma: true, second_order: true } },
  { name: 'DDIM', aliases: ['ddim'], options: {} },
  { name: 'UniPC', aliases: ['unipc'], options: {} },
  { name: 'LCM', aliases: ['k_lcm'], options: {} },
]
/** modules/sd_schedulers.py, v1.10 (the first is the default). */
export const SCHEDULERS: Array<{ name: string; label: string; aliases: string[] | null }> = [
  { name: 'automatic', label: 'Automatic', aliases: null },
  { name: 'uniform', label: 'Uniform', aliases: null },
  { name: 'karras', label: 'Karras', aliases: null },
  { name: 'exponential', label: 'Exponential', aliases: null },
  { name: 'polyexponential', label: 'Polyexponential', aliases: null },
  { name: 'sgm_uniform', label: 'SGM Uniform', aliases: ['SGMUniform'] },
  { name: 'kl_optimal', label: 'KL Optimal', aliases: null },
  { name: 'align_your_steps', label: 'Align Your Steps', aliases: null },
  { name: 'simple', label: 'Simple', aliases: null },
  { name: 'normal', label: 'Normal', aliases: null },
  { name: 'beta', label: 'Beta', aliases: null },
]

interface Checkpoint {
  title: string
  name: string
  model_name: string
  hash: string
  sha256: string
  filename: string
}

function checkpointInfo(name: string): Checkpoint {
  const sha256 = createHash('sha256').update(`checkpoint:${name}`).digest('hex')
  const hash = sha256.slice(0, 10)
  return {
    title: `${name} [${hash}]`,
    name,
    model_name: name.replace(/\.[^.]+$/, '').replaceAll('/', '_'),
    hash,
    sha256,
    filename: `/stable-diffusion-webui/models/Stable-diffusion/${name}`,
  }
}

function modelHash(name: string): string {
  return createHash('sha256').update(`controlnet:${name}`).digest('hex').slice(0, 8)
}

type Json = Record<string, unknown>

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), ...headers })
  res.end(payload)
}

/** api.py's handle_exception: `{error: type(e).__name__, detail, body, errors: str(e)}`. */
function apiError(
  res: http.ServerResponse,
  status: number,
  error: string,
  detail: string,
  errors = '',
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error, detail, body: '', errors }, headers)
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** time.strftime("%Y%m%d%H%M%S"): the job's timestamp, to the second. */
function jobTimestamp(): string {
  return new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

/** A FIFO lock: A1111's queue_lock, taken by every generation and by a checkpoint change. */
function createQueueLock() {
  let held = false
  const waiting: Array<() => void> = []
  return {
    async acquire(): Promise<() => void> {
      if (held) await new Promise<void>((resolve) => waiting.push(resolve))
      held = true
      return () => {
        const next = waiting.shift()
        if (next) next()
        else held = false
      }
    },
  }
}

class ApiException extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly detail: string,
    readonly errors = '',
  ) {
    super(detail || errors)
  }
}

export async function startSdwebuiFake(options: SdwebuiFakeOptions = {}): Promise<SdwebuiFake> {
  const timings: SdwebuiFakeTimings = {
    stepMs: options.stepMs ?? 2,
    modelSwitchMs: options.modelSwitchMs ?? 30,
    overheadMs: options.overheadMs ?? 1,
    httpLatencyMs: options.httpLatencyMs ?? 0,
    failureRate: options.failureRate ?? 0,
  }
  const pydantic: PydanticVersion = options.pydantic ?? 1
  const checkpoints = (options.checkpoints ?? DEFAULT_CHECKPOINTS).map(checkpointInfo)
  if (checkpoints.length === 0) throw new Error('the fake needs at least one checkpoint')
  const controlnet =
    options.controlnet === false
      ? null
      : {
          models: (options.controlnet?.models ?? DEFAULT_CONTROLNET_MODELS).map((m) => `${m} [${modelHash(m)}]`),
          modules: options.controlnet?.modules ?? DEFAULT_MODULES,
          alwaysAppendMaps: options.controlnet?.alwaysAppendMaps ?? false,
        }
  const random = seededRandom(options.seed ?? 1)
  const requests: RecordedRequest[] = []
  const generations: GenerationRecord[] = []
  const interrupts: SdwebuiFake['interrupts'] = []
  const log: string[] = []
  const queueLock = createQueueLock()
  let failures: InjectedFailure[] = []
  let inFlight = 0
  let running = 0
  let maxConcurrentRequests = 0
  let maxConcurrentJobs = 0
  let switches = 0
  let currentTask: string | null = null

  const initial = options.loaded
    ? checkpoints.find((c) => c.name === options.loaded || c.title === options.loaded)
    : checkpoints[0]
  if (!initial) throw new Error(`the fake has no checkpoint ${options.loaded}`)
  let loaded: Checkpoint = initial
  const opts: Record<string, unknown> = {
    sd_model_checkpoint: loaded.title,
    sd_vae: 'Automatic',
    CLIP_stop_at_last_layers: 1,
    samples_format: 'png',
    face_restoration: false,
    tiling: false,
    img2img_fix_steps: false,
    initial_noise_multiplier: 1.0,
    eta_noise_seed_delta: 0,
    inpainting_mask_weight: 1.0,
    img2img_color_correction: false,
    control_net_unit_count: 3,
    sd_checkpoint_cache: 0,
  }

  /** shared.state */
  const state = {
    skipped: false,
    interrupted: false,
    stopping_generation: false,
    job: '',
    job_count: 0,
    job_timestamp: '0',
    job_no: 0,
    sampling_step: 0,
    sampling_steps: 0,
    time_start: 0,
    textinfo: null as string | null,
  }
  const begin = (job: string) => {
    Object.assign(state, {
      sampling_step: 0,
      time_start: Date.now(),
      job_count: -1,
      job_no: 0,
      job_timestamp: jobTimestamp(),
      skipped: false,
      interrupted: false,
      stopping_generation: false,
      textinfo: null,
      job,
    })
  }
  const end = () => {
    state.job = ''
    state.job_count = 0
  }

  /** sd_models.checkpoint_aliases: title, file name, model name, stem, short hash, sha256. */
  const byAlias = (name: unknown): Checkpoint | undefined => {
    if (typeof name !== 'string') return undefined
    return checkpoints.find((c) =>
      [c.title, c.name, c.model_name, c.name.replace(/\.[^.]+$/, ''), c.hash, c.sha256].includes(name),
    )
  }

  /** sd_models.reload_model_weights: a no-op when those weights are loaded. */
  async function reloadWeights(): Promise<boolean> {
    const target = byAlias(opts.sd_model_checkpoint) ?? loaded
    if (target.title === loaded.title) return false
    log.push(`Loading weights [${target.hash}] from ${target.filename}`)
    await sleep(timings.modelSwitchMs)
    loaded = target
    opts.sd_model_checkpoint = target.title
    switches++
    return true
  }

  /** opts.set(k, v, is_api=True): an unknown setting raises KeyError (500), like data_labels[key]. */
  function setOption(key: string, value: unknown): void {
    if (opts[key] === value) return
    if (!(key in opts)) throw new ApiException(500, 'KeyError', '', `'${key}'`)
    opts[key] = value
  }

  /** sd_samplers.get_sampler_and_scheduler: unknown names fall back silently (with a console warning). */
  function samplerAndScheduler(samplerName: unknown, schedulerName: unknown): { sampler: string; scheduler: string } {
    let name = typeof samplerName === 'string' && samplerName ? samplerName : SAMPLERS[0].name
    let scheduler = SCHEDULERS.find((s) => s.name === schedulerName || s.label === schedulerName) ?? SCHEDULERS[0]
    for (const s of SCHEDULERS) {
      const option = [s.label, s.name, ...(s.aliases ?? [])].find((o) => name.endsWith(` ${o}`))
      if (option) {
        scheduler = s
        name = name.slice(0, -(option.length + 1))
        break
      }
    }
    const sampler = SAMPLERS.find((s) => s.name === name || s.aliases.includes(name))
    if (
      !sampler ||
      (schedulerName && scheduler === SCHEDULERS[0] && schedulerName !== 'Automatic' && schedulerName !== 'automatic')
    ) {
      log.push(
        `Sampler Scheduler autocorrection: "${String(samplerName)}" -> "${(sampler ?? SAMPLERS[0]).name}", "${String(schedulerName)}" -> "${scheduler.label}"`,
      )
    }
    return { sampler: (sampler ?? SAMPLERS[0]).name, scheduler: scheduler.label }
  }

  async function decodeImage(b64: unknown, width: number, height: number) {
    if (typeof b64 !== 'string') throw new ApiException(500, 'HTTPException', 'Invalid encoded image')
    const data = b64.startsWith('data:image/') ? b64.split(';')[1].split(',')[1] : b64
    try {
      return await decodeRgb(Buffer.from(data, 'base64'), width, height)
    } catch {
      throw new ApiException(500, 'HTTPException', 'Invalid encoded image')
    }
  }

  function progressBody() {
    // modules/api/api.py progressapi
    const s = state
    const stateDict = {
      skipped: s.skipped,
      interrupted: s.interrupted,
      stopping_generation: s.stopping_generation,
      job: s.job,
      job_count: s.job_count,
      job_timestamp: s.job_timestamp,
      job_no: s.job_no,
      sampling_step: s.sampling_step,
      sampling_steps: s.sampling_steps,
    }
    if (s.job_count === 0) return { progress: 0, eta_relative: 0, state: stateDict, current_image: null, textinfo: s.textinfo }
    let progress = 0.01
    if (s.job_count > 0) progress += s.job_no / s.job_count
    if (s.sampling_steps > 0) progress += ((1 / s.job_count) * s.sampling_step) / s.sampling_steps
    const elapsed = Math.max(0.001, (Date.now() - s.time_start) / 1000)
    const eta = elapsed / progress
    return {
      progress: Math.min(progress, 1),
      eta_relative: eta - elapsed,
      state: stateDict,
      current_image: null,
      textinfo: s.textinfo,
    }
  }

  function takeFailure(at: 'request' | 'sampling'): InjectedFailure | undefined {
    const i = failures.findIndex((f) => (f.at ?? 'sampling') === at)
    if (i < 0) return undefined
    return failures.splice(i, 1)[0]
  }

  function failureException(f: InjectedFailure): ApiException | { status: number; body: unknown } {
    if (f.body !== undefined) return { status: f.status ?? 500, body: f.body }
    return new ApiException(
      f.status ?? 500,
      'OutOfMemoryError',
      '',
      'CUDA out of memory. Tried to allocate 1.50 GiB. GPU 0 has a total capacity of 23.65 GiB of which 1.02 GiB is free.',
    )
  }

  /** One img2img or txt2img through A1111's steps, inside the queue lock. */
  async function generate(kind: 'img2img' | 'txt2img', values: Json, sent: Set<string>): Promise<Json> {
    const taskId =
      typeof values.force_task_id === 'string' && values.force_task_id
        ? values.force_task_id
        : `task(${kind}-${Math.floor(random() * 1e9).toString(36)})`
    if (kind === 'img2img' && values.init_images === null) throw new ApiException(404, 'HTTPException', 'Init image not found')
    const width = Math.max(64, Number(values.width))
    const height = Math.max(64, Number(values.height))
    const maskB64 = kind === 'img2img' ? values.mask : null
    if (maskB64 !== null && maskB64 !== undefined && maskB64 !== '') await decodeImage(maskB64, 8, 8)
    const alwayson = (values.alwayson_scripts ?? {}) as Json
    let controlnetArgs: unknown[] | null = null
    for (const [name, script] of Object.entries(alwayson)) {
      // api.py get_script: titles match case-insensitively; an unknown one is a 422.
      if (name.toLowerCase() !== 'controlnet' || !controlnet)
        throw new ApiException(422, 'HTTPException', `Script '${name}' not found`)
      const args = (script as Json | null)?.args
      controlnetArgs = Array.isArray(args) ? args : []
    }
    const { sampler, scheduler } = samplerAndScheduler(values.sampler_name ?? values.sampler_index, values.scheduler)
    const injected = takeFailure('request')
    if (injected) throw failureException(injected)

    const release = await queueLock.acquire()
    running++
    maxConcurrentJobs = Math.max(maxConcurrentJobs, running)
    const record: GenerationRecord = {
      taskId,
      job: `scripts_${kind}`,
      checkpoint: loaded.title,
      switched: false,
      sampler,
      scheduler,
      seed: 0,
      samplingSteps: 0,
      stepsDone: 0,
      interrupted: false,
      sent: [...sent],
      controlnet: null,
    }
    generations.push(record)
    begin(`scripts_${kind}`)
    currentTask = taskId
    const override = { ...((values.override_settings as Json | null) ?? {}) }
    const stored = Object.fromEntries(
      Object.keys(override)
        .filter((k) => k in opts)
        .map((k) => [k, opts[k]]),
    )
    try {
      const init = kind === 'img2img' ? await decodeImage((values.init_images as unknown[])[0], width, height) : undefined
      // processing.process_images: an override naming an unknown checkpoint is dropped, the current one stays.
      if ('sd_model_checkpoint' in override && !byAlias(override.sd_model_checkpoint)) {
        log.push(`Checkpoint ${String(override.sd_model_checkpoint)} not found; keeping ${loaded.title}`)
        delete override.sd_model_checkpoint
      }
      for (const [k, v] of Object.entries(override)) {
        setOption(k, v)
        if (k === 'sd_model_checkpoint') record.switched = await reloadWeights()
      }
      record.checkpoint = loaded.title
      const seed = Number(values.seed) === -1 ? Math.floor(random() * 4294967294) : Number(values.seed)
      record.seed = seed
      const steps = Math.max(1, Number(values.steps))
      const denoise = Number(values.denoising_strength ?? 0.75)
      const samplingSteps =
        kind === 'img2img' && !opts.img2img_fix_steps ? Math.trunc(Math.min(denoise, 0.999) * steps) + 1 : steps
      record.samplingSteps = samplingSteps

      const cn = controlnetArgs ? runControlnet(controlnetArgs, controlnet!) : null
      record.controlnet = cn
      if (cn?.error) log.push(cn.error)

      state.job_count = Number(values.n_iter ?? 1)
      await sleep(timings.overheadMs)
      const images: string[] = []
      // process_images_inner: an interrupt before sampling (during a checkpoint load) yields no image.
      if (!state.interrupted) {
        state.sampling_steps = samplingSteps
        const failAt = timings.failureRate > 0 && random() < timings.failureRate ? Math.floor(samplingSteps / 2) : -1
        for (let i = 0; i < samplingSteps; i++) {
          if (state.interrupted) break
          state.sampling_step = i
          await sleep(timings.stepMs)
          record.stepsDone = i + 1
          if (i === failAt) throw failureException({})
          if (i === 0) {
            const f = takeFailure('sampling')
            if (f) throw failureException(f)
          }
        }
        record.interrupted = state.interrupted
        const base = init ?? { data: Buffer.alloc(width * height * 3, 127), width, height }
        const rgb = await paint(base, {
          width,
          height,
          seed,
          prompt: String(values.prompt ?? ''),
          checkpoint: loaded.title,
          denoise: kind === 'img2img' ? denoise : 1,
          done: record.stepsDone / samplingSteps,
          mask:
            typeof maskB64 === 'string' && maskB64
              ? {
                  png: Buffer.from(maskB64.replace(/^data:image\/[^,]+,/, ''), 'base64'),
                  invert: Number(values.inpainting_mask_invert) === 1,
                  blurX: Number(values.mask_blur ?? values.mask_blur_x ?? 4),
                  blurY: Number(values.mask_blur ?? values.mask_blur_y ?? 4),
                  round: values.mask_round !== false,
                  fill: Number(values.inpainting_fill ?? 0),
                }
              : undefined,
        })
        if (values.send_images !== false) {
          images.push(await encodePng(rgb, width, height))
          // scripts/controlnet.py postprocess: detected maps go after the results unless save_detected_map is false.
          if (cn?.applied)
            for (const unit of cn.units)
              if (unit.save_detected_map || controlnet!.alwaysAppendMaps) images.push(await detectedMap(base))
        }
      } else {
        record.interrupted = true
      }
      const info = {
        prompt: values.prompt,
        all_prompts: [values.prompt],
        negative_prompt: values.negative_prompt,
        all_negative_prompts: [values.negative_prompt],
        seed,
        all_seeds: [seed],
        subseed: values.subseed,
        all_subseeds: [values.subseed],
        subseed_strength: values.subseed_strength,
        width,
        height,
        sampler_name: sampler,
        cfg_scale: values.cfg_scale,
        steps,
        batch_size: values.batch_size,
        restore_faces: values.restore_faces ?? opts.face_restoration,
        face_restoration_model: null,
        sd_model_name: loaded.name
          .replace(/\.[^.]+$/, '')
          .split('/')
          .pop(),
        sd_model_hash: loaded.hash,
        sd_vae_name: null,
        sd_vae_hash: null,
        seed_resize_from_w: values.seed_resize_from_w,
        seed_resize_from_h: values.seed_resize_from_h,
        denoising_strength: kind === 'img2img' ? denoise : null,
        extra_generation_params: {
          'Schedule type': scheduler,
          ...(kind === 'img2img' ? { 'Mask blur': values.mask_blur ?? 4 } : {}),
          ...(cn?.infotext ?? {}),
        },
        index_of_first_image: 0,
        infotexts: images.length > 0 ? [`${String(values.prompt)}\nSteps: ${steps}, Sampler: ${sampler}, Seed: ${seed}`] : [],
        styles: values.styles ?? [],
        job_timestamp: state.job_timestamp,
        clip_skip: opts.CLIP_stop_at_last_layers,
        is_using_inpainting_conditioning: false,
        version: 'v1.10.1',
      }
      const parameters = { ...values }
      if (!values.include_init_images) {
        parameters.init_images = null
        parameters.mask = null
      }
      return { images, parameters, info: JSON.stringify(info) }
    } finally {
      if (values.override_settings_restore_afterwards !== false) {
        // why no reload: A1111 restores the option's value only; the weights stay loaded.
        for (const [k, v] of Object.entries(stored)) opts[k] = v
      }
      if (currentTask === taskId) currentTask = null
      end()
      running--
      release()
    }
  }

  async function generationRoute(kind: 'img2img' | 'txt2img', raw: string, res: http.ServerResponse) {
    inFlight++
    maxConcurrentRequests = Math.max(maxConcurrentRequests, inFlight)
    try {
      const validated = validateBody(raw, kind === 'img2img' ? IMG2IMG_FIELDS : TXT2IMG_FIELDS, pydantic)
      if (!validated.ok) return sendJson(res, 422, { detail: validated.detail })
      const body = await generate(kind, validated.values, validated.sent)
      sendJson(res, 200, body)
    } catch (e) {
      if (e instanceof ApiException) return apiError(res, e.status, e.error, e.detail, e.errors)
      if (e && typeof e === 'object' && 'status' in e && 'body' in e) {
        return sendJson(res, (e as { status: number }).status, (e as { body: unknown }).body)
      }
      throw e
    } finally {
      inFlight--
    }
  }

  function authorized(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    if (!options.auth) return true
    const header = req.headers.authorization
    const challenge = { 'WWW-Authenticate': 'Basic' }
    if (!header?.startsWith('Basic ')) {
      apiError(res, 401, 'HTTPException', 'Not authenticated', '', challenge)
      return false
    }
    const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')
    if (user !== options.auth.username || rest.join(':') !== options.auth.password) {
      apiError(res, 401, 'HTTPException', 'Incorrect username or password', '', challenge)
      return false
    }
    return true
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    const path = url.pathname
    const method = req.method ?? 'GET'
    const record: RecordedRequest = { method, path, query: Object.fromEntries(url.searchParams) }
    requests.push(record)
    const raw = method === 'POST' ? await readBody(req) : ''
    if (raw) {
      try {
        record.json = JSON.parse(raw)
      } catch {
        record.json = undefined
      }
    }
    if (timings.httpLatencyMs > 0) await sleep(timings.httpLatencyMs)
    res.on('finish', () => (record.status = res.statusCode))

    if (method === 'GET' && path === '/internal/ping') return sendJson(res, 200, {})
    if (path.startsWith('/controlnet/')) {
      // The extension registers its routes with app.get: no --api-auth on them.
      if (!controlnet) return sendJson(res, 404, { detail: 'Not Found' })
      if (method === 'GET' && path === '/controlnet/version') return sendJson(res, 200, { version: 2 })
      if (method === 'GET' && path === '/controlnet/model_list') return sendJson(res, 200, { model_list: controlnet.models })
      if (method === 'GET' && path === '/controlnet/module_list') {
        return sendJson(res, 200, {
          module_list: controlnet.modules,
          module_detail: Object.fromEntries(controlnet.modules.map((m) => [m, { model_free: false, sliders: [] }])),
        })
      }
      if (method === 'GET' && path === '/controlnet/settings')
        return sendJson(res, 200, { control_net_unit_count: opts.control_net_unit_count })
      return sendJson(res, 404, { detail: 'Not Found' })
    }
    if (!path.startsWith('/sdapi/v1/')) return sendJson(res, 404, { detail: 'Not Found' })
    if (!authorized(req, res)) return

    if (method === 'POST' && path === '/sdapi/v1/img2img') return generationRoute('img2img', raw, res)
    if (method === 'POST' && path === '/sdapi/v1/txt2img') return generationRoute('txt2img', raw, res)
    if (method === 'GET' && path === '/sdapi/v1/progress') return sendJson(res, 200, progressBody())
    if (method === 'POST' && path === '/sdapi/v1/interrupt') {
      interrupts.push({ job: state.job, taskId: currentTask })
      state.interrupted = true
      return sendJson(res, 200, {})
    }
    if (method === 'POST' && path === '/sdapi/v1/skip') {
      state.skipped = true
      return sendJson(res, 200, null)
    }
    if (method === 'GET' && path === '/sdapi/v1/options') return sendJson(res, 200, opts)
    if (method === 'POST' && path === '/sdapi/v1/options') {
      const body = record.json
      if (!body || typeof body !== 'object' || Array.isArray(body)) {
        return sendJson(res, 422, {
          detail: [
            pydantic === 1
              ? { loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }
              : { type: 'dict_type', loc: ['body'], msg: 'Input should be a valid dictionary', input: body },
          ],
        })
      }
      const values = body as Json
      // api.py set_config: an unknown checkpoint is a RuntimeError (500), checked before anything is set.
      if ('sd_model_checkpoint' in values && !byAlias(values.sd_model_checkpoint)) {
        return apiError(
          res,
          500,
          'RuntimeError',
          '',
          `model ${JSON.stringify(values.sd_model_checkpoint).replaceAll('"', "'")} not found`,
        )
      }
      try {
        for (const [k, v] of Object.entries(values)) {
          setOption(k, v)
          if (k === 'sd_model_checkpoint') {
            // The option's onchange is a queued call: it waits for the running generation.
            const release = await queueLock.acquire()
            try {
              await reloadWeights()
            } finally {
              release()
            }
          }
        }
      } catch (e) {
        if (e instanceof ApiException) return apiError(res, e.status, e.error, e.detail, e.errors)
        throw e
      }
      return sendJson(res, 200, null)
    }
    if (method === 'GET' && path === '/sdapi/v1/sd-models') {
      return sendJson(
        res,
        200,
        checkpoints.map((c) => ({
          title: c.title,
          model_name: c.model_name,
          hash: c.hash,
          sha256: c.sha256,
          filename: c.filename,
          config: null,
        })),
      )
    }
    if (method === 'GET' && path === '/sdapi/v1/samplers') return sendJson(res, 200, SAMPLERS)
    if (method === 'GET' && path === '/sdapi/v1/schedulers') {
      return sendJson(
        res,
        200,
        SCHEDULERS.map((s) => ({
          ...s,
          default_rho: s.name === 'polyexponential' ? 1 : -1,
          need_inner_model: s.name === 'kl_optimal',
        })),
      )
    }
    sendJson(res, 404, { detail: 'Not Found' })
  }

  let garbage: GarbageKind | null = null
  const server = http.createServer((req, res) => {
    if (garbage) return void answerGarbage(req, res, garbage)
    route(req, res).catch((e: unknown) => {
      if (!res.headersSent) apiError(res, 500, (e as Error).name || 'Exception', '', String((e as Error).message ?? e))
      else res.destroy()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    generations,
    get maxConcurrentRequests() {
      return maxConcurrentRequests
    },
    get maxConcurrentJobs() {
      return maxConcurrentJobs
    },
    get switches() {
      return switches
    },
    interrupts,
    log,
    options: () => ({ ...opts }),
    loadedCheckpoint: () => loaded.title,
    configure(partial) {
      Object.assign(timings, partial)
    },
    failNext(failure = {}) {
      failures.push(failure)
    },
    answerGarbage(kind) {
      garbage = kind
    },
    async runOutsideJob(opts2 = {}) {
      const release = await queueLock.acquire()
      running++
      maxConcurrentJobs = Math.max(maxConcurrentJobs, running)
      const taskId = `task(${Math.floor(random() * 1e9).toString(36)})`
      // The UI's wrap_gradio_gpu_call begins the job under its task id.
      begin(taskId)
      currentTask = taskId
      try {
        const steps = opts2.steps ?? 10
        state.job_count = 1
        state.sampling_steps = steps
        for (let i = 0; i < steps && !state.interrupted; i++) {
          state.sampling_step = i
          await sleep(timings.stepMs)
        }
      } finally {
        currentTask = null
        end()
        running--
        release()
      }
    },
    async close() {
      failures = []
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
