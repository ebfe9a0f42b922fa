import { inspect } from 'node:util'
import { pino } from 'pino'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { AppError } from '#app/lib/errors.ts'
import { markets } from '#app/modules/looks/markets.ts'
import { personas } from '#app/modules/looks/personas.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import { variationPrompt } from '#app/modules/looks/variation.ts'
import { productShot } from '#test/fixtures/product-images.ts'
import {
  FAKE_WESHOP_KEY,
  startWeshopFake,
  type RecordedRequest,
  type WeshopFake,
  type WeshopFakeOptions,
} from '#test/fakes/weshop/index.ts'
import type { RenderRequest, SourceImage } from '../types.ts'
import { recordingControls } from '#test/support/render-controls.ts'
import { expectNotApi, garbageKinds } from '#test/support/not-api.ts'
import { fitFrame as planFrame } from '../frame.server.ts'
import { createWeshopBackend, type WeshopBackend, type WeshopBackendOptions } from './adapter.server.ts'
import { WESHOP_NEGATIVE } from './look-settings.ts'

const beach = scenes.find((s) => s.id === 'beach')!
const studio = scenes.find((s) => s.id === 'studio-white')!
const amara = personas.find((p) => p.id === 'amara')!

let fake: WeshopFake
let backend: WeshopBackend
afterEach(async () => {
  await fake?.close()
})

const fastClient: WeshopBackendOptions['client'] = {
  retryMinMs: 5,
  retryMaxMs: 20,
  poll: { initialMs: 10, factor: 1.5, maxMs: 40, jitter: 0.2 },
}

async function start(fakeOptions: WeshopFakeOptions = {}, options: Partial<WeshopBackendOptions> = {}) {
  fake = await startWeshopFake({ timings: { pendingMs: 40, segmentingMs: 40, runningMs: 80 }, ...fakeOptions })
  backend = createWeshopBackend({ apiKey: FAKE_WESHOP_KEY, baseUrl: fake.url, client: fastClient, ...options })
}

function shot(width: number, height: number) {
  const { pixels, truth } = productShot({ width, height, backdrop: 'white', seed: 5 })
  const source: SourceImage = { pixels, width, height, hasAlpha: false, sha256: 'test' }
  return { source, truth }
}

async function maskPng(truth: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(truth), { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer()
}

function request(source: SourceImage, overrides: Partial<RenderRequest> = {}): RenderRequest {
  return {
    renderId: `render-${Math.random().toString(36).slice(2, 8)}`,
    operation: 'model_swap',
    source,
    persona: amara,
    market: markets[0],
    scene: beach,
    seed: 42,
    output: { width: source.width, height: source.height },
    ...overrides,
  }
}

const controls = (signal?: AbortSignal) => recordingControls(() => fake.requests.length, signal)

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- why: the run bodies are asserted field by field.
type Loose = any
const runStarts = () => fake.requests.filter((r) => r.method === 'POST' && r.path === '/openapi/agent/runs')
const polls = () => fake.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/openapi/agent/runs/'))
const uploads = () => fake.requests.filter((r) => r.path === '/openapi/agent/assets/images')
const posted = (r: RecordedRequest) => r.json as Loose

describe('WeShop backend', () => {
  it('says what it can do, and never shows its key', async () => {
    await start()
    expect(backend.capabilities()).toEqual({
      type: 'weshop',
      operations: ['model_swap', 'scene_swap', 'tryon', 'product_scene', 'mannequin_to_model'],
      personas: true,
      maxEdge: 2048,
      models: ['aimodel', 'virtualtryon', 'aiproduct'],
    })
    expect(backend.id).toBe('weshop')
    expect(JSON.stringify(backend)).toBe(JSON.stringify({ id: 'weshop', type: 'weshop', baseUrl: fake.url }))
    expect(inspect(backend, { depth: 10, showHidden: true })).not.toContain(FAKE_WESHOP_KEY)
    expect(await backend.health()).toEqual({ ok: true, detail: 'WeShop OpenAPI: 5 scenes and 4 models for aimodel' })
  })

  it('swaps the model with aimodel end to end: upload, run, poll, download, output size', async () => {
    await start()
    const { source } = shot(320, 400)
    const { progress, framed, controls: c } = controls()
    const req = request(source, { output: { width: 256, height: 320 } })
    const result = await backend.render(req, c)
    // The framing was announced once, before anything reached the server, and is the result's (the worker prepares post-processing from it meanwhile).
    expect(framed).toHaveLength(1)
    expect(framed[0].requestsBefore).toBe(0)
    expect(framed[0].framing).toEqual({ sourceMask: result.sourceMask, placement: result.placement, width: result.width, height: result.height })

    expect(uploads()).toHaveLength(1)
    expect(uploads()[0].form!.files[0]).toMatchObject({
      field: 'image',
      filename: `${req.renderId}-source.jpg`,
      contentType: 'image/jpeg',
    })
    const [start0] = runStarts()
    const body = posted(start0)
    const imageUrl = body.input.originalImage
    expect(imageUrl).toMatch(/\/cdn\/assets\//)
    expect(body).toEqual({
      agent: { name: 'aimodel', version: 'v1.0' },
      input: { originalImage: imageUrl, taskName: `atelier ${req.renderId}` },
      params: {
        originalImage: imageUrl,
        generatedContent: 'freeCreation',
        maskType: 'autoApparelSegment',
        textDescription: `${amara.prompt}, wearing the garment, ${beach.prompt}`,
        negTextDescription: WESHOP_NEGATIVE,
        pose: 'originalImagePose',
        batchCount: 1,
      },
    })
    // The canvas WeShop got is the output frame.
    const sent = await sharp(fake.assets.get(imageUrl.split('/cdn/')[1])!.data).metadata()
    expect([sent.width, sent.height]).toEqual([256, 320])

    expect(result).toMatchObject({
      width: 256,
      height: 320,
      contentType: 'image/jpeg',
      protected: false,
      workflow: 'aimodel@v1.0',
    })
    // Pixels only: the worker's post-processing encodes the image it stores, once protected.
    expect(result.image).toBeUndefined()
    expect([result.pixels!.width, result.pixels!.height, result.pixels!.channels]).toEqual([256, 320, 3])
    expect(result.placement).toEqual({ crop: { left: 0, top: 0, width: 320, height: 400 }, scale: 0.8, x: 0, y: 0 })
    expect(result.sourceMask.channels).toBe(1)
    // WeShop segmented the garment itself: where it is in the result is not ours to claim.
    expect(result.resultMask).toBeUndefined()
    const executionId = fake.runs.keys().next().value
    expect(result.meta).toMatchObject({
      backend: 'weshop',
      agent: 'aimodel',
      executionId,
      maskType: 'autoApparelSegment',
      maskOrigin: 'background',
    })
    expect(progress.at(-1)).toEqual([100, 'done'])
  })

  it('sends the merchant mask as a custom mask the size of the canvas, and keeps that region', async () => {
    await start()
    const { source, truth } = shot(300, 300)
    const mask = await maskPng(truth, 300, 300)
    const req = request(source, { mask, output: { width: 240, height: 300 } })
    const result = await backend.render(req, controls().controls)

    const sent = uploads()
    expect(sent.map((u) => u.form!.files[0].filename)).toEqual([`${req.renderId}-source.jpg`, `${req.renderId}-mask.png`])
    const body = posted(runStarts()[0])
    expect(body.params.maskType).toBe('custom')
    const maskUrl = body.params.customMaskUrl as string
    const maskFile = fake.assets.get(maskUrl.split('/cdn/')[1])!.data
    const meta = await sharp(maskFile).metadata()
    expect([meta.format, meta.width, meta.height, meta.hasAlpha]).toEqual(['png', 240, 300, true])
    // Square photo on a 4:5 frame: scaled to the width, centred with bands above and below.
    expect(result.placement).toEqual({ crop: { left: 0, top: 0, width: 300, height: 300 }, scale: 0.8, x: 0, y: 30 })
    expect(result.resultMask).toMatchObject({ width: 240, height: 300, channels: 1 })
    expect(result.meta).toMatchObject({ maskType: 'custom', maskOrigin: 'merchant' })

    // Inside the mask the result is the photo as sent (JPEG noise aside); outside, repainted.
    const canvas = await sharp(fake.assets.get(body.input.originalImage.split('/cdn/')[1])!.data)
      .raw()
      .toBuffer()
    const keep = result.resultMask!.data
    let inside = 0
    let close = 0
    let outsideChanged = 0
    let outside = 0
    for (let p = 0; p < 240 * 300; p++) {
      const d = Math.max(...[0, 1, 2].map((c) => Math.abs(result.pixels!.data[p * 3 + c] - canvas[p * 3 + c])))
      if (keep[p] === 255) {
        inside++
        if (d < 24) close++
      } else if (keep[p] === 0) {
        outside++
        if (d > 24) outsideChanged++
      }
    }
    // why not all: JPEG rings for a few pixels where kept and repainted meet.
    expect(close / inside).toBeGreaterThan(0.93)
    expect(outsideChanged / outside).toBeGreaterThan(0.5)
  })

  it('swaps the scene with aimodel keeping the subject, and refuses a persona there', async () => {
    await start()
    const { source } = shot(200, 250)
    const result = await backend.render(request(source, { operation: 'scene_swap', persona: null }), controls().controls)
    const body = posted(runStarts()[0])
    expect(body.params).toMatchObject({
      maskType: 'autoSubjectSegment',
      pose: 'originalImagePose',
      textDescription: beach.prompt,
    })
    expect(body.params.fashionModelId).toBeUndefined()
    expect(result.resultMask).toBeDefined()
    await expect(backend.render(request(source, { operation: 'scene_swap' }), controls().controls)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
  })

  it('puts the garment on a model with virtualtryon, cropping its ratio to the output', async () => {
    await start({ tryonEdge: 512 })
    const { source } = shot(300, 300)
    const progress = controls()
    const result = await backend.render(
      request(source, { operation: 'tryon', output: { width: 400, height: 500 } }),
      progress.controls,
    )
    const body = posted(runStarts()[0])
    expect(body.agent).toEqual({ name: 'virtualtryon', version: 'v1.0' })
    expect(body.params).toEqual({
      originalImage: body.input.originalImage,
      generateVersion: 'weshopPro',
      descriptionType: 'custom',
      textDescription: `The garment in Figure 1 worn by ${amara.prompt}, ${beach.prompt}`,
      aspectRatio: '3:4',
      batchCount: 1,
    })
    // The garment photo goes as it is (no canvas), and no mask.
    const sent = await sharp(fake.assets.get(body.input.originalImage.split('/cdn/')[1])!.data).metadata()
    expect([sent.width, sent.height]).toEqual([300, 300])
    expect(uploads()).toHaveLength(1)
    expect([result.width, result.height]).toEqual([400, 500])
    expect(result.meta).toMatchObject({ agent: 'virtualtryon', received: { width: 384, height: 512 }, croppedToRatio: true })
    expect(result.workflow).toBe('virtualtryon@v1.0')
    expect(result.resultMask).toBeUndefined()
    // No segmenting in a try-on.
    expect(progress.progress.some(([, m]) => m === 'WeShop is finding the garment')).toBe(false)
  })

  it('places the product in a scene with aiproduct, using preset ids when the deployment has them', async () => {
    await start({}, { presets: { aiproduct: { locations: { 'studio-white': 30002 } } } })
    const { source } = shot(256, 256)
    const result = await backend.render(
      request(source, { operation: 'product_scene', persona: null, scene: studio }),
      controls().controls,
    )
    const body = posted(runStarts()[0])
    expect(body.agent.name).toBe('aiproduct')
    expect(body.params).toEqual({
      originalImage: body.input.originalImage,
      generatedContent: 'referToOrigin',
      maskType: 'autoSubjectSegment',
      textDescription: studio.prompt,
      negTextDescription: WESHOP_NEGATIVE,
      locationId: 30002,
      batchCount: 1,
    })
    expect(result).toMatchObject({ width: 256, height: 256, workflow: 'aiproduct@v1.0' })
    expect(result.resultMask).toBeDefined()
  })

  it('asks for a variant’s light in words, and for its framing only where the image is composed anew', async () => {
    await start({ tryonEdge: 512 })
    const { source } = shot(256, 256)
    const variation = { light: 'right' as const, framing: { position: 'left' as const, size: 'wide' as const } }
    const product = await backend.render(
      request(source, { operation: 'product_scene', persona: null, scene: studio, variation }),
      controls().controls,
    )
    const tryon = await backend.render(
      request(source, { operation: 'tryon', output: { width: 400, height: 500 }, variation }),
      controls().controls,
    )
    const [productRun, tryonRun] = runStarts().map(posted)
    expect(productRun.params.textDescription).toBe(`${studio.prompt}, ${variationPrompt({ light: 'right' })}`)
    expect(product.variation).toEqual({ light: 'right' })
    expect(tryonRun.params.textDescription).toBe(
      `The garment in Figure 1 worn by ${amara.prompt}, ${beach.prompt}, ${variationPrompt(variation)}`,
    )
    expect(tryon.variation).toEqual(variation)
    // WeShop takes no seed and no light or camera parameter: nothing else in the run changes.
    expect(Object.keys(tryonRun.params).sort()).toEqual([
      'aspectRatio',
      'batchCount',
      'descriptionType',
      'generateVersion',
      'originalImage',
      'textDescription',
    ])
  })

  it('reports WeShop’s states as rising progress with words for each', async () => {
    await start({ timings: { pendingMs: 0, segmentingMs: 0, runningMs: 0, pollsPerState: 3 } })
    const { source } = shot(200, 200)
    const { progress, controls: c } = controls()
    await backend.render(request(source), c)
    const percents = progress.map(([p]) => p)
    expect(percents).toEqual([...percents].sort((a, b) => a - b))
    const messages = [...new Set(progress.map(([, m]) => m))]
    expect(messages).toEqual([
      'finding the product',
      'uploading to WeShop',
      'starting the WeShop run',
      'queued at WeShop',
      'waiting in the WeShop queue',
      'WeShop is finding the garment',
      'WeShop is generating the photo',
      'WeShop finished',
      'downloading the result',
      'done',
    ])
    const running = progress.filter(([, m]) => m === 'WeShop is generating the photo').map(([p]) => p)
    expect(running.length).toBeGreaterThan(1)
    expect(Math.max(...running)).toBeLessThan(88)
    expect([...fake.runs.values()][0].statesSeen).toEqual(['Pending', 'Segmenting', 'Running', 'Success'])
  })

  it('polls with exponential backoff up to its cap', async () => {
    await start(
      { timings: { pendingMs: 300, segmentingMs: 200, runningMs: 300 } },
      {
        client: { ...fastClient, poll: { initialMs: 20, factor: 2, maxMs: 160, jitter: 0 } },
      },
    )
    const { source } = shot(160, 160)
    const result = await backend.render(request(source), controls().controls)
    const times = polls().map((r) => r.at)
    const gaps = times.slice(1).map((t, i) => t - times[i])
    // Waits of 20, 40, 80, 160, 160, … ms (plus the request's own time): 800 ms of run in about 9 polls, not 40.
    expect(times.length).toBeGreaterThanOrEqual(6)
    expect(times.length).toBeLessThanOrEqual(11)
    expect(result.meta!.polls).toBe(times.length)
    expect(gaps[0]).toBeGreaterThanOrEqual(38)
    expect(gaps[1]).toBeGreaterThanOrEqual(78)
    for (const gap of gaps.slice(2)) expect(gap).toBeGreaterThanOrEqual(155)
    for (const gap of gaps) expect(gap).toBeLessThan(600)
  })

  it('retries what WeShop calls retryable, and fails at once what it does not', async () => {
    await start()
    const { source } = shot(160, 160)
    fake.failNext({ route: 'runs', status: 503, code: 'SERVICE_BUSY', message: 'busy', retryable: true })
    fake.failNext({ route: 'poll', status: 500, code: 'INTERNAL_ERROR', retryable: true })
    await expect(backend.render(request(source), controls().controls)).resolves.toMatchObject({ workflow: 'aimodel@v1.0' })
    expect(runStarts()).toHaveLength(2)

    fake.failNext({
      route: 'runs',
      status: 400,
      code: 'CONTENT_REJECTED',
      message: 'The image did not pass content review',
      retryable: false,
    })
    const refused = await backend.render(request(source), controls().controls).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(AppError)
    expect(refused).toMatchObject({
      code: 'BACKEND_FAILED',
      retryable: false,
      message: 'WeShop refused the run: CONTENT_REJECTED: The image did not pass content review',
      details: { code: 'CONTENT_REJECTED', weshopRetryable: false },
    })
    expect(runStarts()).toHaveLength(3)

    fake.failNextRun()
    const failed = await backend.render(request(source), controls().controls).catch((e: unknown) => e)
    expect(failed).toMatchObject({ code: 'BACKEND_FAILED', retryable: true, details: { agent: 'aimodel' } })
    expect((failed as AppError).message).toMatch(/reported run \w+ \(aimodel\) as Failed/)
  })

  it('stops at a rejected key with a clear, non-retryable error, and says so in health', async () => {
    await start({}, { apiKey: 'wsk-not-a-real-key-000' })
    const { source } = shot(160, 160)
    const error = await backend.render(request(source), controls().controls).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AppError)
    expect(error).toMatchObject({
      code: 'BACKEND_AUTH_FAILED',
      retryable: false,
      details: { reason: 'api_key_rejected', status: 401 },
    })
    expect((error as AppError).message).toMatch(/^WeShop rejected the API key \(HTTP 401\)/)
    expect(uploads()).toHaveLength(1)
    expect(await backend.health()).toEqual({ ok: false, detail: expect.stringMatching(/^WeShop rejected the API key/), reason: 'auth' })
  })

  it('waits as long as a 429 asks, then carries on; a long ban goes back to the queue', async () => {
    await start()
    const { source } = shot(160, 160)
    fake.limitNext(1, '0.3')
    await backend.render(request(source), controls().controls)
    const [limited, next] = fake.requests.filter((r) => r.path === '/openapi/agent/assets/images')
    expect(limited.status).toBe(429)
    expect(next.status).toBe(200)
    expect(next.at - limited.at).toBeGreaterThanOrEqual(290)

    fake.configure({ rateLimit: { limit: 0, windowMs: 120_000 } })
    const error = await backend.render(request(source), controls().controls).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true, details: { status: 429, retryAfterMs: 120_000 } })
  })

  it('polls through a 429 while a run is under way, waiting its Retry-After', async () => {
    await start({ timings: { pendingMs: 400, segmentingMs: 50, runningMs: 50 } })
    const { source } = shot(160, 160)
    const render = backend.render(request(source), controls().controls)
    while (polls().length < 1) await new Promise((r) => setTimeout(r, 2))
    fake.limitNext(1, '0.25')
    await render
    const all = polls()
    const i = all.findIndex((r) => r.status === 429)
    expect(i).toBeGreaterThanOrEqual(0)
    expect(all[i + 1].at - all[i].at).toBeGreaterThanOrEqual(240)
  })

  it('stops polling when aborted: a cancel, or a timeout that may be retried', async () => {
    await start({ timings: { pendingMs: 5000 } })
    const { source } = shot(160, 160)
    const abort = new AbortController()
    const render = backend.render(request(source), controls(abort.signal).controls)
    while (polls().length < 2) await new Promise((r) => setTimeout(r, 5))
    abort.abort()
    const error = await render.catch((e: unknown) => e)
    const executionId = [...fake.runs.keys()][0]
    expect(error).toMatchObject({ code: 'RENDER_CANCELED', retryable: false, details: { executionId } })
    const seen = polls().length
    await new Promise((r) => setTimeout(r, 150))
    expect(polls().length).toBe(seen)

    const timedOut = await backend.render(request(source), controls(AbortSignal.timeout(150)).controls).catch((e: unknown) => e)
    expect(timedOut).toMatchObject({ code: 'BACKEND_TIMEOUT', retryable: true })

    const before = new AbortController()
    before.abort()
    await expect(backend.render(request(source), controls(before.signal).controls)).rejects.toMatchObject({
      code: 'RENDER_CANCELED',
    })
  })

  it('keeps the key out of logs, error messages, error details and the backend object', async () => {
    const lines: string[] = []
    const log = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) })
    const secret = 'wsk-live-SECRET-7f3a9c2e11d4'
    fake = await startWeshopFake({ apiKeys: [secret], timings: { pendingMs: 20, segmentingMs: 20, runningMs: 20 } })
    backend = createWeshopBackend({ apiKey: () => secret, baseUrl: fake.url, client: fastClient, log })
    const { source } = shot(160, 160)
    // A success, with a retry and a rate limit on the way…
    fake.failNext({ route: 'poll', status: 503, code: 'SERVICE_BUSY', retryable: true })
    fake.limitNext(1, '0.05')
    await backend.render(request(source), controls().controls)
    // …a refusal that echoes the key…
    fake.failNext({ route: 'runs', status: 400, code: 'INVALID_PARAMS', message: `bad key ${secret}`, retryable: false })
    const refused = await backend.render(request(source), controls().controls).catch((e: unknown) => e)
    // …and a wrong key.
    const wrong = createWeshopBackend({ apiKey: `${secret}-revoked`, baseUrl: fake.url, client: fastClient, log })
    const rejected = await wrong.render(request(source), controls().controls).catch((e: unknown) => e)

    expect(lines.length).toBeGreaterThan(5)
    expect(lines.some((l) => l.includes('retrying a WeShop request'))).toBe(true)
    const everything = [
      ...lines,
      ...[refused, rejected].flatMap((e) => {
        const err = e as AppError
        return [
          err.message,
          JSON.stringify({ ...err, message: err.message, cause: String(err.cause) }),
          inspect(err, { depth: 10 }),
          err.stack ?? '',
        ]
      }),
      JSON.stringify(backend),
      inspect(backend, { depth: 10, showHidden: true }),
      JSON.stringify(wrong),
    ].join('\n')
    expect(everything).not.toContain(secret)
    expect((refused as AppError).message).toContain('[redacted]')
    // The fake did get it, raw, on every API call.
    expect(fake.requests.filter((r) => r.path.startsWith('/openapi/')).every((r) => r.authorization?.startsWith(secret))).toBe(
      true,
    )
  })
})

describe('planFrame', () => {
  it('fits and centres the source on the output frame', () => {
    expect(planFrame({ width: 1000, height: 1000 }, { width: 800, height: 1000 })).toEqual({
      placement: { crop: { left: 0, top: 0, width: 1000, height: 1000 }, scale: 0.8, x: 0, y: 100 },
      width: 800,
      height: 800,
    })
    expect(planFrame({ width: 600, height: 1200 }, { width: 800, height: 1000 }).placement).toMatchObject({
      scale: 1000 / 1200,
      x: 150,
      y: 0,
    })
  })
})

describe('WeShop backend, a server that is not WeShop', () => {
  it.each(garbageKinds)('says so in words, with what to check, when it answers %s', async (kind) => {
    await start()
    const { source } = shot(160, 160)
    fake.answerGarbage(kind)
    const error = await backend.render(request(source), controls().controls).catch((e: unknown) => e)
    const e = expectNotApi(error, 'WeShop')
    expect(e.message).toMatch(/^WeShop answered \/openapi\//)
    expect(e.details).toMatchObject({ backend: 'weshop', status: 200 })
    expect(JSON.stringify(e.details)).not.toContain(FAKE_WESHOP_KEY)
    expect(await backend.health()).toMatchObject({ ok: false, reason: 'not_api' })
  })
})
