import { beforeAll, describe, expect, it } from 'vitest'
import { H, W, fidelityFixture, type FidelityFixture } from '#test/support/fidelity-render.ts'
import { srgbToLab } from '../colour.ts'
import { compareDetail } from './compare.server.ts'
import { INTERIOR } from './grid.ts'
import { prepareDetail } from './reference.server.ts'
import { VISIBLE } from './score.ts'
import type { DetailReference } from './types.ts'
import { BLOCK, floatSrgbToLab, interiorBlocks, matchedDeltaE } from './colour-blocks.ts'

describe('floatSrgbToLab', () => {
  it('agrees with srgbToLab on code values and on block means between them', () => {
    const ours = new Float64Array(3)
    const theirs = new Float64Array(3)
    for (const [r, g, b] of [
      [0, 0, 0],
      [255, 255, 255],
      [200, 30, 90],
      [12, 140, 250],
    ]) {
      floatSrgbToLab(r, g, b, ours)
      srgbToLab(r, g, b, theirs)
      for (let k = 0; k < 3; k++) expect(ours[k]).toBeCloseTo(theirs[k], 3)
    }
    // A block mean of 16 pixels (100.0625) sits between two code values.
    floatSrgbToLab(100.0625, 100.0625, 100.0625, ours)
    srgbToLab(100, 100, 100, theirs)
    expect(ours[0]).toBeGreaterThan(theirs[0])
    srgbToLab(101, 101, 101, theirs)
    expect(ours[0]).toBeLessThan(theirs[0])
  })
})

describe('matchedDeltaE', () => {
  const w = 48
  const h = 48
  // A square product (signed distance > 0 inside) with a fine print on it.
  const signed = new Float32Array(w * h)
  const src = new Uint8Array(3 * w * h)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x
      signed[i] = Math.min(x, y, w - 1 - x, h - 1 - y) - 4
      const stripe = x % 6 < 3
      src.set(stripe ? [30, 60, 140] : [220, 200, 40], 3 * i)
    }
  }
  const ref = { width: w, height: h, ...interiorBlocks(src, signed, w, h) } as DetailReference

  it('tiles only the interior with blocks', () => {
    expect(ref.blocks.length).toBeGreaterThan(20)
    for (const at of ref.blocks) {
      const x = at % w
      const y = (at - x) / w
      for (let j = 0; j < BLOCK; j++) for (let i = 0; i < BLOCK; i++) expect(signed[(y + j) * w + x + i]).toBeGreaterThanOrEqual(INTERIOR)
    }
  })

  it('is 0 on the same pixels and near 0 on the print moved by one pixel', () => {
    expect(matchedDeltaE(ref, src).mean).toBeLessThan(1e-4)
    const moved = new Uint8Array(src.length)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) moved.set(src.subarray(3 * (y * w + Math.max(0, x - 1)), 3 * (y * w + Math.max(0, x - 1)) + 3), 3 * (y * w + x))
    expect(matchedDeltaE(ref, moved).mean).toBeLessThan(0.5)
  })

  it('measures a tint over the whole product, block by block', () => {
    const tinted = src.map((v, k) => (k % 3 === 0 ? Math.min(255, v + 20) : v))
    const d = matchedDeltaE(ref, tinted)
    expect(d.mean).toBeGreaterThan(VISIBLE.deltaE)
    expect(d.perBlock).toHaveLength(ref.blocks.length)
    expect(Math.min(...d.perBlock)).toBeGreaterThan(1)
  })
})

describe('colour on a render', () => {
  let fx: FidelityFixture
  beforeAll(async () => {
    fx = await fidelityFixture()
  })

  it('measures a tint after alignment as the colour change it is', async () => {
    const data = Uint8Array.from(fx.clean.data)
    const alpha = fx.productAlpha()
    for (let i = 0; i < alpha.length; i++) {
      if (alpha[i] < 0.5) continue
      data[3 * i] = Math.min(255, data[3 * i] + 14)
      data[3 * i + 2] = Math.max(0, data[3 * i + 2] - 14)
    }
    const ref = await prepareDetail({
      source: fx.source,
      sourceMask: fx.render.sourceMask,
      placement: fx.render.placement,
      frame: { width: W, height: H },
    })
    const d = await compareDetail(ref!, { data, width: W, height: H, channels: 3 })
    expect(d.matchedDeltaEMean).toBeGreaterThan(VISIBLE.deltaE)
    expect(d.edgeScore).toBeGreaterThan(VISIBLE.edgeScore)
  })
})
