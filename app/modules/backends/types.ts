import type { Market, Operation, Persona, Scene, BackendType } from '#app/modules/looks/schema.ts'
import type { CheckReason } from './failure.server.ts'
import type { AppliedVariation, Variation } from '#app/modules/looks/variation.ts'
import type { FidelityReport, Framing, Placement, RawImage, ResultPixels, SourceImage } from '#app/modules/imaging/types.ts'

// why re-exported: adapters and the pipeline take pixel types with the backend contract; imaging owns them.
export type { FidelityReport, Framing, Placement, RawImage, ResultPixels, SourceImage }

export interface BackendCapabilities {
  type: BackendType
  operations: Operation[]
  /** Can realise a model persona (needs generative models: GPU backends). */
  personas: boolean
  /** Largest output edge in px. */
  maxEdge: number
  models: string[]
  /** Operations it does only with the merchant's garment mask (a model change keeps only what the mask marks). */
  garmentMaskFor?: Operation[]
  /**
   * Renders it takes at once (the scheduler enforces this across every worker
   * process). Default: 1 for a GPU server; the in-process CPU studio is
   * limited by the workers' own concurrency instead.
   */
  slots?: number
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
  /** What this variant changes (looks/variation.ts, from the seed); absent: the look as its scene defines it. */
  variation?: Variation
  output: { width: number; height: number }
}

/** A backend's result; the pixel side (imaging/types.ts `ResultPixels`) is what post-processing reads. */
export interface RenderResult extends ResultPixels {
  /**
   * Set only by in-process backends that ran the shared fidelity check on
   * the exact pixels they encoded (the CPU studio does it while its JPEG
   * encodes, on the other core). When absent, the pipeline measures.
   */
  fidelity?: FidelityReport
  backendMs: number
  workflow: string
  /** The part of the request's variation this backend expressed (absent: none was asked for). */
  variation?: AppliedVariation
  meta?: Record<string, unknown>
}

export interface RenderControls {
  onProgress: (percent: number, message: string) => void | Promise<void>
  signal: AbortSignal
  /**
   * Called once, before the backend is asked to render, with what the result
   * will be framed by: the product mask sent, the placement and the output
   * size. why: the worker prepares the source side of post-processing
   * (imaging/postprocess.server.ts) while the backend renders.
   */
  onFramed?: (framing: Framing) => void
}

export interface Backend {
  readonly id: string
  capabilities(): BackendCapabilities
  render(request: RenderRequest, controls: RenderControls): Promise<RenderResult>
  /** Never throws; a failure says why in words (`detail`) and in a word the page translates (`reason`). */
  health(): Promise<{ ok: boolean; detail?: string; reason?: CheckReason }>
  /**
   * What it has loaded, when the backend knows (null: not known yet). The
   * scheduler uses it when it is one of its model keys (backends/model-key.ts
   * `modelKey`); otherwise it assumes the model of the last render it gave it.
   */
  loadedModel?(): string | null | undefined
}
