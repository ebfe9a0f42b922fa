import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import sharp from 'sharp'
import { AppError, isAppError } from '#app/lib/errors.ts'
import { reasonOf } from '../failure.server.ts'
import { logger } from '#app/lib/logger.server.ts'
import { findProductMask } from '#app/modules/imaging/mask.server.ts'
import type { Operation } from '#app/modules/looks/schema.ts'
import { withVariation, type AppliedVariation } from '#app/modules/looks/variation.ts'
import { decodeResult, fitFrame, framedMask, framedPhoto, rawInput, type FramePlan } from '../frame.server.ts'
import type { Backend, BackendCapabilities, RawImage, RenderControls, RenderRequest, RenderResult } from '../types.ts'
import { AGENT_VERSION, agentNames, type AgentName, type RunRequest } from './api.ts'
import {
  abortedError,
  createWeshopClient,
  WESHOP_BASE_URL,
  type RunProgress,
  type WeshopApiKey,
  type WeshopClient,
  type WeshopClientOptions,
} from './client.server.ts'
import {
  personaSettings,
  sceneSettings,
  tryonAspectRatio,
  WESHOP_NEGATIVE,
  weshopPresetIdsSchema,
  type ResolvedPersona,
  type ResolvedScene,
  type WeshopPresetIdsInput,
} from './look-settings.ts'

// WeShop's hosted OpenAPI as a Backend, for one tenant's API key. Per render:
// find the product's mask on our side (for the worker's protection and the
// fidelity check), lay the photo out on the output frame (scaled to fit and
// centred, the bands copied from its edges, which WeShop repaints), upload it
// (and the merchant's mask, as aimodel/aiproduct's `custom` mask), start the
// agent's run, poll it with backoff, download the result and scale it to the
// output size. The result is a new generation: it is not `protected`; the
// worker puts the merchant's product back (same geometry) or moves its colour
// back (try-on, model changes).
//
//   model_swap, mannequin_to_model → aimodel (keeps the garment: autoApparelSegment or the merchant's mask)
//   scene_swap                     → aimodel (keeps the subject: autoSubjectSegment or the merchant's mask)
//   product_scene                  → aiproduct (keeps the product)
//   tryon                          → virtualtryon (the garment photo put on a generated model)
//
// Cancellation: WeShop's reference has no route to stop a run. On abort we
// stop polling at once and reject with the cancel (or timeout) error; the run
// finishes on WeShop's side and WeShop bills the tenant's key for it, but a
// canceled render records no usage with us (jobs.server.ts charges a merchant
// only for a render that succeeded), so we never bill it again.
//
// Seeds: WeShop takes none. Every run is a fresh generation, so the QA gate's
// re-renders still differ; the same seed does not reproduce an image.

export interface WeshopBackendOptions {
  /** The tenant's key, or a function that decrypts it per request (see env.server.ts). Never logged. */
  apiKey: WeshopApiKey
  /** Backend id (default `weshop`); one per tenant key when several tenants bring their own. */
  id?: string
  /** Default https://openapi.weshop.ai. */
  baseUrl?: string
  /** Largest output edge offered. */
  maxEdge?: number
  /** Preset ids (from GET /openapi/v1/agent/info) by look id; they win over look-settings.ts. */
  presets?: WeshopPresetIdsInput
  log?: Logger
  /** Client timings and retries (tests shorten them). */
  client?: Omit<WeshopClientOptions, 'apiKey' | 'baseUrl' | 'log'>
}

export interface WeshopBackend extends Backend {
  readonly client: WeshopClient
  /** What JSON.stringify shows: never the key. */
  toJSON(): { id: string; type: 'weshop'; baseUrl: string }
}

/**
 * why 2048: WeShop's generations come back at about 2K (virtualtryon's
 * largest standard size is "2K"; 4K only on bananaPro); above that we would
 * only upscale what it sent.
 */
export const WESHOP_MAX_EDGE = 2048

const OPERATIONS: readonly Operation[] = ['model_swap', 'scene_swap', 'tryon', 'product_scene', 'mannequin_to_model']

export function agentFor(operation: Operation): AgentName {
  switch (operation) {
    case 'tryon':
      return 'virtualtryon'
    case 'product_scene':
      return 'aiproduct'
    default:
      return 'aimodel'
  }
}

/** Operations that show the photo's own subject: a persona has nothing to change there. */
const KEEPS_SUBJECT: readonly Operation[] = ['scene_swap', 'product_scene']

const WHITE = { r: 255, g: 255, b: 255 }

/** The photo laid out on the output frame (JPEG): the bands around it copied from its edges. */
function canvasJpeg(request: RenderRequest, plan: FramePlan): Promise<Buffer> {
  // why white under transparency: WeShop's segmenters expect a product shot's backdrop.
  return framedPhoto(request.source.pixels, plan, request.output, WHITE).jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer()
}

/** The garment photo as it is (try-on redraws everything around it), at most `maxEdge` on its long side. */
async function garmentJpeg(request: RenderRequest, maxEdge: number): Promise<Buffer> {
  const { source } = request
  let image = sharp(source.pixels.data, rawInput(source.pixels))
  if (source.hasAlpha) image = image.flatten({ background: WHITE })
  if (Math.max(source.width, source.height) > maxEdge)
    image = image.resize(maxEdge, maxEdge, { fit: 'inside', kernel: 'lanczos3' })
  return image.removeAlpha().jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer()
}

/** WeShop's custom mask: a PNG the size of the original, opaque where kept, transparent where repainted. */
async function customMaskPng(mask: RawImage): Promise<Buffer> {
  const rgba = Buffer.alloc(mask.width * mask.height * 4, 255)
  for (let p = 0; p < mask.width * mask.height; p++) rgba[p * 4 + 3] = mask.data[p]
  return sharp(rgba, { raw: { width: mask.width, height: mask.height, channels: 4 } })
    .png({ compressionLevel: 6 })
    .toBuffer()
}

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortedError(signal.reason)
}

function safeName(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 64)
}

/** Progress as the merchant sees it: preparing 0–12 %, WeShop's states 15–88 %, the result 90–100 %. */
function progressReporter(controls: RenderControls, agent: AgentName, log: () => Logger) {
  let last = 0
  let running = 0
  const report = (percent: number, message: string) => {
    const p = Math.max(last, Math.min(100, percent))
    last = p
    Promise.resolve(controls.onProgress(p, message)).catch((e: unknown) =>
      log().warn({ reason: (e as Error).message }, 'writing render progress failed'),
    )
  }
  const onPoll = ({ state }: RunProgress) => {
    switch (state) {
      case 'Pending':
        return report(15, 'waiting in the WeShop queue')
      case 'Segmenting':
        return report(25, agent === 'aiproduct' ? 'WeShop is cutting out the product' : 'WeShop is finding the garment')
      case 'Running':
        // why a creeping share: WeShop reports no steps; each poll moves the bar a little less.
        running++
        return report(35 + 50 * (1 - 0.85 ** running), 'WeShop is generating the photo')
      case 'Success':
        return report(88, 'WeShop finished')
      case 'Failed':
        return report(last, 'WeShop reported a failure')
      default:
        return report(last, `WeShop: ${state}`)
    }
  }
  return { report, onPoll }
}

interface RunPlan {
  agent: AgentName
  body: RunRequest
  maskType?: string
  /** The part of the request's variation the run's textDescription asks for. */
  variation?: AppliedVariation
}

/**
 * What of the variant's variation a WeShop run can express: WeShop takes no
 * seed, no light and no camera parameter, only words (textDescription). The
 * light is asked for on every agent; the framing only on virtualtryon, the
 * one agent that composes a new image instead of keeping the photo's.
 */
function variationFor(request: RenderRequest, agent: AgentName): AppliedVariation | undefined {
  if (!request.variation) return undefined
  const { light, framing } = request.variation
  return agent === 'virtualtryon' ? { light, framing } : { light }
}

function runText(persona: ResolvedPersona | undefined, scene: ResolvedScene, operation: Operation): string {
  if (operation === 'scene_swap' || operation === 'product_scene') return scene.textDescription
  const who = persona?.textDescription ?? 'a professional fashion model'
  return `${who}, wearing the garment, ${scene.textDescription}`
}

function buildRun(
  request: RenderRequest,
  urls: { image: string; mask?: string },
  scene: ResolvedScene,
  persona: ResolvedPersona | undefined,
): RunPlan {
  const agent = agentFor(request.operation)
  const variation = variationFor(request, agent)
  const input = { originalImage: urls.image, taskName: `atelier ${request.renderId}` }
  // why always 1: WeShop's documented default is 4 images (billed), and we keep one.
  const batchCount = 1
  if (agent === 'virtualtryon') {
    const who = persona?.textDescription ?? 'a professional fashion model'
    return {
      agent,
      variation,
      body: {
        agent: { name: agent, version: AGENT_VERSION },
        input,
        params: {
          originalImage: urls.image,
          generateVersion: 'weshopPro',
          descriptionType: 'custom',
          // why "Figure 1": the reference names the images so in virtualtryon prompts.
          textDescription: withVariation(`The garment in Figure 1 worn by ${who}, ${scene.textDescription}`, variation),
          aspectRatio: tryonAspectRatio(request.output),
          batchCount,
        },
      },
    }
  }
  if (agent === 'aiproduct') {
    const locationId = scene.locationId.aiproduct
    const maskType = urls.mask ? 'custom' : 'autoSubjectSegment'
    return {
      agent,
      maskType,
      variation,
      body: {
        agent: { name: agent, version: AGENT_VERSION },
        input,
        params: {
          originalImage: urls.image,
          // why: WeShop's advice — without a preset id, freeCreation.
          generatedContent: locationId ? scene.generatedContent : 'freeCreation',
          maskType,
          textDescription: withVariation(runText(persona, scene, request.operation), variation),
          negTextDescription: WESHOP_NEGATIVE,
          batchCount,
          ...(locationId ? { locationId } : {}),
          ...(urls.mask ? { customMaskUrl: urls.mask } : {}),
        },
      },
    }
  }
  const locationId = scene.locationId.aimodel
  const fashionModelId = request.operation === 'scene_swap' ? undefined : persona?.fashionModelId
  const maskType = urls.mask ? 'custom' : request.operation === 'scene_swap' ? 'autoSubjectSegment' : 'autoApparelSegment'
  return {
    agent: 'aimodel',
    maskType,
    variation,
    body: {
      agent: { name: 'aimodel', version: AGENT_VERSION },
      input,
      params: {
        originalImage: urls.image,
        generatedContent: locationId || fashionModelId ? scene.generatedContent : 'freeCreation',
        maskType,
        textDescription: withVariation(runText(persona, scene, request.operation), variation),
        negTextDescription: WESHOP_NEGATIVE,
        // why: a scene swap keeps the subject, pose and all.
        pose: request.operation === 'scene_swap' ? 'originalImagePose' : scene.pose,
        batchCount,
        ...(locationId ? { locationId } : {}),
        ...(fashionModelId ? { fashionModelId } : {}),
        ...(urls.mask ? { customMaskUrl: urls.mask } : {}),
      },
    },
  }
}

export function createWeshopBackend(opts: WeshopBackendOptions): WeshopBackend {
  const baseUrl = (opts.baseUrl ?? WESHOP_BASE_URL).replace(/\/+$/, '')
  const log = () => opts.log ?? logger().child({ backend: 'weshop' })
  const client = createWeshopClient({ ...opts.client, apiKey: opts.apiKey, baseUrl, log: opts.log })
  const presets = weshopPresetIdsSchema.parse(opts.presets ?? {})
  const id = opts.id ?? 'weshop'
  const capabilities: BackendCapabilities = {
    type: 'weshop',
    operations: [...OPERATIONS],
    personas: true,
    maxEdge: opts.maxEdge ?? WESHOP_MAX_EDGE,
    models: [...agentNames],
  }

  async function render(
    request: RenderRequest,
    controls: RenderControls,
    started: { executionId?: string },
  ): Promise<RenderResult> {
    const t0 = performance.now()
    const { signal } = controls
    checkAborted(signal)
    const { operation, output } = request
    if (!OPERATIONS.includes(operation)) {
      throw new AppError('BACKEND_NEEDS_GPU', `WeShop has no agent for "${operation}".`, {
        details: { operation, backend: 'weshop' },
      })
    }
    if (KEEPS_SUBJECT.includes(operation) && request.persona) {
      throw new AppError(
        'INVALID_INPUT',
        `A ${operation} keeps the photo's own subject; choose a model change to use a persona.`,
        {
          details: { operation, persona: request.persona.id },
        },
      )
    }
    if (output.width > capabilities.maxEdge || output.height > capabilities.maxEdge || output.width < 8 || output.height < 8) {
      throw new AppError(
        'INVALID_INPUT',
        `Output size ${output.width} × ${output.height} is outside 8–${capabilities.maxEdge} px.`,
      )
    }
    const scene = sceneSettings(request.scene, presets)
    const persona = request.persona ? personaSettings(request.persona, presets) : undefined
    const agent = agentFor(operation)
    const progress = progressReporter(controls, agent, log)

    progress.report(2, 'finding the product')
    const found = await findProductMask(request.source, request.mask)
    checkAborted(signal)
    const plan = fitFrame(request.source, output)
    controls.onFramed?.({ sourceMask: found.mask, placement: plan.placement, width: output.width, height: output.height })
    // why the merchant's mask only: WeShop's own segmenters know garments
    // better than our backdrop cut-out; a mask the merchant drew is the truth.
    const sendMask = found.origin === 'merchant' && agent !== 'virtualtryon'
    const keep = await framedMask(found.mask, plan, output)
    const [image, maskPng] = await Promise.all([
      agent === 'virtualtryon' ? garmentJpeg(request, capabilities.maxEdge) : canvasJpeg(request, plan),
      sendMask ? customMaskPng(keep) : Promise.resolve(undefined),
    ])
    checkAborted(signal)

    progress.report(5, 'uploading to WeShop')
    const stem = safeName(request.renderId)
    const [imageUrl, maskUrl] = await Promise.all([
      client.uploadImage(image, { filename: `${stem}-source.jpg`, contentType: 'image/jpeg', signal }),
      maskPng ? client.uploadImage(maskPng, { filename: `${stem}-mask.png`, contentType: 'image/png', signal }) : undefined,
    ])
    checkAborted(signal)

    const run = buildRun(request, { image: imageUrl, mask: maskUrl }, scene, persona)
    progress.report(10, 'starting the WeShop run')
    const accepted = await client.startRun(run.body, signal)
    started.executionId = accepted.executionId
    log().info({ renderId: request.renderId, executionId: accepted.executionId, agent }, 'WeShop run started')
    progress.report(12, 'queued at WeShop')
    const finished = await client.waitForRun(accepted.executionId, { signal, onPoll: progress.onPoll })

    progress.report(90, 'downloading the result')
    const bytes = await client.download(finished.images[0], signal)
    const decoded = await decodeResult(bytes, {
      backend: 'WeShop',
      details: { backend: 'weshop', executionId: accepted.executionId },
      background: WHITE,
    })
    // why cover when the ratio differs: virtualtryon has no 4:5; cutting the
    // edges keeps the model's proportions, stretching would not.
    const sameRatio = Math.abs(Math.log(decoded.width / decoded.height / (output.width / output.height))) < 0.015
    let pixels = decoded
    if (decoded.width !== output.width || decoded.height !== output.height) {
      const { data } = await sharp(decoded.data, rawInput(decoded))
        .resize(output.width, output.height, { fit: sameRatio ? 'fill' : 'cover', position: 'centre', kernel: 'lanczos3' })
        .raw()
        .toBuffer({ resolveWithObject: true })
      pixels = { data, width: output.width, height: output.height, channels: 3 }
    }
    checkAborted(signal)
    progress.report(100, 'done')
    // Where the product is in the result: where we sent it, when WeShop kept
    // exactly that region (the merchant's mask) or kept the subject in place
    // (scene swaps). For its own garment segmentation or a try-on we don't know.
    const kept = sendMask || KEEPS_SUBJECT.includes(operation)
    // why no JPEG here: the worker's post-processing encodes the image it stores, from these pixels once protected.
    return {
      contentType: 'image/jpeg',
      pixels,
      width: output.width,
      height: output.height,
      sourceMask: found.mask,
      ...(kept ? { resultMask: keep } : {}),
      protected: false,
      placement: plan.placement,
      backendMs: performance.now() - t0,
      workflow: `${agent}@${AGENT_VERSION}`,
      ...(run.variation && { variation: run.variation }),
      meta: {
        backend: 'weshop',
        agent,
        executionId: accepted.executionId,
        ...(accepted.taskId ? { taskId: accepted.taskId } : {}),
        ...(run.maskType ? { maskType: run.maskType } : {}),
        maskOrigin: found.origin,
        polls: finished.polls,
        results: finished.images.length,
        received: { width: decoded.width, height: decoded.height },
        ...(sameRatio ? {} : { croppedToRatio: true }),
      },
    }
  }

  const backend: WeshopBackend = {
    id,
    client,
    capabilities: () => capabilities,
    async render(request, controls) {
      const started: { executionId?: string } = {}
      try {
        return await render(request, controls, started)
      } catch (e) {
        if (!controls.signal.aborted) throw e
        // A raw abort reason (from fetch or a wait) becomes the cancel or timeout error.
        const stopped = isAppError(e) ? e : abortedError(controls.signal.reason)
        if (started.executionId) {
          log().info(
            { renderId: request.renderId, executionId: started.executionId, code: stopped.code },
            'stopped waiting for a WeShop run; it finishes on WeShop without us',
          )
          return Promise.reject(
            new AppError(stopped.code, stopped.message, {
              retryable: stopped.retryable,
              cause: stopped.cause,
              details: { ...stopped.details, backend: 'weshop', executionId: started.executionId },
            }),
          )
        }
        throw stopped
      }
    },
    async health() {
      try {
        const info = await client.agentInfo('aimodel', AbortSignal.timeout(5000))
        const count = (list?: unknown[]) => list?.length ?? 0
        return {
          ok: true,
          detail: `WeShop OpenAPI: ${count(info.locations)} scenes and ${count(info.fashionModels)} models for aimodel`,
        }
      } catch (e) {
        return { ok: false, detail: isAppError(e) ? e.message : 'WeShop OpenAPI is unreachable', reason: reasonOf(e) }
      }
    },
    toJSON: () => ({ id, type: 'weshop', baseUrl }),
  }
  return backend
}
