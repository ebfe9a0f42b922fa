import { performance } from 'node:perf_hooks'
import sharp from 'sharp'
import type {
  Backend,
  BackendCapabilities,
  Placement,
  RawImage,
  RenderRequest,
  RenderResult,
} from '#app/modules/backends/types.ts'
import { operations } from '#app/modules/looks/schema.ts'

export const ZERO_LATENCY_BACKEND_ID = 'zero-latency'

export interface ZeroLatencyOptions {
  /** Largest output edge it offers; small by default so createRenders asks for cheap outputs. */
  maxEdge?: number
  /** Share of the canvas the product fills, on its limiting edge. */
  fill?: number
  /** Id to register under (several variants in one process). */
  id?: string
  /**
   * Red-channel shift applied to the product for a given seed, as a generative
   * backend that recolours a garment would. why: the QA gate's tests need a
   * backend whose fidelity depends on the seed. 0 = faithful.
   */
  tintForSeed?: (seed: number) => number
  /** Report the output as already protected (a hosted backend with its own product lock), so the worker measures it as is. */
  claimsProtected?: boolean
}

const BACKDROP = { r: 244, g: 243, b: 240 }

/**
 * A real Backend that answers at once: the source, scaled to fit, centred on
 * a plain canvas of the requested size. why: the queue bench and the worker
 * tests measure dispatch and bookkeeping, not imaging, so the backend must
 * cost next to nothing while still returning what the fidelity check and the
 * store expect (exact placement, the pixels, a full-white source mask).
 */
export function createZeroLatencyBackend(opts: ZeroLatencyOptions = {}): Backend {
  const fill = opts.fill ?? 0.8
  const capabilities: BackendCapabilities = {
    // why: the type only says which per-backend look settings apply; it reads none.
    type: 'cpu-studio',
    operations: [...operations],
    personas: true,
    maxEdge: opts.maxEdge ?? 512,
    models: [],
  }
  return {
    id: opts.id ?? ZERO_LATENCY_BACKEND_ID,
    capabilities: () => capabilities,
    health: async () => ({ ok: true }),
    async render(request: RenderRequest, controls): Promise<RenderResult> {
      const started = performance.now()
      controls.signal.throwIfAborted()
      const { source, output } = request
      const scale = Math.min((output.width * fill) / source.width, (output.height * fill) / source.height)
      const width = Math.max(1, Math.min(output.width, Math.round(source.width * scale)))
      const height = Math.max(1, Math.min(output.height, Math.round(source.height * scale)))
      const placement: Placement = {
        crop: { left: 0, top: 0, width: source.width, height: source.height },
        scale,
        x: Math.floor((output.width - width) / 2),
        y: Math.floor((output.height - height) / 2),
      }
      const { data: product } = await sharp(source.pixels.data, {
        raw: { width: source.pixels.width, height: source.pixels.height, channels: source.pixels.channels },
      })
        .flatten({ background: BACKDROP })
        .resize(width, height, { fit: 'fill' })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true })

      const canvas = new Uint8Array(output.width * output.height * 3)
      for (let i = 0; i < canvas.length; i += 3) {
        canvas[i] = BACKDROP.r
        canvas[i + 1] = BACKDROP.g
        canvas[i + 2] = BACKDROP.b
      }
      const tint = opts.tintForSeed?.(request.seed) ?? 0
      if (tint !== 0) for (let i = 0; i < product.length; i += 3) product[i] = Math.max(0, Math.min(255, product[i] + tint))
      for (let row = 0; row < height; row++) {
        const from = row * width * 3
        canvas.set(product.subarray(from, from + width * 3), ((placement.y + row) * output.width + placement.x) * 3)
      }
      const pixels: RawImage = { data: canvas, width: output.width, height: output.height, channels: 3 }
      const image = await sharp(canvas, { raw: { width: output.width, height: output.height, channels: 3 } })
        .png({ compressionLevel: 1 })
        .toBuffer()
      const sourceMask: RawImage = {
        data: new Uint8Array(source.width * source.height).fill(255),
        width: source.width,
        height: source.height,
        channels: 1,
      }
      await controls.onProgress(90, 'composited')
      return {
        image,
        contentType: 'image/png',
        pixels,
        width: output.width,
        height: output.height,
        sourceMask,
        placement,
        backendMs: performance.now() - started,
        workflow: 'zero-latency@1',
        protected: opts.claimsProtected,
      }
    },
  }
}
