import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import sharp from 'sharp'
import { z } from 'zod'
import { AppError, isAppError } from '#app/lib/errors.ts'
import { reasonOf } from '../failure.server.ts'
import { logger } from '#app/lib/logger.server.ts'
import { findProductMask } from '#app/modules/imaging/mask.server.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import { withVariation } from '#app/modules/looks/variation.ts'
import { decodeResult, framedMask, framedPixels, planFrame, rawInput, resizedRaw } from '../frame.server.ts'
import type { Backend, BackendCapabilities, RawImage, RenderControls, RenderRequest, RenderResult } from '../types.ts'
import { outputImageSchema } from './api.ts'
import {
  abortedError,
  createComfyClient,
  loadImagePath,
  type ComfyClient,
  type ComfyClientOptions,
  type RunEvent,
} from './client.server.ts'
import { comfyuiSceneSettingsSchema, personaSettings, sceneSettings } from './look-settings.ts'
import { fillTemplate, templateFor, templateLabel, templates as builtInTemplates, type WorkflowTemplate } from './templates.ts'

// A ComfyUI server as a Backend. Per render: find the product's keep mask,
// lay the photo out on the output frame (scaled to fit, centred; the rest is
// repainted), shrink that to the template's work frame (multiples of 8, so
// the VAE crops nothing), upload the canvas and the mask, run the filled
// template, and scale the result back to the output frame. The product's
// place is therefore known exactly (`placement`), and the worker puts the
// merchant's own pixels back (the result is not `protected`).

export interface ComfyuiBackendOptions {
  /** Base URL of the ComfyUI server. */
  url: string
  /** Backend id (default: derived from the URL, stable across restarts). */
  id?: string
  /** Largest output edge offered. */
  maxEdge?: number
  templates?: readonly WorkflowTemplate[]
  /** Client timings (tests shorten them). */
  client?: Omit<ComfyClientOptions, 'baseUrl'>
  /** Folder under ComfyUI's input directory for our uploads. */
  subfolder?: string
}

export interface ComfyuiBackend extends Backend {
  readonly client: ComfyClient
  /** Closes the server's socket and fails renders still waiting (for shutdown). */
  close(): Promise<void>
}

/** Backend id for a server URL, e.g. `comfyui-gpu-1-8188`: stable, so retries of a render find the same server. */
export function comfyuiBackendId(url: string): string {
  const u = new URL(url)
  const port = u.port || (u.protocol === 'https:' ? '443' : '80')
  const path = u.pathname.replace(/\/+$/, '')
  return `comfyui-${u.hostname}-${port}${path}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/-+$/, '')
}

/** The mask as LoadImage wants it: RGBA whose alpha is the keep mask (its MASK output is 1 − alpha = repaint). */
async function maskPng(mask: RawImage): Promise<Buffer> {
  const rgba = Buffer.alloc(mask.width * mask.height * 4)
  for (let p = 0; p < mask.width * mask.height; p++) rgba[p * 4 + 3] = mask.data[p]
  return sharp(rgba, { raw: { width: mask.width, height: mask.height, channels: 4 } })
    .png({ compressionLevel: 6 })
    .toBuffer()
}

function safeName(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 64)
}

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortedError(signal.reason)
}

/** Progress as the merchant sees it: preparing 0–12 %, sampling 15–90 %, fetching the result 90–100 %. */
function progressReporter(controls: RenderControls, template: WorkflowTemplate, graphTitle: (node: string) => string) {
  let last = 0
  const report = (percent: number, message: string) => {
    const p = Math.max(last, Math.min(100, percent))
    last = p
    Promise.resolve(controls.onProgress(p, message)).catch((e: unknown) =>
      logger().warn({ reason: (e as Error).message }, 'writing render progress failed'),
    )
  }
  const onEvent = (event: RunEvent) => {
    switch (event.kind) {
      case 'queued':
        return report(12, 'queued on ComfyUI')
      case 'started':
        return report(15, 'ComfyUI started the render')
      case 'executing':
        return report(last, `ComfyUI: ${graphTitle(event.node)}`)
      case 'progress':
        if (event.node !== null && event.node !== template.slots.progress.node) return
        return report(15 + (75 * event.value) / Math.max(1, event.max), `ComfyUI: step ${event.value} of ${event.max}`)
      case 'finishing':
        return report(90, 'fetching the result')
    }
  }
  return { report, onEvent }
}

export function createComfyuiBackend(opts: ComfyuiBackendOptions): ComfyuiBackend {
  const client = createComfyClient({ ...opts.client, baseUrl: opts.url })
  const available = opts.templates ?? builtInTemplates
  const subfolder = opts.subfolder ?? 'atelier'
  const checkpoints = [
    ...new Set(
      scenes.flatMap((s) => {
        const parsed = comfyuiSceneSettingsSchema.safeParse(s.backends.comfyui)
        return parsed.success ? [parsed.data.checkpoint] : []
      }),
    ),
  ]
  const capabilities: BackendCapabilities = {
    type: 'comfyui',
    operations: available.map((t) => t.operation),
    personas: available.some((t) => t.persona === 'required'),
    maxEdge: opts.maxEdge ?? 2048,
    models: checkpoints,
    garmentMaskFor: available.filter((t) => t.maskSource === 'merchant').map((t) => t.operation),
  }

  async function render(request: RenderRequest, controls: RenderControls): Promise<RenderResult> {
    const started = performance.now()
    const { signal } = controls
    checkAborted(signal)
    const template = templateFor(request.operation, available)
    if (!template) {
      throw new AppError('BACKEND_NEEDS_GPU', `This ComfyUI server has no workflow for "${request.operation}".`, {
        details: { operation: request.operation, backend: opts.url },
      })
    }
    const label = templateLabel(template)
    if (template.persona === 'required' && !request.persona) {
      throw new AppError('INVALID_INPUT', `The ${label} workflow needs a model persona.`, { details: { workflow: label } })
    }
    if (template.persona === 'none' && request.persona) {
      throw new AppError(
        'INVALID_INPUT',
        `The ${label} workflow keeps the photo's model; choose a model change to use a persona.`,
        {
          details: { workflow: label, persona: request.persona.id },
        },
      )
    }
    if (template.maskSource === 'merchant' && !request.mask) {
      throw new AppError(
        'GARMENT_MASK_REQUIRED',
        'Draw a mask over the garment in the studio: only the garment is kept when the model changes.',
        {
          details: { workflow: label },
        },
      )
    }
    const { output } = request
    if (output.width > capabilities.maxEdge || output.height > capabilities.maxEdge || output.width < 8 || output.height < 8) {
      throw new AppError(
        'INVALID_INPUT',
        `Output size ${output.width} × ${output.height} is outside 8–${capabilities.maxEdge} px.`,
      )
    }
    const scene = sceneSettings(request.scene)
    const persona = template.persona === 'required' ? personaSettings(request.persona!) : undefined
    const titles = (node: string) => template.graph[node]?._meta?.title ?? template.graph[node]?.class_type ?? node
    const progress = progressReporter(controls, template, titles)

    progress.report(2, 'finding the product')
    const found = await findProductMask(request.source, request.mask)
    checkAborted(signal)
    const plan = planFrame(request.source, output, template.workEdge)
    controls.onFramed?.({ sourceMask: found.mask, placement: plan.placement, width: output.width, height: output.height })
    // why the scene's colour under transparency: the sampler starts from it where denoise < 1.
    const [r, g, b] = request.scene.preview.from
    const [canvas, keep] = await Promise.all([framedPixels(request.source.pixels, plan, output, { r, g, b }), framedMask(found.mask, plan, output)])
    const [workCanvas, workMask] = await Promise.all([resizedRaw(canvas, plan.work, 'lanczos3'), resizedRaw(keep, plan.work, 'linear')])
    const [canvasPng, keepPng] = await Promise.all([
      sharp(workCanvas.data, rawInput(workCanvas)).png({ compressionLevel: 6 }).toBuffer(),
      maskPng(workMask),
    ])
    checkAborted(signal)

    // why the prompt id in the names: every attempt (retries, the QA gate's
    // re-renders) uploads under names no other render or attempt can have.
    const promptId = randomUUID()
    const stem = `${safeName(request.renderId)}-${promptId}`
    progress.report(6, 'uploading to ComfyUI')
    const [sourceUpload, maskUpload] = await Promise.all([
      client.upload(canvasPng, `${stem}-source.png`, { subfolder, signal }),
      client.upload(keepPng, `${stem}-mask.png`, { subfolder, signal }),
    ])

    // why light only: the product stays where the photo had it, so the framing is the photo's.
    const applied = request.variation && { light: request.variation.light }
    const prompt = withVariation(
      persona ? `${persona.promptFragment}, wearing the garment, ${scene.prompt}` : scene.prompt,
      applied,
    )
    const negativePrompt = [scene.negative, persona?.negativeFragment].filter(Boolean).join(', ')
    const workflow = fillTemplate(template, {
      sourceImage: loadImagePath(sourceUpload),
      mask: loadImagePath(maskUpload),
      prompt,
      negativePrompt,
      seed: Math.abs(Math.trunc(request.seed)),
      filenamePrefix: `${subfolder}/${safeName(request.renderId)}`,
      scene,
      persona,
    })
    progress.report(10, 'queueing on ComfyUI')
    const { entry } = await client.run(workflow, { promptId, signal, onEvent: progress.onEvent })

    const images = z.array(outputImageSchema).safeParse(entry.outputs[template.slots.output.node]?.images)
    if (!images.success || images.data.length === 0) {
      throw new AppError(
        'BACKEND_FAILED',
        `ComfyUI finished ${label} but its output node ${template.slots.output.node} saved no image.`,
        {
          details: { workflow: label, promptId, outputs: Object.keys(entry.outputs) },
        },
      )
    }
    progress.report(92, 'fetching the result')
    const bytes = await client.view(images.data[0], signal)
    const decoded = await decodeResult(bytes, { backend: 'ComfyUI', details: { promptId } })
    if (decoded.width !== plan.work.width || decoded.height !== plan.work.height) {
      throw new AppError(
        'BACKEND_FAILED',
        `ComfyUI returned ${decoded.width} × ${decoded.height}, the ${label} workflow was sent ${plan.work.width} × ${plan.work.height}.`,
        { details: { workflow: label, promptId } },
      )
    }
    const pixels = await resizedRaw(decoded, output, 'lanczos3')
    checkAborted(signal)
    progress.report(100, 'done')
    // why no JPEG here: the worker's post-processing encodes the image it stores, from these pixels once protected.
    return {
      contentType: 'image/jpeg',
      pixels,
      width: output.width,
      height: output.height,
      sourceMask: found.mask,
      // why: the product stays where it was sent, so its place in the result is the mask we sent.
      resultMask: keep,
      protected: false,
      placement: plan.placement,
      backendMs: performance.now() - started,
      workflow: label,
      ...(applied && { variation: applied }),
      meta: {
        backend: opts.url,
        promptId,
        maskOrigin: found.origin,
        work: plan.work,
        uploads: [loadImagePath(sourceUpload), loadImagePath(maskUpload)],
        output: images.data[0],
      },
    }
  }

  return {
    id: opts.id ?? comfyuiBackendId(opts.url),
    client,
    capabilities: () => capabilities,
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
      try {
        const stats = await client.systemStats(AbortSignal.timeout(5000))
        const device = stats.devices[0]
        if (!device) return { ok: false, detail: 'ComfyUI reports no compute device', reason: 'no_gpu' }
        const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(1)
        const version = stats.system.comfyui_version ? `, ComfyUI ${stats.system.comfyui_version}` : ''
        const detail = `${device.name}: ${gib(device.vram_free)} of ${gib(device.vram_total)} GiB VRAM free${version}`
        // why: a ComfyUI without a GPU answers, but a render would take many minutes.
        return device.type === 'cpu' ? { ok: false, detail: `${detail} (running on the CPU)`, reason: 'no_gpu' } : { ok: true, detail }
      } catch (e) {
        return { ok: false, detail: isAppError(e) ? e.message : `ComfyUI at ${opts.url} is unreachable`, reason: reasonOf(e) }
      }
    },
    close: () => client.close(),
  }
}
