// Post-processing benchmark: what the worker does to a remote backend's
// 2048×2048 render before it is stored, against a bare sharp decode + encode
// of the same render, in the same run (interleaved rounds, medians).
//
// Post-processing has two halves (docs/decisions/008-postprocess-split.md):
// - source side: the product mask, the composite layer (the source's product
//   pixels placed in the result frame) and the source half of every fidelity
//   measure. The mask is what the backend is sent, so it exists before the
//   render; the worker prepares the rest while the backend renders.
// - result side: decode the render, put the original product back, encode the
//   final JPEG while the fidelity check compares it with the source side.
// `ratio` is the result side against the bare decode + encode timed beside it
// (the median of the rounds' ratios): what a render waits for once the backend
// has answered. `full` is both halves back to back
// (what a render costs when nothing overlaps), printed beside it, with the CPU
// time of each. Then memory: both halves 1,000 times on a smaller render, RSS
// after a full GC compared between the first and the last 100, after a
// warm-up (glibc's and libvips' pools grow over the first few hundred renders
// and then hold; the warm-up's own growth is printed too).
//
//   node --expose-gc --import tsx test/bench/postprocess.bench.ts   (or: npm run bench -- postprocess)
//
// Knobs: BENCH_POSTPROCESS_RUNS (31), BENCH_POSTPROCESS_WARM_LOOPS (300),
// BENCH_POSTPROCESS_LOOPS (1000), BENCH_POSTPROCESS_LOOP_EDGE (384).
// The last line is machine-read: `BENCH postprocess ratio=<x> rss_growth_mb=<y>`.
import { performance } from 'node:perf_hooks'
import sharp from 'sharp'
import { createCpuStudioBackend } from '#app/modules/backends/cpu-studio/adapter.server.ts'
import { FINAL_JPEG, encodeFinalJpeg, jpegEncoder } from '#app/modules/imaging/jpeg.server.ts'
import type { Placement, RawImage, RenderResult, SourceImage } from '#app/modules/backends/types.ts'
import { findProductMask } from '#app/modules/imaging/mask.server.ts'
import { normaliseImage } from '#app/modules/imaging/normalise.server.ts'
import { decodeRgb, postprocessRemote, prepareSource, type PreparedReference } from '#app/modules/imaging/postprocess.server.ts'
import { markets } from '#app/modules/looks/markets.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import { encodeShot, productShot } from '#test/fixtures/product-images.ts'
import { positiveInt } from './support.ts'
import { quietControls } from '#test/support/render-controls.ts'

const EDGE = 2048
const RUNS = positiveInt('BENCH_POSTPROCESS_RUNS', 31)
const WARMUPS = 2
const WARM_LOOPS = positiveInt('BENCH_POSTPROCESS_WARM_LOOPS', 300)
const LOOPS = positiveInt('BENCH_POSTPROCESS_LOOPS', 1000)
const LOOP_EDGE = positiveInt('BENCH_POSTPROCESS_LOOP_EDGE', 384)
/** RSS is sampled (after a full GC) every this many iterations; the first and last 100 are compared. */
const SAMPLE_EVERY = 10
const WINDOW = 100

const gc = (): void => globalThis.gc?.()
if (!globalThis.gc) console.warn('run with --expose-gc (npm run bench does): RSS figures without a full GC are noise')

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[sorted.length >> 1]
}

interface Fixture {
  source: SourceImage
  /** The render as a remote backend returns it: an encoded file, a placement. */
  render: Buffer
  placement: Placement
  width: number
  height: number
}

/**
 * A source photo and "a remote backend's render" of it: the CPU studio's
 * composite with the product tinted and softened a little, as a generative
 * model returns it, so putting the original back has real work to do.
 */
async function fixture(edge: number, seed: number): Promise<Fixture> {
  const photo = await encodeShot(productShot({ width: edge, height: edge, seed, fill: 0.85 }), 'jpeg', 90)
  const source = await normaliseImage(photo, { maxBytes: 64 * 1024 * 1024, maxPixels: 40_000_000 })
  const scene = scenes.find((s) => s.id === 'grey-seamless')!
  const result: RenderResult = await createCpuStudioBackend().render(
    {
      renderId: 'bench',
      operation: 'scene_swap',
      source,
      persona: null,
      market: markets[0],
      scene,
      seed: 3,
      output: { width: edge, height: edge },
    },
    quietControls(),
  )
  const render = await sharp(result.image).modulate({ hue: 6, saturation: 1.05 }).blur(0.8).jpeg(FINAL_JPEG).toBuffer()
  return { source, render, placement: result.placement, width: edge, height: edge }
}

/** The source side: the product mask (a remote backend hands back the one it was sent), the layer and the fidelity reference. */
async function sourceSide(f: Fixture): Promise<{ mask: RawImage; prepared: PreparedReference }> {
  const { mask } = await findProductMask(f.source)
  const prepared = await prepareSource(f.source, { sourceMask: mask, placement: f.placement, width: f.width, height: f.height }, 'scene_swap')
  return { mask, prepared }
}

/** The result side: renders/jobs.server.ts's own postprocessRemote — decode, protect, encode, the fidelity check. */
async function resultSide(f: Fixture, side: { mask: RawImage; prepared: PreparedReference }): Promise<{ image: Buffer; score: number }> {
  const { result, fidelity } = await postprocessRemote<RenderResult>({
    source: f.source,
    operation: 'scene_swap',
    reference: side.prepared,
    result: {
      image: f.render,
      contentType: 'image/jpeg',
      width: f.width,
      height: f.height,
      sourceMask: side.mask,
      placement: f.placement,
      backendMs: 0,
      workflow: 'bench',
    },
  })
  return { image: result.image, score: fidelity.score }
}

const postprocess = async (f: Fixture) => resultSide(f, await sourceSide(f))

const bare = (f: Fixture): Promise<Buffer> => sharp(f.render).jpeg(FINAL_JPEG).toBuffer()
/** The same with the final encoder post-processing uses (decode to pixels, then encode): printed, so the ratio's encoder gain shows. */
const bareFinal = async (f: Fixture): Promise<Buffer> => encodeFinalJpeg(await decodeRgb(f.render))

/**
 * Wall-clock and CPU (every thread of the process: libvips' too) ms of one call.
 * why no forced GC before it: a full GC hands its sweeping to V8's helper
 * threads and returns, so the call timed next would share the cores with
 * it; a worker never forces one. Garbage is collected when V8 decides, as in
 * a worker, and the medians take it in.
 */
async function timed(run: () => Promise<unknown>): Promise<{ ms: number; cpu: number }> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  await run()
  const ms = performance.now() - started
  const used = process.cpuUsage(cpu)
  return { ms, cpu: (used.user + used.system) / 1000 }
}

// ---------------------------------------------------------------- speed

const big = await fixture(EDGE, 42)
console.log(
  `render: ${EDGE}×${EDGE} JPEG, ${(big.render.length / 1024).toFixed(0)} KB; median of ${RUNS} interleaved rounds after ${WARMUPS} warm-ups; sharp concurrency ${sharp.concurrency()}`,
)
const encoder = jpegEncoder()
console.log(`final JPEG encoder: ${encoder.library}${encoder.reason ? ` (${encoder.reason})` : ''}; the bare run encodes with sharp`)
const prepared = await sourceSide(big)
const times = { bare: [] as number[], result: [] as number[], source: [] as number[], full: [] as number[], bareFinal: [] as number[] }
const cpus = { bare: [] as number[], result: [] as number[], source: [] as number[], full: [] as number[], bareFinal: [] as number[] }
const record = (k: keyof typeof times, t: { ms: number; cpu: number }) => {
  times[k].push(t.ms)
  cpus[k].push(t.cpu)
}
for (let i = 0; i < WARMUPS; i++) {
  await bare(big)
  await resultSide(big, prepared)
  await postprocess(big)
}
// why two rounds: the source side allocates far more than the result side, and
// run between them its garbage and freed native memory are what the next
// result side would pay for; each half is timed beside the bare baseline alone.
// why rounds, in rotating order: this machine's speed drifts within seconds
// (other VMs on the host); a bare run and a result side timed back to back
// see the same machine, so the ratio is taken round by round.
// The decode + native encode is timed in the same rounds, each of the three going first in turn.
const round: Array<[keyof typeof times, () => Promise<unknown>]> = [
  ['bare', () => bare(big)],
  ['result', () => resultSide(big, prepared)],
  ['bareFinal', () => bareFinal(big)],
]
for (let i = 0; i < RUNS; i++) {
  for (let k = 0; k < round.length; k++) {
    const [key, run] = round[(i + k) % round.length]
    record(key, await timed(run))
  }
}
const ratio = median(times.result.map((ms, i) => ms / times.bare[i]))
const againstFinal = median(times.result.map((ms, i) => ms / times.bareFinal[i]))
for (let i = 0; i < RUNS; i++) {
  record('source', await timed(() => sourceSide(big)))
  record('full', await timed(() => postprocess(big)))
}
const ms = (k: keyof typeof times) => median(times[k])
const cpu = (k: keyof typeof times) => median(cpus[k])
const { score } = await resultSide(big, prepared)
console.log(`fidelity score after protection: ${score}`)
const line = (label: string, k: keyof typeof times) =>
  console.log(
    `${label}: ${ms(k).toFixed(1)} ms (fastest ${Math.min(...times[k]).toFixed(1)}; CPU ${cpu(k).toFixed(0)} ms) = ${(ms(k) / ms('bare')).toFixed(2)}× bare`,
  )
line('bare decode + encode', 'bare')
line('result side (decode, protect, fidelity compare, encode)', 'result')
console.log(`result side against the bare run beside it, median of ${RUNS} rounds: ${ratio.toFixed(2)}×`)
line(`decode, then encode with ${encoder.name === 'native' ? 'the native encoder' : 'sharp'} (nothing else)`, 'bareFinal')
console.log(`result side against that, median of ${RUNS} rounds: ${againstFinal.toFixed(2)}× (what protection and the check add to the same encoder)`)
line('source side (mask, composite layer, fidelity prepare), while the backend renders', 'source')
line('full, both halves back to back', 'full')
console.log(`CPU: result side ${(cpu('result') / cpu('bare')).toFixed(2)}× bare's, full ${(cpu('full') / cpu('bare')).toFixed(2)}× bare's`)

// ---------------------------------------------------------------- memory

// why a smaller render: 1,000 full-size runs would take ten minutes; the
// buffers a leak would keep are per render, so a leak shows at any size.
const small = await Promise.all([fixture(LOOP_EDGE, 7), fixture(LOOP_EDGE, 8)])
const rssNow = (): number => {
  gc()
  return process.memoryUsage().rss / 1024 / 1024
}
const beforeWarm = rssNow()
for (let i = 1; i <= WARM_LOOPS; i++) await postprocess(small[i % 2])
console.log(`warm-up: ${WARM_LOOPS} post-processings, RSS after GC ${beforeWarm.toFixed(0)} → ${rssNow().toFixed(0)} MB`)
const samples: Array<{ i: number; rss: number; heap: number; external: number }> = []
const loopStarted = performance.now()
for (let i = 1; i <= LOOPS; i++) {
  await postprocess(small[i % 2])
  if (i % SAMPLE_EVERY === 0) {
    gc()
    const m = process.memoryUsage()
    samples.push({ i, rss: m.rss / 1024 / 1024, heap: m.heapUsed / 1024 / 1024, external: m.external / 1024 / 1024 })
  }
}
const loopSeconds = (performance.now() - loopStarted) / 1000
const first = median(samples.filter((s) => s.i <= WINDOW).map((s) => s.rss))
const last = median(samples.filter((s) => s.i > LOOPS - WINDOW).map((s) => s.rss))
console.log(
  `${LOOPS} post-processings of ${LOOP_EDGE}×${LOOP_EDGE} renders in ${loopSeconds.toFixed(1)} s (${((loopSeconds * 1000) / LOOPS).toFixed(1)} ms each)`,
)
const curve = samples.filter((s) => s.i % 100 === 0).map((s) => s.rss.toFixed(0))
console.log(`RSS after GC every 100 (MB): ${curve.join(' ')}`)
const heapCurve = samples.filter((s) => s.i % 100 === 0).map((s) => `${s.heap.toFixed(0)}+${s.external.toFixed(0)}`)
console.log(`JS heap + external (Buffers) after GC every 100 (MB): ${heapCurve.join(' ')}`)
console.log(`RSS after GC, median of the first ${WINDOW}: ${first.toFixed(1)} MB; of the last ${WINDOW}: ${last.toFixed(1)} MB`)
console.log(`BENCH postprocess ratio=${ratio.toFixed(2)} rss_growth_mb=${(last - first).toFixed(1)}`)
