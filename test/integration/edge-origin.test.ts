import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetEnvCache } from '#app/lib/env.server.ts'
import type { StartedServer } from '#app/lib/server.server.ts'
import { newProbe, send, startEdgeServer } from '#test/support/edge-server.ts'

// Local mode has no login: only this machine's own pages may use it. A
// DNS-rebinding page (a foreign Host) gets 421, and a write from any other
// origin gets 403, before a route runs.

const studio = newProbe()
const renders = newProbe()
let server: StartedServer
let port: string
let own: string

beforeAll(async () => {
  process.env.APP_MODE = 'local'
  resetEnvCache()
  server = await startEdgeServer([
    { path: 'app/products/:productId', probe: studio, page: true },
    { path: 'api/renders', probe: renders },
  ])
  port = new URL(server.url).port
  own = `http://127.0.0.1:${port}`
})

afterAll(async () => {
  await server?.close()
  delete process.env.APP_MODE
  resetEnvCache()
})

function code(body: string): string {
  return (JSON.parse(body) as { error: { code: string } }).error.code
}

describe('local mode: Host', () => {
  it('answers 421 to a Host that is not a loopback name on its own port, reads and writes alike', async () => {
    for (const host of [
      `rebind.attacker.example:${port}`,
      `127.0.0.1:${Number(port) + 1}`,
      '127.0.0.1',
      `127.0.0.2:${port}`,
      `localhost.attacker.example:${port}`,
    ]) {
      const page = await send(`${own}/app/products/tee`, { headers: { host } })
      expect(page.status, host).toBe(421)
      expect(code(page.body)).toBe('HOST_NOT_ALLOWED')
      const write = await send(`${own}/app/products/tee.data`, {
        method: 'POST',
        headers: { host, origin: `http://${host}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'intent=approve&renderId=r1',
      })
      expect(write.status, host).toBe(421)
    }
    expect(studio.calls).toBe(0)
  })

  it('serves 127.0.0.1, localhost and [::1] on its port', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect((await send(`${own}/api/renders`, { headers: { host } })).status, host).toBe(200)
    }
  })
})

describe('local mode: Origin on writes', () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' }

  it('refuses a write from another origin, or with no sign of its origin, with 403', async () => {
    const attempts: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: `http://localhost:${port}` }, // another origin than the Host the request went to
      { origin: `https://127.0.0.1:${port}` },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      {},
    ]
    for (const headers of attempts) {
      for (const path of ['/app/products/tee.data', '/app/products/tee?index', '/api/renders']) {
        const reply = await send(`${own}${path}`, {
          method: 'POST',
          headers: { ...form, ...headers },
          body: 'intent=approve&renderId=r1',
        })
        expect(reply.status, `${path} ${JSON.stringify(headers)}`).toBe(403)
        expect(code(reply.body)).toBe('ORIGIN_REFUSED')
      }
    }
    expect(studio.calls).toBe(0)
    expect(renders.calls).toBe(0)
  })

  it('refuses the cross-origin text/plain POST that needs no preflight', async () => {
    const reply = await send(`${own}/api/renders`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: JSON.stringify({ productIds: ['classic-tee'], look: { marketId: 'us', sceneId: 'studio-white' } }),
    })
    expect(reply.status).toBe(403)
    expect(renders.calls).toBe(0)
  })

  it('takes writes from its own pages: a same-origin Origin, or Sec-Fetch-Site: same-origin', async () => {
    const fromPage = await send(`${own}/app/products/tee.data`, {
      method: 'POST',
      headers: { ...form, origin: own },
      body: 'intent=approve',
    })
    expect(fromPage.status).toBe(200)
    const viaLocalhost = await send(`http://localhost:${port}/api/renders`, {
      method: 'POST',
      headers: { host: `localhost:${port}`, origin: `http://localhost:${port}`, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(viaLocalhost.status).toBe(200)
    const fetchMetadata = await send(`${own}/api/renders`, {
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
      body: '{}',
    })
    expect(fetchMetadata.status).toBe(200)
    expect(studio.calls).toBe(1)
    expect(renders.calls).toBe(2)
  })

  it('leaves reads alone', async () => {
    expect((await send(`${own}/api/renders`, { headers: { origin: 'https://evil.example' } })).status).toBe(200)
  })
})
