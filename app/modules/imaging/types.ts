// Pixel types every imaging stage hands to the next; backends build on them, never the reverse.

/**
 * Decoded 8-bit pixels: row-major, channels interleaved, no row padding.
 * why: stages hand pixels to each other raw; a PNG encode of a 2048² image
 * costs more than the whole composite.
 */
export interface RawImage {
  data: Uint8Array
  width: number
  height: number
  channels: 1 | 2 | 3 | 4
}

/** The source image after normalisation (sRGB, orientation applied, no metadata). */
export interface SourceImage {
  /** sRGB pixels; 4 channels (RGBA, not premultiplied) when the original had alpha, else 3. */
  pixels: RawImage
  width: number
  height: number
  hasAlpha: boolean
  sha256: string
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

/** A region of a result in fractions of its width and height, as reasons carry it. */
export interface Fractions {
  x: number
  y: number
  width: number
  height: number
}

/** What a local change is: the outline, an inner contour, the print slid, its detail smeared, a print colour, a part. */
export type ChangeKind = 'outline' | 'shape' | 'warp' | 'detail' | 'colour' | 'part'

/** What the fidelity check measured; the score formula is in imaging/fidelity.server.ts. */
export interface FidelityReport {
  /** The aligned measures below (interiorSsim, matchedDeltaE*); older reports: a pixel-wise pass (docs/decisions/013). */
  ssim: number
  deltaEMean: number
  deltaEP95: number
  maskCoverage: number
  /** The shift-robust measures (imaging/fidelity/), after aligning the result to the source. */
  interiorSsim?: number
  matchedDeltaEMean?: number
  matchedDeltaEP95?: number
  /** 1 = the outline holds the same product; below 0.8 an edge, strap or fringe changed. */
  edgeScore?: number
  /** 1 = the print's detail is all there; below 0.75 print or letters were lost or changed. */
  detailRatio?: number
  /** The interior's worst local change (fidelity v6): 1 = just visible; where, in fractions of the result. */
  localChange?: { badness: number; kind: ChangeKind; region?: Fractions }
  /** Where the edge, print and colour measures each found their change, in fractions of the result (fidelity v6). */
  regions?: { edge?: Fractions; detail?: Fractions; colour?: Fractions }
  /** How far the product sat from its placement (result px) and at what scale. */
  alignment?: { dx: number; dy: number; scale: number }
  /** Where the product changed: cols × rows cells over `rect` (result px), 0 same … 1 changed, −1 no product. */
  heat?: { cols: number; rows: number; rect: { left: number; top: number; width: number; height: number }; cells: number[] }
  /** The same at the comparison grid's resolution: a greyscale PNG (base64), byte = 255 × heat; `hot` px at or past 0.5. */
  heatMap?: {
    width: number
    height: number
    rect: { left: number; top: number; width: number; height: number }
    png: string
    hot: number
  }
  /** 0–100. */
  score: number
  version: number
}

/** The pixel side of a backend's result: what post-processing decodes, protects and encodes. */
export interface ResultPixels {
  /**
   * The final image, encoded (see contentType), output.width × output.height,
   * sRGB, no alpha, no metadata. Absent when the backend hands over `pixels`
   * only: a remote result is post-processed by the worker
   * (imaging/postprocess.server.ts), which encodes the image it stores, so an
   * adapter's own encode would be thrown away.
   */
  image?: Buffer
  contentType: 'image/jpeg' | 'image/png'
  /**
   * The pixels `image` was encoded from, when the backend has them, so the
   * fidelity check needs no decode (a JPEG at quality 92 differs by noise only).
   */
  pixels?: RawImage
  width: number
  height: number
  /**
   * Product mask covering the SOURCE frame, white = product: raw single channel,
   * possibly at a lower resolution than the source (scale by source.width / mask.width).
   */
  sourceMask: RawImage
  /** Where the product is in the RESULT (a backend's own segmentation), white = product; for try-on and model changes. */
  resultMask?: RawImage
  /** True when the backend already protected the product (composited or colour-corrected it itself). */
  protected?: boolean
  placement: Placement
}

/** What a backend decided before rendering: the product mask it sends, where the product goes, the output frame. */
export interface Framing {
  sourceMask: RawImage
  placement: Placement
  width: number
  height: number
}
