// The fake against WeShop's reference shapes, spoken to with plain fetch (not
// our client), so a client bug can't hide a fake bug.
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { FAKE_WESHOP_KEY, startWeshopFake, type WeshopFake } from './index.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- why: each test asserts the response shape it reads.
type Loose = any

let fake: WeshopFake
afterEach(async () => fake?.close())

/** A product shot: a coloured square on white. */
async function productPng(width = 96, height = 128): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3, 255)
  for (let y = Math.floor(height * 0.25); y < Math.floor(height * 0.75); y++)
    for (let x = Math.floor(width * 0.25); x < Math.floor(width * 0.75); x++) data.set([200, 40, 60], (y * width + x) * 3)
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer()
}

async function call(
  path: string,
  init: RequestInit & { key?: string | null } = {},
): Promise<{ status: number; headers: Headers; body: Loose }> {
  const { key = FAKE_WESHOP_KEY, ...rest } = init
  const headers = new Headers(rest.headers)
  if (key !== null) headers.set('Authorization', key)
  const res = await fetch(`${fake.url}${path}`, { ...rest, headers })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined }
}

async function upload(bytes: Buffer, type = 'image/png', key?: string): Promise<string> {
  const form = new FormData()
  form.append('image', new Blob([Uint8Array.from(bytes)], { type }), 'photo.png')
  const { status, body } = await call('/openapi/agent/assets/images', { method: 'POST', body: form, key })
  expect(status).toBe(200)
  return body.data.image as string
}

function startRun(body: unknown, key?: string) {
  return call('/openapi/agent/runs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    key,
  })
}

async function untilDone(executionId: string): Promise<{ states: string[]; data: Loose }> {
  const states: string[] = []
  for (;;) {
    const { status, body } = await call(`/openapi/agent/runs/${executionId}`)
    expect(status).toBe(200)
    const state = body.data.executions.at(-1).status as string
    if (states.at(-1) !== state) states.push(state)
    if (state === 'Success' || state === 'Failed') return { states, data: body.data }
    await new Promise((r) => setTimeout(r, 10))
  }
}

const aimodel = (originalImage: string, params: Record<string, unknown> = {}) => ({
  agent: { name: 'aimodel', version: 'v1.0' },
  input: { originalImage, taskName: 'test' },
  params: {
    originalImage,
    generatedContent: 'freeCreation',
    maskType: 'autoApparelSegment',
    textDescription: 'street',
    ...params,
  },
})

describe('WeShop fake', () => {
  it('wants the raw key in Authorization, and answers with the error envelope', async () => {
    fake = await startWeshopFake()
    const missing = await call('/openapi/v1/agent/info?agentName=aimodel&agentVersion=v1.0', { key: null })
    expect(missing.status).toBe(401)
    expect(missing.body).toEqual({
      success: false,
      error: { code: 'INVALID_API_KEY', message: expect.any(String), retryable: false },
    })
    const bearer = await call('/openapi/v1/agent/info?agentName=aimodel&agentVersion=v1.0', { key: `Bearer ${FAKE_WESHOP_KEY}` })
    expect(bearer.status).toBe(401)
    const ok = await call('/openapi/v1/agent/info?agentName=aimodel&agentVersion=v1.0')
    expect(ok.status).toBe(200)
    expect(ok.body.success).toBe(true)
    expect(ok.body.data.locations[0]).toEqual({ id: 10001, name: 'White Studio', categories: ['Studio'], type: 'location' })
    expect(ok.body.data.fashionModels.length).toBeGreaterThan(0)
    expect((await call('/openapi/v1/agent/info?agentName=nope&agentVersion=v1.0')).body.error.code).toBe('AGENT_NOT_FOUND')
  })

  it('stores uploads by content and serves them (and results) without a key', async () => {
    fake = await startWeshopFake()
    const png = await productPng()
    const a = await upload(png)
    const b = await upload(png)
    expect(a).toBe(b)
    expect(a).toMatch(new RegExp(`^${fake.url}/cdn/assets/[0-9a-f]{24}\\.png$`))
    const served = await fetch(a)
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true)
    const form = new FormData()
    form.append('image', new Blob([Buffer.from('not an image')], { type: 'image/png' }), 'x.png')
    const bad = await call('/openapi/agent/assets/images', { method: 'POST', body: form })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatchObject({ code: 'INVALID_IMAGE', retryable: false })
    const none = await call('/openapi/agent/assets/images', { method: 'POST', body: new FormData() })
    expect(none.body.error.code).toBe('INVALID_PARAMS')
  })

  it('moves an aimodel run through Pending, Segmenting, Running to Success, keeping the protected region', async () => {
    fake = await startWeshopFake({ timings: { pollsPerState: 2 } })
    const png = await productPng()
    const original = await upload(png)
    const started = await startRun(aimodel(original, { batchCount: 2 }))
    expect(started.status).toBe(200)
    const { executionId, taskId } = started.body.data
    expect(started.body.meta).toEqual({ executionId })
    expect(taskId).toEqual(expect.any(String))
    const { states, data } = await untilDone(executionId)
    expect(states).toEqual(['Pending', 'Segmenting', 'Running', 'Success'])
    expect(data).toMatchObject({ agentName: 'aimodel', agentVersion: 'v1.0', initParams: { originalImage: original } })
    const execution = data.executions[0]
    expect(execution.executionTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
    expect(execution.result).toHaveLength(2)
    const [first, second] = await Promise.all(
      execution.result.map(async (r: Loose) => {
        expect(r.status).toBe('Success')
        const res = await fetch(r.image)
        return sharp(Buffer.from(await res.arrayBuffer()))
          .raw()
          .toBuffer({ resolveWithObject: true })
      }),
    )
    expect([first.info.width, first.info.height]).toEqual([96, 128])
    // The product (centre) is kept, within JPEG noise; the backdrop (corner) is repainted, and differs per image.
    const at = (img: typeof first, x: number, y: number) => [0, 1, 2].map((c) => img.data[(y * 96 + x) * 3 + c])
    for (const [v, want] of at(first, 48, 64).map((v, c) => [v, [200, 40, 60][c]])) expect(Math.abs(v - want)).toBeLessThan(12)
    expect(at(first, 2, 2)).not.toEqual([255, 255, 255])
    expect(at(first, 2, 2)).not.toEqual(at(second, 2, 2))
  })

  it('moves runs on by time unless told to move them by polls', async () => {
    fake = await startWeshopFake({ timings: { pendingMs: 1000, segmentingMs: 50, runningMs: 50 } })
    const original = await upload(await productPng())
    const { body } = await startRun(aimodel(original))
    const state = async () => (await call(`/openapi/agent/runs/${body.data.executionId}`)).body.data.executions[0].status
    expect(await state()).toBe('Pending')
    await new Promise((r) => setTimeout(r, 1300))
    expect(await state()).toBe('Success')
  })

  it('makes the same bytes for the same run and image, different ones for other params', async () => {
    fake = await startWeshopFake({ timings: { pendingMs: 0, segmentingMs: 0, runningMs: 0 } })
    const original = await upload(await productPng())
    const bytes = async (params: Record<string, unknown>) => {
      const { body } = await startRun(aimodel(original, params))
      const { data } = await untilDone(body.data.executionId)
      return Buffer.from(await (await fetch(data.executions[0].result[0].image)).arrayBuffer())
    }
    const a = await bytes({ textDescription: 'beach' })
    const b = await bytes({ textDescription: 'beach' })
    const c = await bytes({ textDescription: 'loft' })
    expect(a.equals(b)).toBe(true)
    expect(a.equals(c)).toBe(false)
  })

  it('keeps exactly the opaque pixels of a custom mask, which must match the original', async () => {
    fake = await startWeshopFake({ timings: { pendingMs: 0, segmentingMs: 0, runningMs: 0 } })
    const original = await upload(await productPng())
    const rgba = Buffer.alloc(96 * 128 * 4, 255)
    for (let p = 0; p < 96 * 128; p++) rgba[p * 4 + 3] = p % 96 < 48 ? 255 : 0 // left half protected
    const mask = await upload(
      await sharp(rgba, { raw: { width: 96, height: 128, channels: 4 } })
        .png()
        .toBuffer(),
    )
    const { body } = await startRun(aimodel(original, { maskType: 'custom', customMaskUrl: mask }))
    const { data } = await untilDone(body.data.executionId)
    const out = await sharp(Buffer.from(await (await fetch(data.executions[0].result[0].image)).arrayBuffer()))
      .raw()
      .toBuffer()
    expect(out[(2 * 96 + 2) * 3]).toBeGreaterThan(240) // left: the white backdrop kept
    const wrong = await upload(
      await sharp({ create: { width: 10, height: 10, channels: 4, background: '#fff' } })
        .png()
        .toBuffer(),
    )
    const refused = await startRun(aimodel(original, { maskType: 'custom', customMaskUrl: wrong }))
    expect(refused.status).toBe(400)
    expect(refused.body.error.message).toMatch(/custom mask is 10x10/)
  })

  it('checks run params the way the reference describes them', async () => {
    fake = await startWeshopFake()
    const original = await upload(await productPng())
    const problem = async (body: unknown) => (await startRun(body)).body.error
    expect(await problem(aimodel(original, { maskType: undefined }))).toEqual({
      code: 'INVALID_PARAMS',
      message: 'params.maskType is required',
      retryable: false,
    })
    expect((await problem(aimodel(original, { maskType: 'custom' }))).message).toMatch(/customMaskUrl or params.customMask/)
    expect((await problem(aimodel(original, { textDescription: undefined }))).message).toMatch(/at least one of/)
    expect((await problem(aimodel(original, { locationId: 999 }))).message).toMatch(/not a preset/)
    expect((await startRun(aimodel(original, { locationId: 10003, fashionModelId: 20001 }))).status).toBe(200)
    expect((await problem(aimodel(original, { batchCount: 17 }))).message).toMatch(/batchCount/)
    expect((await problem({ ...aimodel(original), agent: { name: 'aimodel', version: 'v2.0' } })).message).toMatch(/version/)
    expect((await problem({ ...aimodel(original), agent: { name: 'sora-2', version: 'v1.0' } })).code).toBe('AGENT_NOT_FOUND')
    const tryon = (params: Record<string, unknown>) => ({
      agent: { name: 'virtualtryon', version: 'v1.0' },
      input: { originalImage: original },
      params: { originalImage: original, generateVersion: 'weshopFlash', descriptionType: 'auto', ...params },
    })
    expect((await problem(tryon({ aspectRatio: '3:4' }))).message).toMatch(/weshopPro and bananaPro only/)
    expect((await problem(tryon({ descriptionType: 'custom' }))).message).toMatch(/textDescription is required/)
    expect((await problem(tryon({ generateVersion: 'bananaPro' }))).message).toMatch(/imageSize is required/)
    const product = {
      agent: { name: 'aiproduct', version: 'v1.0' },
      input: { originalImage: original },
      params: { originalImage: original, generatedContent: 'freeCreation', maskType: 'autoApparelSegment', textDescription: 'x' },
    }
    expect((await problem(product)).message).toMatch(/maskType must be one of autoSubjectSegment, custom/)
    expect((await problem(aimodel('https://example.com/elsewhere.png'))).code).toBe('IMAGE_DOWNLOAD_FAILED')
  })

  it('draws a try-on at the asked ratio, without a Segmenting state', async () => {
    fake = await startWeshopFake({ timings: { pollsPerState: 1 }, tryonEdge: 400 })
    const original = await upload(await productPng())
    const { body } = await startRun({
      agent: { name: 'virtualtryon', version: 'v1.0' },
      input: { originalImage: original },
      params: {
        originalImage: original,
        generateVersion: 'weshopPro',
        descriptionType: 'custom',
        textDescription: 'Figure 1 on a model',
        aspectRatio: '3:4',
      },
    })
    const { states, data } = await untilDone(body.data.executionId)
    expect(states).toEqual(['Pending', 'Running', 'Success'])
    const meta = await sharp(Buffer.from(await (await fetch(data.executions[0].result[0].image)).arrayBuffer())).metadata()
    expect([meta.width, meta.height]).toEqual([300, 400])
  })

  it('keeps runs to the key that started them', async () => {
    fake = await startWeshopFake({ apiKeys: [FAKE_WESHOP_KEY, 'wsk-other-key-000000'] })
    const original = await upload(await productPng())
    const { body } = await startRun(aimodel(original))
    const other = await call(`/openapi/agent/runs/${body.data.executionId}`, { key: 'wsk-other-key-000000' })
    expect(other.status).toBe(404)
    expect(other.body.error.code).toBe('EXECUTION_NOT_FOUND')
  })

  it('rate-limits per key with a Retry-After in whole seconds, and on demand', async () => {
    fake = await startWeshopFake({ rateLimit: { limit: 2, windowMs: 60_000 } })
    const info = () => call('/openapi/v1/agent/info?agentName=aiproduct&agentVersion=v1.0')
    expect((await info()).status).toBe(200)
    expect((await info()).status).toBe(200)
    const limited = await info()
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(59)
    expect(limited.body.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true })
    fake.configure({ rateLimit: undefined })
    fake.limitNext(1, '0.2')
    const forced = await info()
    expect([forced.status, forced.headers.get('retry-after')]).toEqual([429, '0.2'])
    expect((await info()).status).toBe(200)
  })

  it('fails a seeded share of runs: retryable envelopes, refusals and Failed runs, the same way for the same seed', async () => {
    const outcomes = async () => {
      fake = await startWeshopFake({ seed: 7, failureRate: 0.6, timings: { pendingMs: 0, segmentingMs: 0, runningMs: 0 } })
      const original = await upload(await productPng())
      const seen: string[] = []
      for (let i = 0; i < 24; i++) {
        const { status, body } = await startRun(aimodel(original, { textDescription: `look ${i}` }))
        if (status !== 200) seen.push(`${status}:${body.error.code}:${body.error.retryable}`)
        else seen.push((await untilDone(body.data.executionId)).states.at(-1)!)
      }
      await fake.close()
      return seen
    }
    const first = await outcomes()
    expect(await outcomes()).toEqual(first)
    expect(new Set(first)).toEqual(new Set(['Success', 'Failed', '503:SERVICE_BUSY:true', '400:CONTENT_REJECTED:false']))
  })

  it('answers injected failures once, on the route asked for, and adds latency', async () => {
    fake = await startWeshopFake({ latencyMs: 60 })
    fake.failNext({ route: 'upload', status: 500, code: 'INTERNAL_ERROR', retryable: true })
    const form = new FormData()
    form.append('image', new Blob([Uint8Array.from(await productPng())], { type: 'image/png' }), 'a.png')
    const t0 = performance.now()
    const first = await call('/openapi/agent/assets/images', { method: 'POST', body: form })
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55)
    expect([first.status, first.body.error.retryable]).toEqual([500, true])
    const second = await call('/openapi/agent/assets/images', { method: 'POST', body: form })
    expect(second.status).toBe(200)
  })
})
