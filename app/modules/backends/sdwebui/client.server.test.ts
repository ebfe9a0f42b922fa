import http from 'node:http'
import type { AddressInfo } from 'node:net'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { AppError } from '#app/lib/errors.ts'
import { startSdwebuiFake, type SdwebuiFake, type SdwebuiFakeOptions } from '#test/fakes/sdwebui/index.ts'
import type { Img2imgRequest } from './api.ts'
import { createSdwebuiClient, sdwebuiError, splitCredentials, type SdwebuiClient } from './client.server.ts'

let fake: SdwebuiFake | undefined
let client: SdwebuiClient
const servers: http.Server[] = []
afterEach(async () => {
  await fake?.close()
  fake = undefined
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r))
})

async function start(options: SdwebuiFakeOptions = {}, url?: (base: string) => string) {
  fake = await startSdwebuiFake(options)
  client = createSdwebuiClient({ baseUrl: url ? url(fake.url) : fake.url, requestTimeoutMs: 5000 })
}

/** A server that answers every request with one status and body (a proxy, a hung server). */
async function canned(status: number, body: string, delayMs = 0): Promise<string> {
  const server = http.createServer((_req, res) => {
    setTimeout(() => {
      res.writeHead(status, { 'Content-Type': 'text/html' })
      res.end(body)
    }, delayMs)
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function minimalBody(): Promise<Img2imgRequest> {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ffffff' } })
    .png()
    .toBuffer()
  return {
    init_images: [png.toString('base64')],
    mask: png.toString('base64'),
    steps: 2,
    width: 64,
    height: 64,
    sampler_name: 'Euler',
    scheduler: 'Automatic',
  } as Img2imgRequest
}

describe('SD WebUI client', () => {
  it('parses a generation, its info string and the lists', async () => {
    await start()
    const generation = await client.img2img(await minimalBody())
    expect(generation.images).toHaveLength(1)
    expect(generation.info).toMatchObject({ index_of_first_image: 0, sd_model_name: 'v1-5-pruned-emaonly', width: 64 })
    expect(generation.parameters).toMatchObject({ init_images: null, mask: null, steps: 2 })
    expect((await client.sdModels())[0]).toMatchObject({
      title: expect.stringMatching(/^v1-5-pruned-emaonly\.safetensors \[[0-9a-f]{10}\]$/),
    })
    expect((await client.schedulers())?.map((s) => s.label)).toContain('Karras')
    expect(await client.controlnetModels()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^control_v11p_sd15_canny \[[0-9a-f]{8}\]$/)]),
    )
    expect((await client.options()).sd_model_checkpoint).toMatch(/^v1-5-pruned-emaonly/)
    expect(await client.progress()).toMatchObject({ progress: 0, state: { job_count: 0 } })
  })

  it('says null for routes a server does not have (ControlNet not installed)', async () => {
    await start({ controlnet: false })
    expect(await client.controlnetModels()).toBeNull()
    expect(await client.controlnetModules()).toBeNull()
  })

  it('turns a pydantic 422 into a final error naming each field, in both pydantic shapes', async () => {
    for (const pydantic of [1, 2] as const) {
      await start({ pydantic })
      const body = { ...(await minimalBody()), steps: 'many', tiling: 'sometimes' } as unknown as Img2imgRequest
      const error = (await client.img2img(body).catch((e: unknown) => e)) as AppError
      expect(error).toBeInstanceOf(AppError)
      expect(error).toMatchObject({ code: 'BACKEND_FAILED', retryable: false })
      expect(error.message).toMatch(
        /refused the \/sdapi\/v1\/img2img request \(HTTP 422\): steps: .*integer.*; tiling: .*boolean/,
      )
      expect(error.details?.problems).toEqual([
        expect.objectContaining({ field: 'steps' }),
        expect.objectContaining({ field: 'tiling' }),
      ])
      await fake!.close()
      fake = undefined
    }
  })

  it('classifies api.py’s {error, detail, body, errors} answers', () => {
    const at = (status: number, body: unknown) =>
      sdwebuiError('http://gpu-1:7860', '/sdapi/v1/img2img', status, JSON.stringify(body))
    const api = (error: string, detail: string, errors = '') => ({ error, detail, body: '', errors })
    expect(at(422, api('HTTPException', "Script 'controlnet' not found"))).toMatchObject({
      retryable: false,
      message:
        "SD WebUI at http://gpu-1:7860 answered /sdapi/v1/img2img with HTTP 422 (HTTPException): Script 'controlnet' not found",
    })
    expect(at(404, api('HTTPException', 'Init image not found')).retryable).toBe(false)
    expect(at(500, api('HTTPException', 'Invalid encoded image')).retryable).toBe(false)
    expect(at(500, api('RuntimeError', '', "model 'x.safetensors' not found")).retryable).toBe(false)
    expect(at(500, api('KeyError', '', "'no_such_setting'")).retryable).toBe(false)
    expect(at(500, api('NansException', '', 'A tensor with all NaNs was produced in Unet.')).retryable).toBe(false)
    expect(at(500, api('OutOfMemoryError', '', 'CUDA out of memory. Tried to allocate 2.00 GiB')).retryable).toBe(true)
    expect(at(500, api('RuntimeError', '', 'CUDA error: an illegal memory access was encountered')).retryable).toBe(true)
    expect(at(401, api('HTTPException', 'Not authenticated'))).toMatchObject({
      code: 'BACKEND_AUTH_FAILED',
      retryable: false,
      message: expect.stringContaining('refused our credentials'),
    })
    expect(sdwebuiError('http://gpu-1:7860', '/sdapi/v1/img2img', 502, '<html>Bad Gateway</html>')).toMatchObject({
      code: 'BACKEND_FAILED',
      retryable: true,
      message: 'SD WebUI at http://gpu-1:7860 answered /sdapi/v1/img2img with HTTP 502',
      details: { body: '<html>Bad Gateway</html>' },
    })
    expect(sdwebuiError('http://gpu-1:7860', '/x', 429, '').retryable).toBe(true)
  })

  it('sends --api-auth credentials from the URL as HTTP Basic, and never keeps them in the base URL', async () => {
    await start({ auth: { username: 'bot', password: 's3cr:et' } }, (base) => base.replace('http://', 'http://bot:s3cr%3Aet@'))
    expect(client.baseUrl).toBe(fake!.url)
    expect((await client.sdModels()).length).toBeGreaterThan(0)
    const anonymous = createSdwebuiClient({ baseUrl: fake!.url })
    await expect(anonymous.sdModels()).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('refused our credentials (HTTP 401)'),
    })
    // /internal/ping needs no credentials.
    await expect(anonymous.ping()).resolves.toBeUndefined()
    expect(splitCredentials('https://u:p@sd.example.com/proxy/')).toEqual({
      baseUrl: 'https://sd.example.com/proxy',
      authorization: `Basic ${Buffer.from('u:p').toString('base64')}`,
    })
  })

  it('reports a refused connection, a proxy error and a slow server as retryable', async () => {
    const refused = createSdwebuiClient({ baseUrl: 'http://127.0.0.1:9' })
    await expect(refused.progress()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true })
    const proxy = createSdwebuiClient({ baseUrl: await canned(502, '<html>Bad Gateway</html>') })
    // A proxy's page is not quoted to the merchant; it stays in details.
    const page = (await proxy.progress().catch((e: unknown) => e)) as AppError
    expect(page).toMatchObject({ code: 'BACKEND_FAILED', retryable: true, details: { status: 502, body: '<html>Bad Gateway</html>' } })
    expect(page.message).toMatch(/answered \/sdapi\/v1\/progress\S* with HTTP 502$/)
    const slow = createSdwebuiClient({ baseUrl: await canned(200, '{}', 2000), requestTimeoutMs: 100 })
    await expect(slow.progress()).rejects.toMatchObject({ code: 'BACKEND_TIMEOUT', retryable: true })
  })

  it('refuses an answer in an unexpected shape', async () => {
    const odd = createSdwebuiClient({ baseUrl: await canned(200, '{"progress": "lots"}') })
    await expect(odd.progress()).rejects.toMatchObject({
      code: 'BACKEND_FAILED',
      message: expect.stringContaining("but not as SD WebUI's API does"),
      details: { reason: 'not_api', problem: expect.stringContaining('progress') },
    })
  })
})
