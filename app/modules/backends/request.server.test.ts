import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '#test/support/services.ts'
import { timedRequest } from './request.server.ts'

let silent: Server
let silentUrl: string
beforeAll(async () => {
  // why: a server that accepts and never answers is how a hung GPU box looks.
  silent = createServer(() => undefined)
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
})
afterAll(async () => {
  silent.closeAllConnections()
  await new Promise((resolve) => silent.close(resolve))
})

const send = (url: string, init: RequestInit) => fetch(url, init)

describe('timedRequest', () => {
  it('turns a server that does not answer into a retryable BACKEND_TIMEOUT naming it', async () => {
    const request = timedRequest({ server: 'ComfyUI', baseUrl: silentUrl, path: '/prompt', init: {}, timeoutMs: 200, send })
    await expect(request).rejects.toMatchObject({
      code: 'BACKEND_TIMEOUT',
      retryable: true,
      message: `ComfyUI at ${silentUrl} did not answer /prompt within 200 ms`,
      details: { backend: silentUrl, path: '/prompt' },
    })
  })

  it('says why a connection was refused, not just "fetch failed"', async () => {
    const baseUrl = `http://127.0.0.1:${await freePort()}`
    const request = timedRequest({ server: 'SD WebUI', baseUrl, path: '/sdapi/v1/options', init: {}, timeoutMs: 2_000, send })
    await expect(request).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      retryable: true,
      message: expect.stringMatching(/ECONNREFUSED/),
    })
  })

  it("rethrows the caller's own abort reason untouched", async () => {
    const caller = new AbortController()
    const reason = new Error('render cancelled')
    setTimeout(() => caller.abort(reason), 50)
    const request = timedRequest({
      server: 'ComfyUI',
      baseUrl: silentUrl,
      path: '/history',
      init: { signal: caller.signal },
      timeoutMs: 5_000,
      send,
    })
    await expect(request).rejects.toBe(reason)
  })
})
