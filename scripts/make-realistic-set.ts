// Generates the realistic fidelity golden set (`npm run golden -- --realistic
// [product]`): catalog garments given fabric grain, weave and folds,
// rendered by the real CPU studio into textured scenes, then altered inside
// the product the way generators alter products (parts, print, interior
// contours, outline), beside clean controls that leave the product as it is.
// Writes test/golden/realistic/<product>/ and its manifest.json.
//
// Deterministic: same code, same sharp/libvips build, same bytes.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import type { Placement, RawImage, SourceImage } from '#app/modules/backends/types.ts'
import { REPO_ROOT } from '#test/golden/golden-set.ts'
import {
  REALISTIC_DIR,
  REALISTIC_MANIFEST,
  realisticManifestSchema,
  type RealisticCase,
  type RealisticManifest,
} from '#test/golden/realistic-set.ts'
import { frameShifted, frameZoomed, marginCropped, relit, sharpened } from './realistic/controls.ts'
import { applyDefect, drawingToResult, type Scene } from './realistic/defects.ts'
import { changedBox, decodeRgb, encodeJpeg, meanDeltaE, productAlpha, seedOf, signedDistance, studioRender } from './golden/pixels.ts'
import { PRODUCTS, type RealisticProduct } from './realistic/products.ts'
import { prepareProduct, renderOn, scenePlate, texturedSource, type Rendered } from './realistic/studio.ts'

/** One case before it is written: its file and what the manifest says beyond the product's defaults. */
interface Made {
  kind: string
  family: RealisticCase['family']
  file: Buffer
  scene: string
  placement?: Placement
  mask?: RawImage
  magnitude: number
  unit: string
  achieved?: number
  note?: string
  region?: RealisticCase['region']
}

const round = (v: number, places = 3): number => Math.round(v * 10 ** places) / 10 ** places

async function defectCases(product: RealisticProduct, source: SourceImage, main: Rendered): Promise<Made[]> {
  const frame = { width: main.clean.width, height: main.clean.height }
  const alpha = productAlpha(main.mask, source, main.placement, frame)
  let top = frame.height
  let bottom = 0
  for (let i = 0; i < alpha.length; i++) {
    if (alpha[i] < 0.5) continue
    top = Math.min(top, Math.floor(i / frame.width))
    bottom = Math.max(bottom, Math.floor(i / frame.width))
  }
  const scene: Scene = {
    clean: main.clean,
    alpha,
    signed: signedDistance(alpha, frame.width, frame.height),
    plate: scenePlate(main.scene, frame),
    productHeight: bottom - top + 1,
  }
  const map = drawingToResult(product, source, main.placement)
  const made: Made[] = []
  for (const spec of product.defects) {
    const altered = await applyDefect(spec, scene, map, product)
    const file = await encodeJpeg(altered.image)
    const stored = await decodeRgb(file)
    const box = changedBox(stored, main.clean)
    if (!box) throw new Error(`${product.id}/${spec.kind} changed no pixel`)
    made.push({
      kind: spec.kind,
      family: spec.family,
      file,
      scene: main.scene,
      magnitude: altered.magnitude,
      unit: altered.unit,
      note: altered.note,
      region: { left: box.x0, top: box.y0, width: box.x1 - box.x0, height: box.y1 - box.y0 },
      ...(altered.element ? { achieved: round(meanDeltaE(main.clean.data, stored.data, altered.element, 0.5)) } : {}),
    })
  }
  return made
}

async function controlCases(
  product: RealisticProduct,
  source: SourceImage,
  main: Rendered,
  rerender: (scene: string, grainSeed?: number) => Promise<Rendered>,
): Promise<Made[]> {
  const c = product.controls
  const { clean, cleanFile, placement } = main
  const frame = { width: clean.width, height: clean.height }
  const made: Made[] = []
  const add = (kind: string, family: Made['family'], file: Buffer, size: [number, string], extra: Partial<Made> = {}) =>
    made.push({ kind, family, file, scene: main.scene, magnitude: size[0], unit: size[1], ...extra })
  const own = (r: Rendered): Partial<Made> => ({
    scene: r.scene,
    placement: r.placement,
    ...(sameMask(r.mask, main.mask) ? {} : { mask: r.mask }),
  })
  add(`render_${main.scene}`, 'studio_render', cleanFile, [0, 'none'])
  for (const scene of c.alsoOn ?? []) {
    const r = await rerender(scene)
    add(`render_${scene}`, 'studio_render', r.cleanFile, [0, 'none'], own(r))
  }
  if (c.jpeg) {
    const { quality, chroma } = c.jpeg
    add(`jpeg_q${quality}`, 'jpeg', await encodeJpeg(clean, quality, chroma), [quality, 'JPEG quality'], {
      note: `re-encoded ${chroma}`,
    })
  }
  if (c.shift) {
    const moved = frameShifted(clean, placement, ...c.shift)
    add('frame_shift', 'frame_shift', await encodeJpeg(moved.image), [round(Math.hypot(...c.shift)), 'px'], {
      placement: moved.placement,
      note: `moved (${c.shift.join(', ')}) px, edges repeated`,
    })
  }
  if (c.zoom) {
    const [cx, cy] = drawingToResult(product, source, placement)
      .point(...c.zoom.about)
      .map(Math.round)
    const zoomed = frameZoomed(clean, placement, c.zoom.percent, cx, cy)
    add('frame_zoom', 'frame_zoom', await encodeJpeg(zoomed.image), [c.zoom.percent, '% zoom'], {
      placement: zoomed.placement,
      note: `about (${cx}, ${cy})`,
    })
  }
  if (c.relight) {
    const lit = await relit(clean, productAlpha(main.mask, source, placement, frame), c.relight)
    add('relight', 'relight', lit.file, [1.2, 'mean ΔE2000 over the product, at most'], {
      achieved: round(lit.achieved),
      note: `gradient at ${c.relight.angle}°, ${c.relight.warmth > 0 ? 'warmer' : 'cooler'}`,
    })
  }
  if (c.swap) {
    const r = await rerender(c.swap)
    add(`swap_${c.swap}`, 'scene_swap', r.cleanFile, [0, 'none'], own(r))
  }
  if (c.sharpen) add('sharpen', 'sharpen', await sharpened(cleanFile, c.sharpen), [c.sharpen, 'unsharp σ, px'])
  if (c.resynth) {
    const r = await rerender(main.scene, seedOf(product.id) + 2)
    // why insist: the control is only clean if the garment's geometry is the same.
    if (JSON.stringify(r.placement) !== JSON.stringify(placement)) throw new Error(`${product.id}: new grain moved the product`)
    add('grain_resynth', 'texture_resynth', r.cleanFile, [0, 'none'], {
      ...own(r),
      note: 'rendered from the source with new grain noise, same statistics, outline band kept',
    })
  }
  if (c.crop) {
    const cut = await marginCropped(cleanFile, placement, frame, c.crop)
    add('margin_crop', 'margin_crop', cut.file, [c.crop, 'px margin'], { placement: cut.placement, note: cut.note })
  }
  return made
}

function sameMask(a: RawImage, b: RawImage): boolean {
  return a.width === b.width && a.height === b.height && Buffer.compare(Buffer.from(a.data), Buffer.from(b.data)) === 0
}

async function writeMask(file: string, mask: RawImage): Promise<void> {
  const { data, width, height } = mask
  await writeFile(
    file,
    await sharp(data, { raw: { width, height, channels: 1 } })
      .png({ compressionLevel: 9 })
      .toBuffer(),
  )
}

async function makeProduct(product: RealisticProduct): Promise<RealisticCase[]> {
  const dir = path.join(REALISTIC_DIR, product.id)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const prepared = await prepareProduct(product)
  const { file, pixels, source } = await texturedSource(product, prepared, seedOf(product.id) + 1)
  const sourceFile = path.join(dir, 'source.jpg')
  await writeFile(sourceFile, file)
  const main = await renderOn(product, source, prepared.brush, product.scene)
  const maskFile = path.join(dir, 'mask.png')
  await writeMask(maskFile, main.mask)
  const rerender = async (scene: string, grainSeed?: number): Promise<Rendered> =>
    renderOn(
      product,
      grainSeed === undefined ? source : (await texturedSource(product, prepared, grainSeed, pixels)).source,
      prepared.brush,
      scene,
    )
  const made = [...(await controlCases(product, source, main, rerender)), ...(await defectCases(product, source, main))]
  const cases: RealisticCase[] = []
  for (const m of made) {
    const result = path.join(dir, `${m.kind}.jpg`)
    await writeFile(result, m.file)
    const caseMask = m.mask ? path.join(dir, `mask-${m.kind}.png`) : maskFile
    if (m.mask) await writeMask(caseMask, m.mask)
    const defect = m.region !== undefined
    cases.push({
      id: `${product.id}/${m.kind}`,
      product: product.id,
      scene: m.scene,
      family: m.family,
      kind: m.kind,
      expected: defect ? 'defect' : 'clean',
      source: path.relative(REPO_ROOT, sourceFile),
      mask: path.relative(REPO_ROOT, caseMask),
      result: path.relative(REPO_ROOT, result),
      placement: m.placement ?? main.placement,
      ...(m.region ? { region: m.region } : {}),
      magnitude: m.magnitude,
      unit: m.unit,
      ...(m.achieved === undefined ? {} : { achieved: m.achieved }),
      note: [product.note, m.note].filter(Boolean).join('; '),
    })
  }
  return cases
}

async function main(): Promise<void> {
  const only = process.argv.slice(2).find((a) => !a.startsWith('--'))
  const started = performance.now()
  let cases: RealisticCase[] = []
  for (const product of PRODUCTS) {
    if (only && product.id !== only) continue
    const made = await makeProduct(product)
    console.log(`  ${product.id}: ${made.length} cases`)
    cases.push(...made)
  }
  if (only) {
    const previous = await readFile(REALISTIC_MANIFEST, 'utf8').then(
      (text) => realisticManifestSchema.parse(JSON.parse(text)).cases,
      () => [],
    )
    cases = [...previous.filter((c) => c.product !== only), ...cases]
  }
  cases.sort((a, b) => a.product.localeCompare(b.product) || a.expected.localeCompare(b.expected) || a.kind.localeCompare(b.kind))
  const manifest: RealisticManifest = realisticManifestSchema.parse({
    version: 1,
    generator: 'scripts/make-realistic-set.ts',
    render: studioRender(),
    cases,
  })
  await writeFile(REALISTIC_MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`)
  const defects = cases.filter((c) => c.expected === 'defect').length
  console.log(`Done: ${cases.length} cases (${defects} defects) in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}

await main()
