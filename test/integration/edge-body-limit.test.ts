import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StartedServer } from '#app/lib/server.server.ts'
import { MASK_FORM_BYTES } from '#app/lib/body-limit.server.ts'
import { newProbe, startEdgeServer, streamPost } from '#test/support/edge-server.ts'

// Every request body is bounded at the web edge, by Content-Length and by the
// stream, before any route reads it: 413 at once, the connection closed.

const MB = 1024 * 1024
const webhooks = newProbe()
const renders = newProbe()
const studio = newProbe()
const bulk = newProbe()
let server: StartedServer
/** Writes come from the app's own pages (local mode refuses any other origin). */
let own: Record<string, string>

beforeAll(async () => {
  server = await startEdgeServer([
    { path: 'webhooks', probe: webhooks },
    { path: 'api/renders', probe: renders },
    { path: 'app/products/:productId', probe: studio },
    { path: 'app/bulk/new', probe: bulk },
  ])
  own = { origin: server.url }
})

afterAll(async () => {
  await server?.close()
})

function errorCode(body: string): string {
  return (JSON.parse(body) as { error: { code: string } }).error.code
}

describe('request body limits', () => {
  it('refuses a declared Content-Length over the limit at once, before the route runs', async () => {
    for (const [path, probe] of [
      ['/webhooks', webhooks],
      ['/api/renders', renders],
      ['/app/bulk/new', bulk],
    ] as const) {
      const before = probe.calls
      // The client declares 200 MB but sends only its first chunk: the server must not wait for the rest.
      const reply = await streamPost(`${server.url}${path}`, {
        total: 64 * 1024,
        declare: 200 * MB,
        headers: { 'content-type': 'application/json' },
      })
      expect(reply.status, path).toBe(413)
      expect(errorCode(reply.body)).toBe('BODY_TOO_LARGE')
      expect(reply.ms, path).toBeLessThan(2_000)
      expect(probe.calls, path).toBe(before)
    }
  })

  it('cuts off a chunked body at the limit with 413, long before the client has sent it all', async () => {
    const total = 50 * MB
    const reply = await streamPost(`${server.url}/webhooks`, { total })
    expect(reply.status).toBe(413)
    expect(errorCode(reply.body)).toBe('BODY_TOO_LARGE')
    // The webhook limit is 5 MB; what else got through is socket buffers, not a buffered body.
    expect(reply.sentBeforeReply).toBeLessThan(total / 2)
    expect(webhooks.bodies.every((b) => b <= 5 * MB)).toBe(true)
  })

  it('cuts off chunked JSON to /api/renders and a chunked page form the same way', async () => {
    for (const [path, probe] of [
      ['/api/renders', renders],
      ['/app/bulk/new', bulk],
    ] as const) {
      const read = probe.bodies.length
      const reply = await streamPost(`${server.url}${path}`, {
        total: 20 * MB,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
      expect(reply.status, path).toBe(413)
      expect(reply.sentBeforeReply, path).toBeLessThan(10 * MB)
      // The route began reading and was stopped: it never held the whole body.
      expect(probe.bodies.length, path).toBe(read)
    }
  })

  it('answers a fetch() client that streams too much with the 413, not a broken connection', async () => {
    const chunk = new Uint8Array(256 * 1024)
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 50 * MB) return controller.close()
        sent += chunk.length
        controller.enqueue(chunk)
      },
    })
    const res = await fetch(`${server.url}/api/renders`, {
      method: 'POST',
      body,
      duplex: 'half',
      headers: { ...own, 'content-type': 'application/json' },
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BODY_TOO_LARGE')
    expect(sent).toBeLessThan(25 * MB)
  })

  it('lets ordinary bodies through, the studio form up to its mask limit included', async () => {
    const json = await fetch(`${server.url}/api/renders`, {
      method: 'POST',
      body: JSON.stringify({ productIds: ['a'] }),
      headers: { ...own, 'content-type': 'application/json' },
    })
    expect(json.status).toBe(200)
    const form = await fetch(`${server.url}/app/bulk/new`, {
      method: 'POST',
      body: new URLSearchParams({ name: 'x'.repeat(200 * 1024) }),
      headers: own,
    })
    expect(form.status).toBe(200)
    // A mask just under 8 MB with the form's other fields, declared and chunked.
    const near = MASK_FORM_BYTES - 1024
    const declared = await streamPost(`${server.url}/app/products/classic-tee`, { total: near, declare: near })
    expect(declared.status).toBe(200)
    const chunked = await streamPost(`${server.url}/app/products/classic-tee`, { total: near })
    expect(chunked.status).toBe(200)
    expect(studio.bodies).toEqual([near, near])
    // The same size is refused on a page whose form carries no file.
    expect((await streamPost(`${server.url}/app/bulk/new`, { total: near, declare: near })).status).toBe(413)
  })
})
