import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { AppError, isAppError } from '#app/lib/errors.ts'
import { reasonOf } from '../failure.server.ts'
import { logger } from '#app/lib/logger.server.ts'
import { findProductMask, type ProductMask } from '#app/modules/imaging/mask.server.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import type { Operation } from '#app/modules/looks/schema.ts'
import { modelKey } from '../model-key.ts'
import type { Backend, BackendCapabilities, RenderControls, RenderRequest, RenderResult } from '../types.ts'
import type { Progress } from './api.ts'
import {
  abortedError,
  createSdwebuiClient,
  splitCredentials,
  type Generation,
  type SdwebuiClient,
  type SdwebuiClientOptions,
} from './client.server.ts'
import { decodeResult, resizedRaw } from '../frame.server.ts'
import { layOut, repaintMaskPng, rgbPng, type Layout } from './frame.server.ts'
import { checkAborted, generate, type Report, type SdwebuiServer } from './generate.server.ts'
import { currentInventory, resolve, type InventoryCache } from './inventory.server.ts'
import { serverLock } from './lock.ts'
import { withVariation } from '#app/modules/looks/variation.ts'
import { checkpointName, decodeBase64Image, img2imgPayload, renderedWith, safeName, type Resolved } from './payload.ts'
import {
  MODEL_SWAP_POSE_UNIT,
  personaSettings,
  sceneSettings,
  sdwebuiSceneSectionSchema,
  type SdwebuiPersonaSettings,
  type SdwebuiSceneSettings,
} from './look-settings.ts'

export { API_IMG2IMG_JOB } from './generate.server.ts'
export { checkpointName, findCheckpoint, img2imgPayload, type PayloadInput } from './payload.ts'

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
//
// The parts, each taking the backend's state explicitly: payload.ts (the
// request body and name matching), inventory.server.ts (the server's lists),
// generate.server.ts (one generation under the server's lock).

export const SDWEBUI_OPERATIONS: Operation[] = ['scene_swap', 'model_swap', 'product_scene']
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

/** Progress as the merchant sees it: preparing 0–12 %, sampling 15–90 %, the result 90–100 %. */
function progressReporter(controls: RenderControls): Report {
  let last = 0
  return (percent: number, message: string) => {
    const p = Math.max(last, Math.min(100, percent))
    last = p
    Promise.resolve(controls.onProgress(p, message)).catch((e: unknown) =>
      logger().warn({ reason: (e as Error).message }, 'writing render progress failed'),
    )
  }
}

/** One SD WebUI backend's state: the server, its lists, and what it last rendered. */
interface SdwebuiState extends SdwebuiServer, InventoryCache {
  baseUrl: string
  /** The model key of the last render that succeeded, and the checkpoint it ran on. */
  lastRender?: { key: string; checkpoint: string }
  closed: boolean
}

/** Refuses what this backend can't render before any work is done. */
function checkRequest(request: RenderRequest, maxEdge: number, baseUrl: string): void {
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
  if (output.width > maxEdge || output.height > maxEdge || output.width < 8 || output.height < 8) {
    throw new AppError('INVALID_INPUT', `Output size ${output.width} × ${output.height} is outside 8–${maxEdge} px.`)
  }
}

interface Framed {
  found: ProductMask
  layout: Layout
  canvasPng: Buffer
  maskPng: Buffer
}

/** The product's keep mask, the frame laid out, and both shrunk to the work frame as the PNGs sent. */
async function frameFor(
  request: RenderRequest,
  scene: SdwebuiSceneSettings,
  controls: RenderControls,
  report: Report,
): Promise<Framed> {
  const { signal } = controls
  report(2, 'finding the product')
  const found = await findProductMask(request.source, request.mask)
  checkAborted(signal)
  report(5, 'laying out the frame')
  const layout = await layOut(request, found, scene.workEdge)
  controls.onFramed?.({
    sourceMask: found.mask,
    placement: layout.placement,
    width: request.output.width,
    height: request.output.height,
  })
  const [workCanvas, workKeep] = await Promise.all([
    resizedRaw(layout.canvas, layout.work, 'lanczos3'),
    resizedRaw(layout.keep, layout.work, 'linear'),
  ])
  // why not for model swaps: the worker puts the product's own pixels back only where the geometry is
  // the photo's (scene swap, product in scene); a model swap keeps SD WebUI's garment edge as it is.
  const grow = request.operation === 'model_swap' ? 0 : scene.maskBlur
  const [canvasPng, maskPng] = await Promise.all([rgbPng(workCanvas), repaintMaskPng(workKeep, grow)])
  checkAborted(signal)
  return { found, layout, canvasPng, maskPng }
}

/** The generation's image (base64) once it is sure to be what was asked; records the checkpoint it left loaded. */
function acceptGeneration(
  s: SdwebuiState,
  request: RenderRequest,
  run: { generation: Generation; interrupted: boolean; resolved: Resolved; taskId: string },
): string {
  const { baseUrl } = s
  const { generation, resolved, taskId } = run
  const { info } = generation
  const wanted = checkpointName(resolved.checkpoint.title)
  if (info.sd_model_name && !renderedWith(resolved.checkpoint, info.sd_model_name)) {
    s.loaded = null
    throw new AppError('BACKEND_FAILED', `SD WebUI rendered with "${info.sd_model_name}" instead of "${wanted}".`, {
      retryable: false,
      details: { backend: baseUrl, taskId, wanted, renderedWith: info.sd_model_name },
    })
  }
  s.loaded = wanted
  s.lastRender = { key: modelKey({ operation: request.operation, sceneId: request.scene.id }), checkpoint: wanted }
  if (run.interrupted) {
    throw new AppError('RENDER_CANCELED', `The render was interrupted on the SD WebUI server (${baseUrl}).`, {
      retryable: false,
      details: { backend: baseUrl, taskId, by: 'sdwebui' },
    })
  }
  const dropped = resolved.units.map((u, i) => ({ i, u })).filter(({ i }) => !(`ControlNet ${i}` in info.extra_generation_params))
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
  return b64
}

async function render(s: SdwebuiState, request: RenderRequest, controls: RenderControls): Promise<RenderResult> {
  const started = performance.now()
  const { baseUrl } = s
  const { signal } = controls
  checkAborted(signal)
  if (s.closed) throw new AppError('BACKEND_UNAVAILABLE', `The SD WebUI backend for ${baseUrl} is closed`, { retryable: true })
  checkRequest(request, s.capabilities.maxEdge, baseUrl)
  const { operation, output } = request
  const scene = sceneSettings(request.scene)
  const persona: SdwebuiPersonaSettings | undefined = operation === 'model_swap' ? personaSettings(request.persona!) : undefined
  const report = progressReporter(controls)
  const workflow = `sdwebui-${operation}@${SDWEBUI_WORKFLOW_VERSION}`
  const { found, layout, canvasPng, maskPng } = await frameFor(request, scene, controls, report)
  // why framing only in a product-in-scene layout: elsewhere the product stays where the photo had it.
  const applied = request.variation && { light: request.variation.light, ...(layout.framing && { framing: layout.framing }) }

  report(8, 'checking the SD WebUI server')
  const units = persona ? [{ ...MODEL_SWAP_POSE_UNIT, weight: persona.poseWeight }] : scene.controlnet
  const canvasB64 = canvasPng.toString('base64')
  const resolved = await resolve(s, { scene, units, image: canvasB64, work: layout.work }, signal)
  checkAborted(signal)

  const taskId = `atelier-${safeName(request.renderId)}-${randomUUID().slice(0, 8)}`
  const body = img2imgPayload({
    canvasPng,
    maskPng,
    work: layout.work,
    seed: Math.abs(Math.trunc(request.seed)),
    prompt: withVariation(persona ? `${persona.prompt}, wearing the garment, ${scene.prompt}` : scene.prompt, applied),
    negativePrompt: [scene.negative_prompt, persona?.negative_prompt].filter(Boolean).join(', '),
    denoise: persona ? persona.denoise : operation === 'product_scene' ? scene.productSceneDenoise : scene.denoising_strength,
    scene,
    resolved,
    taskId,
  })
  const { generation, switched, interrupted } = await generate(s, body, resolved.checkpoint, report, signal)
  checkAborted(signal)
  const b64 = acceptGeneration(s, request, { generation, interrupted, resolved, taskId })

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
    ...(applied && { variation: applied }),
    meta: {
      backend: baseUrl,
      taskId,
      checkpoint: resolved.checkpoint.title,
      switchedCheckpoint: switched,
      seed: generation.info.seed ?? body.seed,
      maskOrigin: found.origin,
      work: layout.work,
      controlnet: resolved.units.map((u) => ({ module: u.module, model: u.model, weight: u.weight })),
    },
  }
}

async function health(s: SdwebuiState): ReturnType<Backend['health']> {
  const { client, baseUrl } = s
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
      if (pings)
        return { ok: false, detail: `SD WebUI at ${baseUrl} answers but its API is off (start it with --api)`, reason: 'not_api' }
    }
    return { ok: false, detail: isAppError(e) ? e.message : `SD WebUI at ${baseUrl} is unreachable`, reason: reasonOf(e) }
  }
  // why here: a health check keeps the server's list of checkpoints (capabilities().models) current.
  await currentInventory(s, signal).catch((e: unknown) =>
    s.log().debug({ reason: (e as Error).message }, 'reading SD WebUI lists failed'),
  )
  const { state } = progress
  const busy =
    state.job_count !== 0
      ? `busy (${state.job || 'a job'}${state.sampling_steps > 0 ? `, step ${Math.min(state.sampling_steps, state.sampling_step + 1)} of ${state.sampling_steps}` : ''})`
      : 'idle'
  return {
    ok: true,
    detail: `SD WebUI ${busy}${s.loaded ? `, ${s.loaded} loaded` : ''}, ${s.capabilities.models.length} checkpoints`,
  }
}

/** The checkpoints Atelier's looks name: the models offered until the server's list is read. */
function lookCheckpoints(): string[] {
  return [
    ...new Set(
      scenes.flatMap((s) => {
        const parsed = sdwebuiSceneSectionSchema.safeParse(s.backends.sdwebui)
        return parsed.success ? [parsed.data.checkpoint] : []
      }),
    ),
  ]
}

export function createSdwebuiBackend(opts: SdwebuiBackendOptions): SdwebuiBackend {
  const client = createSdwebuiClient({ ...opts.client, baseUrl: opts.url })
  const { baseUrl } = client
  const capabilities: BackendCapabilities = {
    type: 'sdwebui',
    operations: SDWEBUI_OPERATIONS,
    personas: true,
    maxEdge: opts.maxEdge ?? 2048,
    garmentMaskFor: ['model_swap'],
    // why one: the server renders one image at a time (see lock.ts).
    slots: 1,
    models: lookCheckpoints(),
  }
  const s: SdwebuiState = {
    client,
    baseUrl,
    lock: serverLock(baseUrl),
    log: () => logger().child({ backend: baseUrl }),
    pollIntervalMs: opts.pollIntervalMs ?? 1000,
    interruptGraceMs: opts.interruptGraceMs ?? 60_000,
    inventoryTtlMs: opts.inventoryTtlMs ?? 5 * 60_000,
    capabilities,
    loaded: null,
    closed: false,
  }
  return {
    id: opts.id ?? sdwebuiBackendId(opts.url),
    client,
    capabilities: () => capabilities,
    loadedModel: () => (s.lastRender && s.loaded === s.lastRender.checkpoint ? s.lastRender.key : undefined),
    loadedCheckpoint: () => s.loaded ?? undefined,
    async render(request, controls) {
      try {
        return await render(s, request, controls)
      } catch (e) {
        // A raw abort reason (from fetch or a stage) becomes the cancel or timeout error.
        if (controls.signal.aborted && !isAppError(e)) throw abortedError(controls.signal.reason)
        throw e
      }
    },
    health: () => health(s),
    async close() {
      s.closed = true
    },
  }
}
