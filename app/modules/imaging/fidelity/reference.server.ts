// The source side of the shift-robust measures: everything that needs only
// the source photo, its mask and the placement.
import type { Placement, RawImage, SourceImage } from '../types.ts'
import { BAND, cellGrid, DETAIL_CELL, gridRegions, luma, maskOnGrid, windowGrid } from './grid.ts'
import { resample } from './resample.server.ts'
import type { DetailReference } from './types.ts'
import { narrowGaps, partThickness, signedDistance, thinBand } from './distance.ts'
import { coverageOf, facesDown, fillFrom, floorRow, nearOutline, productColour, rimProduct } from './scene.ts'
import { interiorBlocks } from './colour-blocks.ts'
import { highPass } from './print-detail.ts'
import { blurredLab } from './local-change.ts'

export async function prepareDetail(input: {
  source: SourceImage
  sourceMask: RawImage
  placement: Placement
  frame: { width: number; height: number }
}): Promise<DetailReference | undefined> {
  const { source, sourceMask, placement: p, frame } = input
  const regions = gridRegions(p, frame, source)
  if (!regions) return undefined
  const { result: resultRect, source: sourceRect, width, height } = regions
  // why flattened on white: a cut-out's edge pixels carry the product's full colour under partial
  // alpha; on white they become the mix a photo on a backdrop has, which the edge band reads.
  const src = await resample(source.pixels, sourceRect, width, height, true)
  const n = width * height
  const alpha = maskOnGrid(sourceMask, source, sourceRect, width, height)
  const signed = signedDistance(alpha, width, height)
  const srcLuma = luma(src, n)
  const { near, sceneNear } = nearOutline(signed)
  const backdrop = fillFrom(src, signed, width, height, -(BAND + 2), sceneNear, near)
  const product = productColour(src, alpha, signed, width, height)
  const srcCoverage = new Float32Array(n).fill(Number.NaN)
  const floor = floorRow(alpha, width, height)
  const gap = narrowGaps(signed, width, height)
  const rim = rimProduct(product, src, signed, backdrop, width, height)
  const rimCoverage = new Float32Array(n).fill(Number.NaN)
  for (let i = 0; i < n; i++) {
    if (Math.abs(signed[i]) > BAND) continue
    if (i >= floor * width || gap[i] || facesDown(signed, i, width, height)) continue
    srcCoverage[i] = coverageOf(src, i, product, backdrop)
    if (!Number.isNaN(rim[3 * i])) rimCoverage[i] = coverageOf(src, i, rim, backdrop)
  }
  const srcDetail = highPass(srcLuma, width, height)
  const { blocks, blockLab, blockRgb } = interiorBlocks(src, signed, width, height)
  const [srcLabL, srcLabA, srcLabB] = blurredLab(src, width, height)
  return {
    frame,
    resultRect,
    width,
    height,
    src,
    srcLuma,
    alpha,
    signed,
    near,
    sceneNear,
    backdrop,
    product,
    srcCoverage,
    rimProduct: rim,
    rimCoverage,
    thin: thinBand(signed, width, height),
    thickness: partThickness(signed, width, height),
    srcDetail,
    srcLabL,
    srcLabA,
    srcLabB,
    blocks,
    blockLab,
    blockRgb,
    cells: cellGrid(width, height),
    detailGrid: windowGrid(width, height, DETAIL_CELL),
  }
}
