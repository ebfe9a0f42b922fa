// The prepared source side of the shift-robust measures, and what a comparison returns.
import type { CellGrid, Rect } from './grid.ts'
import type { ChangeKind } from './change-kind.ts'

/** The heat map as a render stores it (DetailMeasures.heatMap). */
export interface HeatMap {
  width: number
  height: number
  rect: Rect
  png: string
  hot: number
}

/** L*, a*, b* planes of a grid. */
export type LabPlanes = readonly [Float32Array, Float32Array, Float32Array]

/** What needs only the source and the placement, ready to compare with any result of `frame` size. */
export interface DetailReference {
  frame: { width: number; height: number }
  resultRect: Rect
  width: number
  height: number
  /** Source region on the grid, RGB. */
  src: Uint8Array
  srcLuma: Float32Array
  /** Source mask on the grid, 0..1. */
  alpha: Float32Array
  /** Signed distance to the outline (mask 0.5), grid px, > 0 inside. */
  signed: Float32Array
  /** Grid pixels near the outline (the band and a little scene): the only ones scene colours are needed at. */
  near: Int32Array
  /** Scene pixels close enough to the product to fill its scene colours from. */
  sceneNear: Int32Array
  /** The scene behind the product in the source (its backdrop), RGB, filled in under and around the product. */
  backdrop: Float32Array
  /** The product's own colour near each edge-band pixel, RGB (NaN where unknown). */
  product: Float32Array
  /** Coverage of each band pixel read from the source's colours, 0..1 (NaN off the band). */
  srcCoverage: Float32Array
  /** 1 for band pixels of the product's thin parts (straps, ties, handles narrower than THIN px). */
  thin: Uint8Array
  /** The product's colour at the rim with the photo's backdrop taken out, RGB (NaN where nothing was, scene.ts rimProduct). */
  rimProduct: Float32Array
  /** Coverage of each rim pixel read from the source against rimProduct (NaN where it is). */
  rimCoverage: Float32Array
  /** Thickness (grid px) of the part of the product each band pixel belongs to; PART_MAX and above = the body. */
  thickness: Float32Array
  srcDetail: Float32Array
  /** The source's Lab, blurred (local-change.ts). */
  srcLabL: Float32Array
  srcLabA: Float32Array
  srcLabB: Float32Array
  /** Interior blocks for ΔE: top-left pixel of each, and the source's mean Lab over it. */
  blocks: Int32Array
  blockLab: Float32Array
  blockRgb: Float32Array
  cells: CellGrid
  detailGrid: CellGrid
}

export interface DetailMeasures {
  /** Mean SSIM of luminance over the aligned, eroded product interior. */
  interiorSsim: number
  /** ΔE2000 between matched 4×4 blocks of the aligned interior: mean and 95th percentile. */
  matchedDeltaEMean: number
  matchedDeltaEP95: number
  /** 1 = the outline region holds the same product; below 0.8 a shopper sees a changed edge. */
  edgeScore: number
  /** 1 = all of the print's detail is found again; below 0.75 print or letters were lost or changed. */
  detailRatio: number
  /** The interior's worst local change (local-change.ts): badness 1 = just visible; where, in result px. */
  local: { badness: number; kind: ChangeKind; region?: Rect }
  /** The alignment found: result = source moved by (dx, dy) result px and scaled by `scale`. */
  alignment: { dx: number; dy: number; scale: number }
  /**
   * Where the product changed: HEAT_CELLS × HEAT_CELLS cells over `rect`
   * (result px), row-major, 0 (same) … 1 (changed); -1 where there is no product.
   */
  heat: { cols: number; rows: number; rect: Rect; cells: number[] }
  /**
   * Where the product changed at the comparison grid's own resolution (heat-pixels.ts):
   * a width × height greyscale PNG (base64) over `rect` (result px), byte = 255 × heat;
   * `hot` counts the grid px at or past the visible threshold (heat 0.5).
   */
  heatMap: HeatMap
  /** Where the edge, print and colour measures each found their change, result px (heat-map.ts). */
  regions: { edge?: Rect; detail?: Rect; colour?: Rect }
}
