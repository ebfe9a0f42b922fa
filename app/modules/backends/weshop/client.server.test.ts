import http from 'node:http'
import type { AddressInfo } from 'node:net'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { AppError } from '#app/lib/errors.ts'
import { outboundGuard } from '#app/lib/outbound.server.ts'
import { FAKE_WESHOP_KEY, startWeshopFake, type WeshopFake } from '#test/fakes/weshop/index.ts'
import { createWeshopClient, defaultPoll, pollDelay, retryAfterMs, type WeshopClientOptions } from './client.server.ts'

let fake: WeshopFake | undefined
let scripted: http.Server | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
  scripted?.closeAllConnections()
  await new Promise<void>((resolve) => (scripted ? scripted.close(() => resolve()) : resolve()))
  scripted = undefined
})

const fast: Partial<WeshopClientOptions> = {
  retryMinMs: 5,
  retryMaxMs: 20,
  poll: { initialMs: 5, factor: 1.5, maxMs: 20, jitter: 0 },
}

function client(overrides: Partial<WeshopClientOptions> = {}) {
  return createWeshopClient({ apiKey: FAKE_WESHOP_KEY, baseUrl: fake!.url, ...fast, ...overrides })
}

/** A server that answers each request with the next scripted response. */
async function script(answers: Array<{ status: number; body?: unknown; headers?: Record<string, string> }>) {
  const seen: Array<{ method: string; path: string }> = []
  scripted = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '' })
    req.resume()
    const answer = answers[Math.min(seen.length - 1, answers.length - 1)]
    res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers })
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body))
  })
  await new Promise<void>((resolve) => scripted!.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(scripted.address() as AddressInfo).port}`, seen }
}

async function png(): Promise<Buffer> {
  return sharp({ create: { width: 32, height: 32, channels: 3, background: '#c83' } })
    .png()
    .toBuffer()
}

describe('poll timing', () => {
  it('grows exponentially, is capped, and jitters within its share', () => {
    const poll = { ...defaultPoll, initialMs: 100, factor: 2, maxMs: 1000, jitter: 0 }
    expect([0, 1, 2, 3, 4, 5].map((n) => pollDelay(n, poll))).toEqual([100, 200, 400, 800, 1000, 1000])
    const jittery = { ...poll, jitter: 0.2 }
    expect(pollDelay(0, jittery, () => 0)).toBe(80)
    expect(pollDelay(0, jittery, () => 1)).toBe(120)
    expect(pollDelay(9, jittery, () => 1)).toBe(1000)
  })

  it('reads Retry-After as seconds or as a date', () => {
    expect(retryAfterMs('2')).toBe(2000)
    expect(retryAfterMs('0.25')).toBe(250)
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000)
    expect(retryAfterMs('soon')).toBeUndefined()
    expect(retryAfterMs(null)).toBeUndefined()
  })
})

describe('WeShop client', () => {
  it('uploads, reads presets and downloads; the key goes to the API host only', async () => {
    fake = await startWeshopFake()
    const c = client({ apiKey: async () => FAKE_WESHOP_KEY })
    const url = await c.uploadImage(await png(), { filename: 'a.png', contentType: 'image/png' })
    expect(url).toMatch(/\/cdn\/assets\//)
    const info = await c.agentInfo('aimodel')
    expect(info.locations?.map((l) => l.id)).toContain(10001)
    expect((await c.download(url)).length).toBeGreaterThan(0)
    for (const r of fake.requests) {
      if (r.path.startsWith('/openapi/')) expect(r.authorization).toBe(FAKE_WESHOP_KEY)
      else expect(r.authorization).toBeUndefined()
    }
    const upload = fake.requests.find((r) => r.path === '/openapi/agent/assets/images')!
    expect(upload.form!.files).toEqual([
      { field: 'image', filename: 'a.png', contentType: 'image/png', size: expect.any(Number) },
    ])
    expect(fake.requests.find((r) => r.path === '/openapi/v1/agent/info')!.query).toEqual({
      agentName: 'aimodel',
      agentVersion: 'v1.0',
    })
  })

  it('repeats an upload after a retryable envelope, not after a refusal', async () => {
    fake = await startWeshopFake()
    const c = client()
    fake.failNext({ route: 'upload', status: 500, code: 'INTERNAL_ERROR', retryable: true })
    await expect(c.uploadImage(await png(), { filename: 'a.png', contentType: 'image/png' })).resolves.toMatch(/cdn/)
    fake.failNext({ route: 'upload', status: 400, code: 'INVALID_IMAGE', message: 'bad image', retryable: false })
    const refused = await c.uploadImage(await png(), { filename: 'a.png', contentType: 'image/png' }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(AppError)
    expect(refused).toMatchObject({ code: 'BACKEND_FAILED', retryable: false, details: { code: 'INVALID_IMAGE', status: 400 } })
    expect((refused as AppError).message).toBe('WeShop refused the image upload: INVALID_IMAGE: bad image')
    expect(fake.requests.filter((r) => r.path === '/openapi/agent/assets/images')).toHaveLength(3)
  })

  it('does not start a run again after a 5xx without an envelope: the run may exist', async () => {
    const server = await script([{ status: 502, body: undefined }])
    const c = createWeshopClient({ apiKey: FAKE_WESHOP_KEY, baseUrl: server.url, ...fast })
    const body = {
      agent: { name: 'aiproduct' as const, version: 'v1.0' as const },
      input: { originalImage: 'https://x.test/a.png' },
      params: {
        originalImage: 'https://x.test/a.png',
        generatedContent: 'freeCreation' as const,
        maskType: 'autoSubjectSegment' as const,
        textDescription: 'x',
      },
    }
    const error = await c.startRun(body).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true, details: { status: 502, outcomeUnknown: true } })
    expect(server.seen).toHaveLength(1)
    // Reads are repeated on the same answer.
    await expect(c.getRun('abc')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' })
    expect(server.seen).toHaveLength(1 + 4)
  })

  it('refuses a shape it does not know, and a success without data', async () => {
    const server = await script([{ status: 200, body: { success: true, data: { executionId: '' } } }])
    const c = createWeshopClient({ apiKey: FAKE_WESHOP_KEY, baseUrl: server.url, ...fast })
    // why retryable: another backend may take the render; the client itself does not repeat it.
    await expect(c.getRun('abc')).rejects.toMatchObject({
      code: 'BACKEND_FAILED',
      retryable: true,
      message: expect.stringMatching(/but not as WeShop's API does/),
      details: { reason: 'not_api', problem: expect.stringContaining('data.agentName') },
    })
    expect(server.seen).toHaveLength(1)
  })

  it('says so clearly when there is no key or a key that cannot be one, without quoting it', async () => {
    fake = await startWeshopFake()
    await expect(client({ apiKey: '  ' }).agentInfo('aimodel')).rejects.toMatchObject({
      retryable: false,
      details: { reason: 'api_key_missing' },
    })
    const bad = 'wsk-with a space\n'
    const error = (await client({ apiKey: bad })
      .agentInfo('aimodel')
      .catch((e: unknown) => e)) as AppError
    expect(error.details).toMatchObject({ reason: 'api_key_malformed' })
    expect(JSON.stringify({ m: error.message, d: error.details })).not.toContain('with a space')
    expect(fake.requests).toHaveLength(0)
  })

  it('cuts the key out of anything WeShop echoes back', async () => {
    fake = await startWeshopFake()
    fake.failNext({
      route: 'info',
      status: 400,
      code: `BAD_${FAKE_WESHOP_KEY}`,
      message: `key ${FAKE_WESHOP_KEY} is odd`,
      retryable: false,
    })
    const error = (await client()
      .agentInfo('aimodel')
      .catch((e: unknown) => e)) as AppError
    expect(error.message).toBe('WeShop refused the preset list: BAD_[redacted]: key [redacted] is odd')
    expect(JSON.stringify(error.details)).not.toContain(FAKE_WESHOP_KEY)
  })

  it('gives up polling after too many failed polls in a row, and on a refusal at once', async () => {
    fake = await startWeshopFake()
    const c = client({ poll: { initialMs: 2, factor: 1, maxMs: 2, jitter: 0, maxPollErrors: 3 } })
    for (let i = 0; i < 3; i++) fake.failNext({ route: 'poll', status: 503, code: 'SERVICE_BUSY', retryable: true })
    await expect(c.waitForRun('whatever')).rejects.toMatchObject({
      code: 'BACKEND_FAILED',
      retryable: true,
      details: { code: 'SERVICE_BUSY' },
    })
    await expect(c.waitForRun('whatever')).rejects.toMatchObject({
      retryable: false,
      details: { code: 'EXECUTION_NOT_FOUND', status: 404 },
    })
  })

  it('stops waiting after maxWaitMs, with a retryable timeout naming the run', async () => {
    fake = await startWeshopFake({ timings: { pendingMs: 60_000 } })
    const c = client({ poll: { initialMs: 10, factor: 1, maxMs: 10, jitter: 0, maxWaitMs: 60 } })
    const url = await c.uploadImage(await png(), { filename: 'a.png', contentType: 'image/png' })
    const { executionId } = await c.startRun({
      agent: { name: 'aiproduct', version: 'v1.0' },
      input: { originalImage: url },
      params: { originalImage: url, generatedContent: 'freeCreation', maskType: 'autoSubjectSegment', textDescription: 'marble' },
    })
    await expect(c.waitForRun(executionId)).rejects.toMatchObject({
      code: 'BACKEND_TIMEOUT',
      retryable: true,
      details: { executionId },
    })
  })

  it('downloads with retries on 5xx, refuses 404 at once, and never sends the key', async () => {
    const server = await script([{ status: 503 }, { status: 404 }])
    // This CDN stands on loopback, so it is allowed by name, as an operator's local fake would be.
    const resultsGuard = outboundGuard({ allow: [server.url] })
    const c = createWeshopClient({ apiKey: FAKE_WESHOP_KEY, baseUrl: 'http://127.0.0.1:1', resultsGuard, ...fast })
    await expect(c.download(`${server.url}/r.jpg`)).rejects.toMatchObject({
      code: 'BACKEND_FAILED',
      retryable: false,
      details: { status: 404 },
    })
    expect(server.seen).toHaveLength(2)
    await expect(c.download('file:///etc/passwd')).rejects.toThrow(/file: URL/)
    await resultsGuard.close()
  })

  it('refuses a result URL on a private address other than its own WESHOP_BASE_URL, at once', async () => {
    fake = await startWeshopFake()
    const elsewhere = await script([{ status: 200, body: 'secret' }])
    const c = client()
    for (const url of [`${elsewhere.url}/r.png`, `http://localhost:${new URL(elsewhere.url).port}/r.png`, 'http://169.254.169.254/latest/meta-data/']) {
      await expect(c.download(url), url).rejects.toMatchObject({
        code: 'BACKEND_FAILED',
        retryable: false,
        message: expect.stringMatching(/private or special address/),
      })
    }
    expect(elsewhere.seen).toEqual([])
    // Its own base URL's origin (the fake, on loopback) stays reachable.
    const url = await c.uploadImage(await png(), { filename: 'p.png', contentType: 'image/png' })
    expect((await c.download(url)).length).toBeGreaterThan(0)
  })
})
