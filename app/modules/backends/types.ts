import type { Market, Operation, Persona, Scene, BackendType } from '#app/modules/looks/schema.ts'

export interface BackendCapabilities {
  type: BackendType
  operations: Operation[]
  /** Can realise a model persona (needs generative models: GPU backends). */
  personas: boolean
  /** Largest output edge in px. */
  maxEdge: number
  models: string[]
}

/** The source image after normalisation (sRGB, orientation applied, no metadata). */
export interface SourceImage {
  /** Encoded PNG bytes (lossless; alpha kept when the original had it). */
  png: Buffer
  width: number
  height: number
  hasAlpha: boolean
  sha256: string
}

export interface RenderRequest {
  renderId: string
  operation: Operation
  source: SourceImage
  /** Optional merchant mask: 8-bit single-channel PNG, white = product (keep). */
  mask?: Buffer
  persona: Persona | null
  market: Market
  scene: Scene
  seed: number
  output: { width: number; height: number }
}

/**
 * Where the product's source pixels ended up in the result: the source (or
 * its product crop `crop`) scaled by `scale` with its top-left at (x, y).
 * Fidelity checks warp the source with this to compare like with like.
 */
export interface Placement {
  crop: { left: number; top: number; width: number; height: number }
  scale: number
  x: number
  y: number
}

export interface RenderResult {
  /** Encoded PNG of the final image, output.width × output.height, sRGB, no alpha. */
  png: Buffer
  width: number
  height: number
  /** Product mask in SOURCE coordinates: 8-bit single-channel PNG, white = product. */
  sourceMask: Buffer
  placement: Placement
  backendMs: number
  workflow: string
  meta?: Record<string, unknown>
}

export interface RenderControls {
  onProgress: (percent: number, message: string) => void | Promise<void>
  signal: AbortSignal
}

export interface Backend {
  readonly id: string
  capabilities(): BackendCapabilities
  render(request: RenderRequest, controls: RenderControls): Promise<RenderResult>
  health(): Promise<{ ok: boolean; detail?: string }>
}
