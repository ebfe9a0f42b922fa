import { randomUUID } from 'node:crypto'
import { posix } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { AppError, isAppError } from '#app/lib/errors.ts'
import { reasonOf } from '../failure.server.ts'
import { logger } from '#app/lib/logger.server.ts'
import { findProductMask } from '#app/modules/imaging/mask.server.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import type { Operation } from '#app/modules/looks/schema.ts'
import { modelKey } from '../model-key.ts'
import type { Backend, BackendCapabilities, RenderControls, RenderRequest, RenderResult } from '../types.ts'
import {
  inpaintingFills,
  type ControlnetUnit,
  type Img2imgRequest,
  type Progress,
  type Sampler,
  type Scheduler,
  type SdModel,
} from './api.ts'
import {
  abortedError,
  createSdwebuiClient,
  splitCredentials,
  type Generation,
  type SdwebuiClient,
  type SdwebuiClientOptions,
} from './client.server.ts'
import { decodeResult, resizedRaw } from '../frame.server.ts'
import { layOut, repaintMaskPng, rgbPng } from './frame.server.ts'
import { serverLock } from './lock.ts'
import {
  INPAINTING_FILL,
  MODEL_SWAP_POSE_UNIT,
  PINNED_SETTINGS,
  moduleThresholds,
  personaSettings,
  sceneSettings,
  sdwebuiSceneSectionSchema,
  type ControlnetUnitSettings,
  type SdwebuiPersonaSettings,
  type SdwebuiSceneSettings,
} from './settings.ts'

// An SD WebUI (AUTOMATIC1111 or Forge, started with --api) server as a
// Backend. Per render: find the product's keep mask, lay the frame out
// (frame.server.ts), shrink it to the checkpoint's work frame, and send ONE
// img2img inpainting request with every parameter spelled out, the repaint
// mask (white = repaint: our keep mask inverted) and the ControlNet units.
// The product's place is known exactly (`placement`), and the worker puts
// the merchant's own pixels back (the result is not `protected`).
//
// The server does one generation at a time and its progress and interrupt
// are global, so renders take turns per server (lock.ts); across processes
// the scheduler gives each SD WebUI backend one slot. Progress comes from
// polling GET /sdapi/v1/progress, trusted only while our request is in flight
// and the server says an API img2img job runs. The checkpoint is named in
// every request (override_settings, kept afterwards): SD WebUI reloads it only
// when it differs from the loaded one, which `loadedModel()` reports so a
// scheduler can keep jobs on the server that already has their checkpoint.

export const SDWEBUI_OPERATIONS: Operation[] = ['scene_swap', 'model_swap', 'product_scene']
/** shared.state.job of a generation sent to /sdapi/v1/img2img (api.py begins its job under this name). */
export const API_IMG2IMG_JOB = 'scripts_img2img'
/** Bump on any change here that alters pixels; renders record `sdwebui-<operation>@<version>`. */
export const SDWEBUI_WORKFLOW_VERSION = 1

export interface SdwebuiBackendOptions {
  /** Base URL of the server; `user:pass@` for --api-auth. */
  url: string
  /** Backend id (default: derived from the URL, stable across restarts). */
  id?: string
  /** Largest output edge offered. */
  maxEdge?: number
  client?: Omit<SdwebuiClientOptions, 'baseUrl'>
  /** How often GET /sdapi/v1/progress is polled while our generation is in flight. */
  pollIntervalMs?: number
  /** After an interrupt, how long the server may take to answer before we give up on it and free the server for the next render. */
  interruptGraceMs?: number
  /** How long the server's lists (checkpoints, samplers, ControlNet models) are trusted. */
  inventoryTtlMs?: number
}

export interface SdwebuiBackend extends Backend {
  readonly client: SdwebuiClient
  /**
   * The scheduler's model key (backends/model-key.ts) of the last
   * render, while the server still has that render's checkpoint loaded;
   * undefined when unknown or when the checkpoint changed since.
   */
  loadedModel(): string | undefined
  /** The checkpoint the server has loaded, as a file name without its `[hash]`; undefined until known. */
  loadedCheckpoint(): string | undefined
  close(): Promise<void>
}

/** Backend id for a server URL, e.g. `sdwebui-gpu-1-7860`: stable, so retries of a render find the same server. */
export function sdwebuiBackendId(url: string): string {
  const u = new URL(splitCredentials(url).baseUrl)
  const port = u.port || (u.protocol === 'https:' ? '443' : '80')
  const path = u.pathname.replace(/\/+$/, '')
  return `sdwebui-${u.hostname}-${port}${path}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/-+$/, '')
}

/** A checkpoint title without its `[shorthash]` (the server adds it once the file is hashed). */
export function checkpointName(title: string): string {
  return title.replace(/\s+\[[0-9a-f]{8,64}\]$/i, '')
}

const stem = (name: string) => name.replace(/\.(safetensors|ckpt|pt|pth|bin|gguf)$/i, '')

/** The server's entry for a checkpoint named by a look (title, file name or model name; with or without hash). */
export function findCheckpoint(models: readonly SdModel[], wanted: string): SdModel | undefined {
  const name = checkpointName(wanted)
  return (
    models.find((m) => checkpointName(m.title) === name) ??
    models.find(
      (m) =>
        posix.basename(m.filename.replaceAll('\\', '/')) === name ||
        stem(checkpointName(m.title)) === stem(name) ||
        m.model_name === stem(name),
    )
  )
}

/** Whether `info.sd_model_name` (the file's stem) names this checkpoint. */
function renderedWith(model: SdModel, infoName: string): boolean {
  const file = posix.basename(model.filename.replaceAll('\\', '/'))
  return infoName === stem(file) || infoName === model.model_name || infoName === stem(checkpointName(model.title))
}

/** A ControlNet model named without its hash, found in `name [hash]` form. */
function findControlnetModel(list: readonly string[], wanted: string): string | undefined {
  const name = checkpointName(wanted).toLowerCase()
  return list.find((m) => m === wanted) ?? list.find((m) => checkpointName(m).toLowerCase() === name)
}

interface Inventory {
  at: number
  checkpoints: SdModel[]
  samplers: Sampler[]
  /** null before v1.9 (schedulers were part of sampler names). */
  schedulers: Scheduler[] | null
  /** null without the ControlNet extension. */
  controlnetModels: string[] | null
  controlnetModules: string[] | null
}

/** What one render needs, in the names this server uses. */
interface Resolved {
  checkpoint: SdModel
  sampler: string
  scheduler: string
  units: ControlnetUnit[]
}

export interface PayloadInput {
  canvasPng: Buffer
  maskPng: Buffer
  work: { width: number; height: number }
  seed: number
  prompt: string
  negativePrompt: string
  denoise: number
  scene: SdwebuiSceneSettings
  resolved: Resolved
  taskId: string
}

/**
 * The img2img body, every field explicit. why each unusual value:
 * `inpaint_full_res: false` works on the whole picture (the API defaults to
 * "Only masked"); `inpainting_mask_invert: 0` because the mask we send is
 * already white = repaint; `override_settings_restore_afterwards: false`
 * keeps the checkpoint loaded (restoring it would make the server's options
 * say a model is loaded that is not); `save_images: false` leaves no files
 * on the server.
 */
export function img2imgPayload(input: PayloadInput): Img2imgRequest {
  const { scene, resolved, work } = input
  return {
    init_images: [input.canvasPng.toString('base64')],
    mask: input.maskPng.toString('base64'),
    resize_mode: 0,
    prompt: input.prompt,
    negative_prompt: input.negativePrompt,
    styles: [],
    seed: input.seed,
    subseed: -1,
    subseed_strength: 0,
    seed_resize_from_h: -1,
    seed_resize_from_w: -1,
    sampler_name: resolved.sampler,
    scheduler: resolved.scheduler,
    steps: scene.steps,
    cfg_scale: scene.cfg_scale,
    denoising_strength: input.denoise,
    width: work.width,
    height: work.height,
    batch_size: 1,
    n_iter: 1,
    restore_faces: false,
    tiling: false,
    mask_blur: scene.maskBlur,
    mask_blur_x: scene.maskBlur,
    mask_blur_y: scene.maskBlur,
    mask_round: true,
    inpainting_fill: inpaintingFills[INPAINTING_FILL],
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
    override_settings: { sd_model_checkpoint: resolved.checkpoint.title, ...PINNED_SETTINGS },
    override_settings_restore_afterwards: false,
    force_task_id: input.taskId,
    alwayson_scripts: resolved.units.length > 0 ? { controlnet: { args: resolved.units } } : {},
  }
}

function unitFor(
  settings: ControlnetUnitSettings,
  model: string,
  image: string,
  work: { width: number; height: number },
): ControlnetUnit {
  return {
    enabled: true,
    module: settings.module,
    model,
    weight: settings.weight,
    image,
    // why Just Resize: the image is already the work frame, so nothing is cropped or padded.
    resize_mode: 'Just Resize',
    low_vram: false,
    processor_res: Math.min(work.width, work.height),
    ...moduleThresholds(settings.module),
    guidance_start: 0,
    guidance_end: 1,
    pixel_perfect: true,
    control_mode: settings.control_mode,
    save_detected_map: false,
  }
}

function safeName(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 48)
}

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortedError(signal.reason)
}

function decodeBase64Image(b64: string): Buffer {
  // why: some proxies and forks answer data URIs; api.py itself sends bare base64.
  const comma = b64.startsWith('data:') ? b64.indexOf(',') : -1
  return Buffer.from(comma >= 0 ? b64.slice(comma + 1) : b64, 'base64')
}

/** Progress as the merchant sees it: preparing 0–12 %, sampling 15–90 %, the result 90–100 %. */
function progressReporter(controls: RenderControls) {
  let last = 0
  return (percent: number, message: string) => {
    const p = Math.max(last, Math.min(100, percent))
    last = p
    Promise.resolve(controls.onProgress(p, message)).catch((e: unknown) =>
      logger().warn({ reason: (e as Error).message }, 'writing render progress failed'),
    )
  }
}

export function createSdwebuiBackend(opts: SdwebuiBackendOptions): SdwebuiBackend {
  const client = createSdwebuiClient({ ...opts.client, baseUrl: opts.url })
  const { baseUrl } = client
  const lock = serverLock(baseUrl)
  const pollIntervalMs = opts.pollIntervalMs ?? 1000
  const interruptGraceMs = opts.interruptGraceMs ?? 60_000
  const inventoryTtlMs = opts.inventoryTtlMs ?? 5 * 60_000
  const log = () => logger().child({ backend: baseUrl })
  const lookCheckpoints = [
    ...new Set(
      scenes.flatMap((s) => {
        const parsed = sdwebuiSceneSectionSchema.safeParse(s.backends.sdwebui)
        return parsed.success ? [parsed.data.checkpoint] : []
      }),
    ),
  ]
  const capabilities: BackendCapabilities = {
    type: 'sdwebui',
    operations: SDWEBUI_OPERATIONS,
    personas: true,
    maxEdge: opts.maxEdge ?? 2048,
    garmentMaskFor: ['model_swap'],
    // why one: the server renders one image at a time (see lock.ts).
    slots: 1,
    // Until the server's list is read: the checkpoints Atelier's looks name.
    models: lookCheckpoints,
  }
  /** The loaded checkpoint (name without hash); null = ask the server before the next render. */
  let loaded: string | null = null
  /** The model key of the last render that succeeded, and the checkpoint it ran on. */
  let lastRender: { key: string; checkpoint: string } | undefined
  let inventory: Promise<Inventory> | undefined
  let closed = false

  // ------------------------------------------------------------ the server's lists

  async function fetchInventory(signal?: AbortSignal): Promise<Inventory> {
    const [checkpoints, samplers, schedulers, controlnetModels, controlnetModules] = await Promise.all([
      client.sdModels(signal),
      client.samplers(signal),
      client.schedulers(signal),
      client.controlnetModels(signal),
      client.controlnetModules(signal),
    ])
    capabilities.models = checkpoints.map((m) => checkpointName(m.title))
    return { at: Date.now(), checkpoints, samplers, schedulers, controlnetModels, controlnetModules }
  }

  function currentInventory(signal?: AbortSignal, maxAgeMs = inventoryTtlMs): Promise<Inventory> {
    const cached = inventory
    const fresh = cached?.then((inv) => Date.now() - inv.at <= maxAgeMs)
    const reload = () => {
      const next = fetchInventory(signal)
      inventory = next
      // why: a failed read must not be cached (the server may be starting).
      next.catch(() => {
        if (inventory === next) inventory = undefined
      })
      return next
    }
    if (!cached || !fresh) return reload()
    return fresh.then((ok) => (ok ? cached : reload()), reload)
  }

  function missing(what: string, details: Record<string, unknown>): AppError {
    return new AppError('BACKEND_FAILED', `The SD WebUI server at ${baseUrl} ${what}.`, {
      retryable: false,
      details: { backend: baseUrl, ...details },
    })
  }

  /** Names on this server for what the look asks, or a clear error; a miss re-reads the lists once (files may have been added). */
  async function resolve(
    scene: SdwebuiSceneSettings,
    units: ControlnetUnitSettings[],
    image: string,
    work: { width: number; height: number },
    signal: AbortSignal,
  ): Promise<Resolved> {
    let inv = await currentInventory(signal)
    const attempt = (): Resolved | AppError => {
      const checkpoint = findCheckpoint(inv.checkpoints, scene.checkpoint)
      if (!checkpoint) {
        return missing(
          `has no checkpoint "${scene.checkpoint}" (it has: ${inv.checkpoints.map((m) => m.title).join(', ') || 'none'})`,
          {
            checkpoint: scene.checkpoint,
          },
        )
      }
      let sampler = inv.samplers.find((s) => s.name === scene.sampler_name || s.aliases.includes(scene.sampler_name))
      let scheduler = scene.scheduler
      if (inv.schedulers === null) {
        // Before v1.9 the schedule was part of the sampler's name ("DPM++ 2M Karras").
        const combined = `${scene.sampler_name} ${scene.scheduler}`
        sampler = inv.samplers.find((s) => s.name === combined || s.aliases.includes(combined)) ?? sampler
      } else {
        const found = inv.schedulers.find(
          (s) => s.label === scene.scheduler || s.name === scene.scheduler || s.aliases?.includes(scene.scheduler),
        )
        if (!found) return missing(`has no scheduler "${scene.scheduler}"`, { scheduler: scene.scheduler })
        scheduler = found.label
      }
      // why refuse: SD WebUI silently swaps an unknown sampler for its default.
      if (!sampler) return missing(`has no sampler "${scene.sampler_name}"`, { sampler: scene.sampler_name })
      const resolvedUnits: ControlnetUnit[] = []
      if (units.length > 0) {
        if (inv.controlnetModels === null || inv.controlnetModules === null) {
          return missing('has no ControlNet extension (sd-webui-controlnet, or Forge’s built-in one)', {})
        }
        for (const unit of units) {
          // why refuse here: SD WebUI logs a broken ControlNet unit and renders without it.
          if (!inv.controlnetModules.includes(unit.module)) {
            return missing(`has no ControlNet preprocessor "${unit.module}"`, { controlnetModule: unit.module })
          }
          const model = findControlnetModel(inv.controlnetModels, unit.model)
          if (!model) return missing(`has no ControlNet model "${unit.model}"`, { controlnetModel: unit.model })
          resolvedUnits.push(unitFor(unit, model, image, work))
        }
      }
      return { checkpoint, sampler: sampler.name, scheduler, units: resolvedUnits }
    }
    let result = attempt()
    if (result instanceof AppError && Date.now() - inv.at > 10_000) {
      inv = await currentInventory(signal, 0)
      result = attempt()
    }
    if (result instanceof AppError) throw result
    return result
  }

  // ------------------------------------------------------------ one generation

  /** The server's job is an API img2img (under our lock and one slot per server, ours). */
  const apiJobRuns = (p: Progress) => p.state.job === API_IMG2IMG_JOB && p.state.job_count !== 0

  async function readLoaded(signal: AbortSignal): Promise<string | null> {
    const options = await client.options(signal)
    return options.sd_model_checkpoint ? checkpointName(options.sd_model_checkpoint) : null
  }

  interface Watch {
    /** state.job_timestamp of our job, once a poll saw it run. */
    jobTimestamp?: string
    interrupted: boolean
    stop(): void
  }

  /** Polls the server's global progress while our request is in flight and reports what is ours. */
  function watchProgress(report: (percent: number, message: string) => void, switching: string | null): Watch {
    let timer: ReturnType<typeof setTimeout> | undefined
    let stopped = false
    const watch: Watch = {
      interrupted: false,
      stop() {
        stopped = true
        clearTimeout(timer)
      },
    }
    const seen = (p: Progress) => {
      if (!apiJobRuns(p)) {
        // A job from the server's own UI runs first; ours waits inside the server.
        if (p.state.job_count !== 0) report(13, 'SD WebUI is finishing another job first')
        return
      }
      watch.jobTimestamp = p.state.job_timestamp
      if (p.state.interrupted) watch.interrupted = true
      const { sampling_step: step, sampling_steps: steps } = p.state
      if (p.state.job_count < 0 || steps <= 0)
        return report(14, switching ? `SD WebUI: loading ${switching}` : 'SD WebUI: preparing')
      const eta = p.eta_relative > 0 && Number.isFinite(p.eta_relative) ? `, about ${Math.ceil(p.eta_relative)} s left` : ''
      report(15 + 75 * Math.min(1, Math.max(0, p.progress)), `SD WebUI: step ${Math.min(steps, step + 1)} of ${steps}${eta}`)
    }
    const tick = async () => {
      if (stopped) return
      try {
        const p = await client.progress(AbortSignal.timeout(Math.max(1000, Math.min(5000, pollIntervalMs * 5))))
        if (!stopped) seen(p)
      } catch (e) {
        log().debug({ reason: (e as Error).message }, 'SD WebUI progress poll failed')
      }
      if (!stopped) timer = setTimeout(() => void tick(), pollIntervalMs)
    }
    timer = setTimeout(() => void tick(), Math.min(pollIntervalMs, 250))
    return watch
  }

  /**
   * After the caller gave up: interrupt our job as soon as it is the one
   * running (never someone else's), then free the server once our request
   * has answered, or after `interruptGraceMs` at the latest. The first
   * attempt is awaited, so the interrupt has gone out when render() rejects.
   */
  async function stopOnServer(
    inFlight: { settled: boolean; done: Promise<void> },
    hardStop: AbortController,
    release: () => void,
  ) {
    const deadline = Date.now() + interruptGraceMs
    const attempt = async (): Promise<boolean> => {
      if (inFlight.settled) return true
      const p = await client.progress(AbortSignal.timeout(5000)).catch(() => undefined)
      if (inFlight.settled) return true
      if (!p || !apiJobRuns(p)) return false
      await client.interrupt().catch((e: unknown) => log().warn({ reason: (e as Error).message }, 'SD WebUI interrupt failed'))
      return true
    }
    const first = await attempt()
    void (async () => {
      let done = first
      while (!done && !inFlight.settled && Date.now() < deadline) {
        await sleep(pollIntervalMs)
        done = await attempt()
      }
      await Promise.race([inFlight.done, sleep(Math.max(0, deadline - Date.now()), undefined, { ref: false })])
      if (!inFlight.settled) {
        log().warn({ graceMs: interruptGraceMs }, 'SD WebUI did not answer an interrupted request; freeing the server anyway')
        hardStop.abort(new Error('interrupted request abandoned'))
      }
    })()
      .catch((e: unknown) => log().warn({ reason: (e as Error).message }, 'stopping an SD WebUI job failed'))
      .finally(release)
  }

  async function generate(
    body: Img2imgRequest,
    checkpoint: SdModel,
    report: (percent: number, message: string) => void,
    signal: AbortSignal,
  ): Promise<{ generation: Generation; switched: boolean; interrupted: boolean }> {
    if (lock.held) report(10, 'waiting for the SD WebUI server (it renders one image at a time)')
    const release = await lock.acquire(signal).catch(() => {
      throw abortedError(signal.reason)
    })
    let releaseLater = false
    try {
      checkAborted(signal)
      const wanted = checkpointName(checkpoint.title)
      loaded ??= await readLoaded(signal)
      const switching = loaded === wanted ? null : wanted
      report(12, switching ? `SD WebUI: loading ${wanted}` : 'SD WebUI: starting')

      // why not the caller's signal: dropping the connection does not stop the
      // server; only an interrupt does, and it must reach our job, not the next.
      const hardStop = new AbortController()
      const sent = client.img2img(body, hardStop.signal)
      const inFlight = { settled: false, done: Promise.resolve() }
      const settle = () => {
        inFlight.settled = true
      }
      inFlight.done = sent.then(settle, settle)
      const watch = watchProgress(report, switching)
      let onAbort: (() => void) | undefined
      const abandoned = new Promise<never>((_, reject) => {
        onAbort = () => reject(abortedError(signal.reason))
        signal.addEventListener('abort', onAbort, { once: true })
        if (signal.aborted) onAbort()
      })
      abandoned.catch(() => undefined)
      try {
        const generation = await Promise.race([sent, abandoned])
        let interrupted = watch.interrupted
        if (!interrupted && watch.jobTimestamp) {
          // The server keeps `interrupted` until its next job: one look tells whether someone stopped ours.
          const after = await client.progress(AbortSignal.timeout(5000)).catch(() => undefined)
          interrupted = after?.state.job_timestamp === watch.jobTimestamp && after.state.interrupted
        }
        return { generation, switched: switching !== null, interrupted }
      } catch (e) {
        loaded = null
        if (signal.aborted) {
          releaseLater = true
          await stopOnServer(inFlight, hardStop, release)
          throw abortedError(signal.reason)
        }
        throw e
      } finally {
        watch.stop()
        if (onAbort) signal.removeEventListener('abort', onAbort)
      }
    } finally {
      if (!releaseLater) release()
    }
  }

  // ------------------------------------------------------------ render

  async function render(request: RenderRequest, controls: RenderControls): Promise<RenderResult> {
    const started = performance.now()
    const { signal } = controls
    checkAborted(signal)
    if (closed) throw new AppError('BACKEND_UNAVAILABLE', `The SD WebUI backend for ${baseUrl} is closed`, { retryable: true })
    const { operation, output } = request
    if (!SDWEBUI_OPERATIONS.includes(operation)) {
      throw new AppError('BACKEND_NEEDS_GPU', `SD WebUI here can't do "${operation}".`, {
        details: { operation, backend: baseUrl },
      })
    }
    if (operation === 'model_swap' && !request.persona) {
      throw new AppError('INVALID_INPUT', 'A model change on SD WebUI needs a model persona.', { details: { operation } })
    }
    if (operation !== 'model_swap' && request.persona) {
      throw new AppError('INVALID_INPUT', `"${operation}" keeps the photo's model; choose a model change to use a persona.`, {
        details: { operation, persona: request.persona.id },
      })
    }
    if (operation === 'model_swap' && !request.mask) {
      throw new AppError(
        'GARMENT_MASK_REQUIRED',
        'Draw a mask over the garment in the studio: only the garment is kept when the model changes.',
        { details: { operation } },
      )
    }
    if (output.width > capabilities.maxEdge || output.height > capabilities.maxEdge || output.width < 8 || output.height < 8) {
      throw new AppError(
        'INVALID_INPUT',
        `Output size ${output.width} × ${output.height} is outside 8–${capabilities.maxEdge} px.`,
      )
    }
    const scene = sceneSettings(request.scene)
    const persona: SdwebuiPersonaSettings | undefined = operation === 'model_swap' ? personaSettings(request.persona!) : undefined
    const report = progressReporter(controls)
    const workflow = `sdwebui-${operation}@${SDWEBUI_WORKFLOW_VERSION}`

    report(2, 'finding the product')
    const found = await findProductMask(request.source, request.mask)
    checkAborted(signal)
    report(5, 'laying out the frame')
    const layout = await layOut(request, found, scene.workEdge)
    controls.onFramed?.({ sourceMask: found.mask, placement: layout.placement, width: request.output.width, height: request.output.height })
    const [workCanvas, workKeep] = await Promise.all([
      resizedRaw(layout.canvas, layout.work, 'lanczos3'),
      resizedRaw(layout.keep, layout.work, 'linear'),
    ])
    // why not for model swaps: the worker puts the product's own pixels back only where the geometry is
    // the photo's (scene swap, product in scene); a model swap keeps SD WebUI's garment edge as it is.
    const grow = operation === 'model_swap' ? 0 : scene.maskBlur
    const [canvasPng, maskPng] = await Promise.all([rgbPng(workCanvas), repaintMaskPng(workKeep, grow)])
    checkAborted(signal)

    report(8, 'checking the SD WebUI server')
    const units = persona ? [{ ...MODEL_SWAP_POSE_UNIT, weight: persona.poseWeight }] : scene.controlnet
    const canvasB64 = canvasPng.toString('base64')
    const resolved = await resolve(scene, units, canvasB64, layout.work, signal)
    checkAborted(signal)

    const taskId = `atelier-${safeName(request.renderId)}-${randomUUID().slice(0, 8)}`
    const body = img2imgPayload({
      canvasPng,
      maskPng,
      work: layout.work,
      seed: Math.abs(Math.trunc(request.seed)),
      prompt: persona ? `${persona.prompt}, wearing the garment, ${scene.prompt}` : scene.prompt,
      negativePrompt: [scene.negative_prompt, persona?.negative_prompt].filter(Boolean).join(', '),
      denoise: persona ? persona.denoise : operation === 'product_scene' ? scene.productSceneDenoise : scene.denoising_strength,
      scene,
      resolved,
      taskId,
    })
    const { generation, switched, interrupted } = await generate(body, resolved.checkpoint, report, signal)
    checkAborted(signal)

    const { info } = generation
    const wanted = checkpointName(resolved.checkpoint.title)
    if (info.sd_model_name && !renderedWith(resolved.checkpoint, info.sd_model_name)) {
      loaded = null
      throw new AppError('BACKEND_FAILED', `SD WebUI rendered with "${info.sd_model_name}" instead of "${wanted}".`, {
        retryable: false,
        details: { backend: baseUrl, taskId, wanted, renderedWith: info.sd_model_name },
      })
    }
    loaded = wanted
    lastRender = { key: modelKey({ operation, sceneId: request.scene.id }), checkpoint: wanted }
    if (interrupted) {
      throw new AppError('RENDER_CANCELED', `The render was interrupted on the SD WebUI server (${baseUrl}).`, {
        retryable: false,
        details: { backend: baseUrl, taskId, by: 'sdwebui' },
      })
    }
    const dropped = resolved.units
      .map((u, i) => ({ i, u }))
      .filter(({ i }) => !(`ControlNet ${i}` in info.extra_generation_params))
    if (dropped.length > 0) {
      // why: SD WebUI logs a failing ControlNet unit and renders without it; the result would ignore the scene's structure.
      throw new AppError(
        'BACKEND_FAILED',
        `SD WebUI rendered without ControlNet ${dropped.map(({ i, u }) => `${i} (${u.module}, ${u.model})`).join(', ')}; see the server's console.`,
        { retryable: false, details: { backend: baseUrl, taskId, dropped: dropped.map(({ i }) => i) } },
      )
    }
    const b64 = generation.images[info.index_of_first_image]
    if (!b64) {
      throw new AppError('BACKEND_FAILED', 'SD WebUI answered without an image.', {
        retryable: true,
        details: { backend: baseUrl, taskId, images: generation.images.length },
      })
    }

    report(92, 'decoding the result')
    const result = await decodeResult(decodeBase64Image(b64), { backend: 'SD WebUI', details: { backend: baseUrl, taskId } })
    if (result.width !== layout.work.width || result.height !== layout.work.height) {
      throw new AppError(
        'BACKEND_FAILED',
        `SD WebUI returned ${result.width} × ${result.height}; it was sent ${layout.work.width} × ${layout.work.height}.`,
        { details: { backend: baseUrl, taskId } },
      )
    }
    const pixels = await resizedRaw(result, output, 'lanczos3')
    checkAborted(signal)
    report(100, 'done')
    // why no JPEG here: the worker's post-processing encodes the image it stores, from these pixels once protected.
    return {
      contentType: 'image/jpeg',
      pixels,
      width: output.width,
      height: output.height,
      sourceMask: found.mask,
      // why: the product stays where it was sent, so its place in the result is the mask we sent.
      resultMask: layout.keep,
      protected: false,
      placement: layout.placement,
      backendMs: performance.now() - started,
      workflow,
      meta: {
        backend: baseUrl,
        taskId,
        checkpoint: resolved.checkpoint.title,
        switchedCheckpoint: switched,
        seed: info.seed ?? body.seed,
        maskOrigin: found.origin,
        work: layout.work,
        controlnet: resolved.units.map((u) => ({ module: u.module, model: u.model, weight: u.weight })),
      },
    }
  }

  return {
    id: opts.id ?? sdwebuiBackendId(opts.url),
    client,
    capabilities: () => capabilities,
    loadedModel: () => (lastRender && loaded === lastRender.checkpoint ? lastRender.key : undefined),
    loadedCheckpoint: () => loaded ?? undefined,
    async render(request, controls) {
      try {
        return await render(request, controls)
      } catch (e) {
        // A raw abort reason (from fetch or a stage) becomes the cancel or timeout error.
        if (controls.signal.aborted && !isAppError(e)) throw abortedError(controls.signal.reason)
        throw e
      }
    },
    async health() {
      const signal = AbortSignal.timeout(5000)
      let progress: Progress
      try {
        progress = await client.progress(signal)
      } catch (e) {
        if (isAppError(e) && e.details?.status === 404) {
          const pings = await client.ping(AbortSignal.timeout(5000)).then(
            () => true,
            () => false,
          )
          if (pings) return { ok: false, detail: `SD WebUI at ${baseUrl} answers but its API is off (start it with --api)`, reason: 'not_api' }
        }
        return { ok: false, detail: isAppError(e) ? e.message : `SD WebUI at ${baseUrl} is unreachable`, reason: reasonOf(e) }
      }
      // why here: a health check keeps the server's list of checkpoints (capabilities().models) current.
      await currentInventory(signal).catch((e: unknown) =>
        log().debug({ reason: (e as Error).message }, 'reading SD WebUI lists failed'),
      )
      const { state } = progress
      const busy =
        state.job_count !== 0
          ? `busy (${state.job || 'a job'}${state.sampling_steps > 0 ? `, step ${Math.min(state.sampling_steps, state.sampling_step + 1)} of ${state.sampling_steps}` : ''})`
          : 'idle'
      return {
        ok: true,
        detail: `SD WebUI ${busy}${loaded ? `, ${loaded} loaded` : ''}, ${capabilities.models.length} checkpoints`,
      }
    },
    async close() {
      closed = true
    },
  }
}
