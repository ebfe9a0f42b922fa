import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { outboundGuard, type LookupFunction } from '#app/lib/outbound.server.ts'
import { startComfyFake, type ComfyFake } from '#test/fakes/comfyui/index.ts'
import { startSdwebuiFake, type SdwebuiFake } from '#test/fakes/sdwebui/index.ts'
import { FAKE_WESHOP_KEY, startWeshopFake, type WeshopFake } from '#test/fakes/weshop/index.ts'
import { createComfyClient } from './comfyui/client.server.ts'
import { publicOnly } from './rows.server.ts'
import { buildBackend } from './pool.server.ts'

// Every backend a shop can point somewhere goes through the outbound guard:
// the fakes below listen on loopback, which a shop's own row in Shopify mode must never reach.

let comfy: ComfyFake
let sdwebui: SdwebuiFake
let weshop: WeshopFake
let redirector: Server
let redirectorUrl: string

beforeAll(async () => {
  ;[comfy, sdwebui, weshop] = await Promise.all([startComfyFake(), startSdwebuiFake(), startWeshopFake()])
  redirector = createServer((req, res) => {
    res.writeHead(302, { location: `${comfy.url}${req.url ?? '/'}` })
    res.end()
  })
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve))
  redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`
})
afterAll(async () => {
  await Promise.all([comfy.close(), sdwebui.close(), weshop.close()])
  await new Promise((resolve) => redirector.close(resolve))
})
afterEach(() => {
  delete process.env.APP_MODE
  resetEnvCache()
})

const seen = () => comfy.requests.length + sdwebui.requests.length

describe('when a backend may reach only public addresses', () => {
  it("is a shop's own row in Shopify mode; never the operator's, never in local mode", () => {
    process.env.APP_MODE = 'shopify'
    process.env.SHOPIFY_API_KEY ||= 'k'
    process.env.SHOPIFY_API_SECRET ||= 's'
    process.env.SHOPIFY_APP_URL ||= 'https://atelier.example.com'
    resetEnvCache()
    expect(publicOnly('0b0e0d6c-7f3e-4a51-9d43-cf0e1a2b3c4d')).toBe(true)
    expect(publicOnly(null)).toBe(false)
    process.env.APP_MODE = 'local'
    resetEnvCache()
    expect(publicOnly('0b0e0d6c-7f3e-4a51-9d43-cf0e1a2b3c4d')).toBe(false)
  })

  it.each(['comfyui', 'sdwebui'] as const)(
    '%s: a public-only backend on loopback is refused before a byte is sent',
    async (type) => {
      const url = type === 'comfyui' ? comfy.url : sdwebui.url
      const before = seen()
      const guarded = await buildBackend({ id: 'cfg-x', type, url, credentials: null, publicOnly: true })
      const check = await guarded.health()
      await guarded.close?.()
      expect(check.ok).toBe(false)
      expect(check.detail).toMatch(/private or special addresses/)
      expect(seen()).toBe(before)

      // The operator's row to the same server connects.
      const open = await buildBackend({ id: 'cfg-y', type, url, credentials: null, publicOnly: false })
      expect((await open.health()).ok).toBe(true)
      await open.close?.()
    },
  )

  it('weshop: a shop endpoint on loopback is refused; the deployment WESHOP_BASE_URL is reached', async () => {
    process.env.WESHOP_BASE_URL = weshop.url
    try {
      const credentials = { kind: 'apiKey' as const, apiKey: FAKE_WESHOP_KEY }
      const guarded = await buildBackend({ id: 'cfg-w', type: 'weshop', url: weshop.url, credentials, publicOnly: true })
      const check = await guarded.health()
      expect(check).toMatchObject({ ok: false, detail: expect.stringMatching(/private or special addresses/) })
      const open = await buildBackend({ id: 'cfg-v', type: 'weshop', url: weshop.url, credentials, publicOnly: false })
      expect((await open.health()).ok).toBe(true)
    } finally {
      delete process.env.WESHOP_BASE_URL
    }
  })
})

describe('the ComfyUI client through a guard', () => {
  const token = { Authorization: 'Bearer shop-secret-token' }

  it('does not send the bearer token to a name that resolved public for the check and loopback for the connection', async () => {
    let calls = 0
    const rebinding = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      const address = calls++ === 0 ? '93.184.215.14' : '127.0.0.1'
      if (options.all) callback(null, [{ address, family: 4 }])
      else callback(null, address, 4)
    }) as unknown as LookupFunction
    const guard = outboundGuard({ lookup: rebinding })
    // The first answer: what a save-time check would have seen.
    await new Promise((resolve) => rebinding('gpu.example', { all: true }, resolve))
    const before = comfy.requests.length
    const client = createComfyClient({
      baseUrl: `http://gpu.example:${new URL(comfy.url).port}`,
      headers: token,
      outbound: guard,
      requestTimeoutMs: 2000,
      connectWaitMs: 300,
    })
    await expect(client.systemStats()).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringMatching(/127\.0\.0\.1 \(loopback\)/),
    })
    // The socket the client opens takes the same dispatcher (Node's WebSocket honours it).
    const ws = new WebSocket(`${comfy.url.replace('http', 'ws')}/ws`, { dispatcher: guard.dispatcher } as unknown as string[])
    const opened = await new Promise<boolean>((resolve) => {
      ws.addEventListener('open', () => resolve(true))
      ws.addEventListener('close', () => resolve(false))
    })
    expect(opened).toBe(false)
    await client.close()
    await guard.close()
    expect(comfy.requests.slice(before)).toEqual([])
  })

  it('does not follow a 302 to loopback (requests and the socket alike)', async () => {
    const guard = outboundGuard({ allow: [redirectorUrl] })
    const before = comfy.requests.length
    const client = createComfyClient({ baseUrl: redirectorUrl, headers: token, outbound: guard, requestTimeoutMs: 2000 })
    await expect(client.systemStats()).rejects.toMatchObject({ message: expect.stringMatching(/loopback/) })
    await client.close()
    await guard.close()
    expect(comfy.requests.slice(before)).toEqual([])
  })
})
