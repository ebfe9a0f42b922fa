import { performance } from 'node:perf_hooks'
import sharp from 'sharp'
import { AppError } from '#app/lib/errors.ts'
import { paintBackground } from '#app/modules/imaging/backgrounds.ts'
import { paintKeyLight } from '#app/modules/imaging/key-light.ts'
import { compositeProduct, edgeMatte, localReach, placeProduct, type PlacedProduct, type Sampled } from '#app/modules/imaging/compose.ts'
import { compareFidelity, prepareFidelity, sharedBytes } from '#app/modules/imaging/fidelity.server.ts'
import { lightMatch, productMeanColour } from '#app/modules/imaging/light.ts'
import { encodeFinalJpeg } from '#app/modules/imaging/jpeg.server.ts'
import { findProductMask, type Box } from '#app/modules/imaging/mask.server.ts'
import { paintShadow } from '#app/modules/imaging/shadow.ts'
import type { CpuStudioScene, Operation } from '#app/modules/looks/schema.ts'
import { NEUTRAL_VARIATION } from '#app/modules/looks/variation.ts'
import type { Backend, BackendCapabilities, RawImage, RenderControls, RenderRequest, RenderResult } from '../types.ts'

export const CPU_STUDIO_ID = 'cpu-studio'
/** Bump when a change alters the pixels this backend produces. */
export const CPU_STUDIO_WORKFLOW = 'cpu-studio@3'

const OPERATIONS: Operation[] = ['product_scene', 'scene_swap']
const NEEDS_GPU_MESSAGE =
  "Choosing a model needs a GPU backend (ComfyUI, SD WebUI or WeShop). Connect one in Settings, or pick 'No model' to place the product in a scene."

/** Used when a scene has no cpu-studio section: a plain light studio. */
export const DEFAULT_STUDIO: CpuStudioScene = {
  background: { kind: 'radial', inner: [250, 250, 250], outer: [226, 226, 228] },
  productScale: 0.8,
  floorY: 0.92,
  shadow: { opacity: 0.25, blur: 20, offsetY: 6 },
  lightMatch: 0,
  lightColor: [255, 255, 255],
}

export interface CpuStudioOptions {
  /** Largest output edge offered. */
  maxEdge?: number
}

/**
 * The built-in backend: cuts the product out of a uniform backdrop (or uses
 * its alpha or the merchant's mask), places it in a painted scene with a
 * contact shadow and a gentle light match, and encodes the final JPEG. The
 * request's variation frames the product and sets the key light's side (the
 * backdrop's falloff, the shadow's lean). No generative model is involved,
 * so the product's pixels are its own.
 */
export function createCpuStudioBackend(opts: CpuStudioOptions = {}): Backend {
  const capabilities: BackendCapabilities = {
    type: 'cpu-studio',
    operations: OPERATIONS,
    personas: false,
    maxEdge: opts.maxEdge ?? 4096,
    models: [],
  }
  return {
    id: CPU_STUDIO_ID,
    capabilities: () => capabilities,
    health: async () => ({ ok: true, detail: `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}` }),
    render: (request, controls) => renderScene(request, controls, capabilities.maxEdge),
  }
}

function refuseWhatNeedsGpu(request: RenderRequest): void {
  if (request.persona !== null || !OPERATIONS.includes(request.operation)) {
    throw new AppError('BACKEND_NEEDS_GPU', NEEDS_GPU_MESSAGE, {
      details: { operation: request.operation, persona: request.persona?.id ?? null },
    })
  }
}

async function stage(controls: RenderControls, percent: number, message: string): Promise<void> {
  // why before reporting: an aborted render must not report progress it won't make.
  controls.signal.throwIfAborted()
  await controls.onProgress(percent, message)
}

/**
 * The product's pixels to stretch over its place on the canvas. Shrinking
 * goes through libvips (Lanczos, no aliasing in prints and knits) on its own
 * thread while this one draws the shadow; enlarging (at most MAX_UPSCALE)
 * samples the source directly, bilinearly, inside the composite.
 * why not libvips for enlarging too: its upsampler costs more than the whole
 * rest of the render at 2048 px.
 */
async function shrinkProduct(pixels: RawImage, crop: Box, placed: PlacedProduct): Promise<Sampled> {
  // Enlarged or 1:1 (then the composite copies the source pixels as they are).
  if (placed.placement.scale >= 1) return { image: pixels, region: crop }
  const { data, info } = await sharp(pixels.data, {
    raw: { width: pixels.width, height: pixels.height, channels: pixels.channels },
  })
    .extract(crop)
    .resize(placed.width, placed.height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true })
  const image: RawImage = { data, width: info.width, height: info.height, channels: pixels.channels }
  return { image, region: { left: 0, top: 0, width: info.width, height: info.height } }
}

async function renderScene(request: RenderRequest, controls: RenderControls, maxEdge: number): Promise<RenderResult> {
  const started = performance.now()
  refuseWhatNeedsGpu(request)
  controls.signal.throwIfAborted()
  const { source, output } = request
  if (output.width > maxEdge || output.height > maxEdge || output.width < 1 || output.height < 1) {
    throw new AppError('INVALID_INPUT', `Output size ${output.width} × ${output.height} is outside 1–${maxEdge} px.`)
  }
  const scene = request.scene.backends['cpu-studio'] ?? DEFAULT_STUDIO
  const variation = request.variation ?? NEUTRAL_VARIATION

  // why the mask is started before the scene is painted: its first step
  // shrinks the photo in libvips, on another thread, while this one paints.
  const finding = findProductMask(source, request.mask)
  finding.catch(() => undefined)
  await stage(controls, 5, 'building the scene')
  // why shared memory: the fidelity check reads the finished canvas from its own thread without a copy.
  const canvas = sharedBytes(output.width * output.height * 3)
  paintBackground(canvas, output.width, output.height, scene.background, request.seed)
  paintKeyLight(canvas, output.width, output.height, variation.light)

  await stage(controls, 20, 'finding the product')
  const found = await finding

  await stage(controls, 45, 'placing the product')
  const placed = placeProduct(found.bbox, output, scene, variation.framing)
  const crop = placed.placement.crop
  const productPixels = shrinkProduct(source.pixels, crop, placed)
  // why the fidelity check's source side now: it needs only the mask and the
  // placement, and since the final encode went native (ADR 009) the check,
  // not the encode, is the render's last stage; its resample runs in libvips
  // while the shadow and the composite are drawn here.
  const preparing = prepareFidelity({ source, sourceMask: found.mask, placement: placed.placement, frame: output })
  // why: if a later stage throws first, these abandoned promises must not surface as unhandled rejections.
  preparing.catch(() => undefined)
  productPixels.catch(() => undefined)

  await stage(controls, 55, 'adding the shadow')
  paintShadow(canvas, output.width, output.height, placed, found.mask, source, scene.shadow, variation.light)

  await stage(controls, 65, 'matching the light')
  const productMean = productMeanColour(source.pixels, found.mask, crop)
  const light = lightMatch(scene.lightColor, scene.lightMatch, productMean)
  const matte = found.backdrop ? edgeMatte(found.backdrop, productMean, localReach(source.pixels, found.mask, found.backdrop)) : undefined

  await stage(controls, 75, 'compositing')
  const mx = found.mask.width / source.width
  const my = found.mask.height / source.height
  const maskRegion = { left: crop.left * mx, top: crop.top * my, width: crop.width * mx, height: crop.height * my }
  const at = { left: placed.placement.x, top: placed.placement.y, width: placed.width, height: placed.height }
  compositeProduct(
    canvas,
    output.width,
    output.height,
    at,
    await productPixels,
    { image: found.mask, region: maskRegion },
    light.tables,
    matte,
  )

  await stage(controls, 85, 'encoding and checking fidelity')
  const pixels: RawImage = { data: canvas, width: output.width, height: output.height, channels: 3 }
  // why together: the encode runs on libuv's thread pool while the comparison runs here.
  const encoding = encodeFinalJpeg(pixels)
  const measuring = preparing.then((prepared) => compareFidelity(prepared, pixels))
  const [image, fidelity] = await Promise.all([encoding, measuring])

  controls.signal.throwIfAborted()
  await controls.onProgress(100, 'done')
  return {
    image,
    contentType: 'image/jpeg',
    pixels,
    width: output.width,
    height: output.height,
    sourceMask: found.mask,
    placement: placed.placement,
    fidelity,
    backendMs: performance.now() - started,
    workflow: CPU_STUDIO_WORKFLOW,
    ...(request.variation && { variation: { light: variation.light, framing: placed.framing } }),
    meta: { maskOrigin: found.origin, productCoverage: found.coverage, lightMatchDeltaE: light.deltaE },
  }
}
