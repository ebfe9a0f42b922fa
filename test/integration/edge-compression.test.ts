import express from 'express'
import http from 'node:http'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acceptedEncodings, precompressed } from '#app/lib/precompressed.server.ts'
import type { StartedServer } from '#app/lib/server.server.ts'
import { startEdgeServer } from '#test/support/edge-server.ts'
import { compressTree } from '../../scripts/vite/precompress.ts'

// On a slow link the pages and their scripts are most of the wait (issue 16):
// the real web server compresses what it renders, and sends the copies the
// build compressed once for its static assets.

interface Raw {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

function get(url: string, acceptEncoding?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding }
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      })
      .on('error', reject)
  })
}

const decoded = (r: Raw): string =>
  (r.headers['content-encoding'] === 'br'
    ? brotliDecompressSync(r.body)
    : r.headers['content-encoding'] === 'gzip'
      ? gunzipSync(r.body)
      : r.body
  ).toString()

describe('pages and data from the web server', () => {
  const big = { products: Array.from({ length: 200 }, (_, i) => ({ id: `p${i}`, title: `Linen shirt ${i}` })) }
  let server: StartedServer

  beforeAll(async () => {
    server = await startEdgeServer([{ path: 'app/data', module: { loader: () => Response.json(big) } }])
  })
  afterAll(async () => {
    await server?.close()
  })

  it('compresses with brotli when the browser takes it, gzip when it only takes that, and not at all otherwise', async () => {
    const url = `${server.url}/app/data`
    const br = await get(url, 'gzip, deflate, br')
    expect(br.headers['content-encoding']).toBe('br')
    expect(br.headers.vary).toMatch(/accept-encoding/i)
    expect(br.body.length).toBeLessThan(JSON.stringify(big).length / 4)
    expect(JSON.parse(decoded(br))).toEqual(big)
    const gz = await get(url, 'gzip')
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(JSON.parse(decoded(gz))).toEqual(big)
    const plain = await get(url)
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(JSON.parse(plain.body.toString())).toEqual(big)
  })
})

describe('static assets the build compressed', () => {
  let dir: string
  let server: http.Server
  let base: string
  const css = `.card{display:grid}\n`.repeat(400)

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atelier-assets-'))
    await mkdir(path.join(dir, 'assets'))
    await writeFile(path.join(dir, 'assets', 'app-1a2b.css'), css)
    await writeFile(path.join(dir, 'assets', 'tiny.js'), 'export{}')
    expect(await compressTree(dir)).toBe(1)
    const app = express()
    const assets = path.join(dir, 'assets')
    app.use('/assets', precompressed(assets), express.static(assets))
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s))
    })
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    await rm(dir, { recursive: true, force: true })
  })

  it('sends the brotli or gzip copy with the asset’s own type, and the file itself to a browser that takes neither', async () => {
    const br = await get(`${base}/assets/app-1a2b.css`, 'gzip;q=0.5, br')
    expect(br.status).toBe(200)
    expect(br.headers).toMatchObject({ 'content-encoding': 'br', 'content-type': 'text/css; charset=utf-8' })
    expect(br.headers.vary).toMatch(/accept-encoding/i)
    expect(Number(br.headers['content-length'])).toBeLessThan(css.length / 10)
    expect(decoded(br)).toBe(css)
    const gz = await get(`${base}/assets/app-1a2b.css`, 'br;q=0, gzip')
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(decoded(gz)).toBe(css)
    const plain = await get(`${base}/assets/app-1a2b.css`)
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.body.toString()).toBe(css)
    // Too small to be worth a copy: sent as it is.
    expect((await get(`${base}/assets/tiny.js`, 'br')).headers['content-encoding']).toBeUndefined()
  })

  it('never serves a path outside its folder', async () => {
    expect((await get(`${base}/assets/..%2F..%2Fetc%2Fpasswd.css`, 'br')).status).toBe(404)
  })

  it('reads Accept-Encoding with its weights', () => {
    expect([...acceptedEncodings('gzip, deflate, br;q=1.0, *;q=0.1')]).toEqual(['gzip', 'deflate', 'br', '*'])
    expect(acceptedEncodings('br;q=0, gzip').has('br')).toBe(false)
    expect(acceptedEncodings(undefined).size).toBe(0)
  })
})
