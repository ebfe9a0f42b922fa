import http from 'node:http'
import type { UploadedFile } from './faults.ts'
import { handleGateway } from './gateway.ts'
import { authorize, token, type HttpAnswer } from './oauth.ts'
import type { Runtime } from './store.ts'

// HTTP routing for the fake, one origin for all of Taobao:
//   POST /router/rest        the TOP gateway (form or multipart; GET with a query too)
//   GET|POST /authorize      OAuth consent;  POST /token  the grant
//   GET  /imgextra/<path>    image-space and item image bytes

const MAX_BODY_BYTES = 32 * 1024 * 1024

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new Error('request body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** Text params and file parts from the query and a urlencoded or multipart body. */
async function readParams(req: http.IncomingMessage, url: URL) {
  const params: Record<string, string> = Object.fromEntries(url.searchParams)
  const files = new Map<string, UploadedFile>()
  const type = req.headers['content-type'] ?? ''
  const raw = await readBody(req)
  if (type.includes('multipart/form-data')) {
    const form = await new Request(url, {
      method: 'POST',
      headers: { 'content-type': type },
      body: new Uint8Array(raw),
    }).formData()
    for (const [name, value] of form.entries()) {
      if (typeof value === 'string') params[name] = value
      else files.set(name, { bytes: Buffer.from(await value.arrayBuffer()), contentType: value.type, filename: value.name })
    }
  } else if (raw.length > 0) {
    for (const [name, value] of new URLSearchParams(raw.toString('utf8'))) params[name] = value
  }
  return { params, files }
}

function send(res: http.ServerResponse, answer: HttpAnswer): void {
  const isJson = typeof answer.body !== 'string'
  const payload = isJson ? JSON.stringify(answer.body) : (answer.body as string)
  res.writeHead(answer.status, {
    'content-type': isJson ? 'application/json;charset=UTF-8' : 'text/html; charset=utf-8',
    ...answer.headers,
    'content-length': Buffer.byteLength(payload),
  })
  res.end(payload)
}

export function createHttpServer(rt: Runtime): http.Server {
  return http.createServer((req, res) => {
    route(rt, req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { error: 'fake_error', error_description: String(e) } })
      else res.destroy()
    })
  })
}

async function route(rt: Runtime, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', rt.origin)
  const method = req.method ?? 'GET'
  if (url.pathname === '/router/rest' && (method === 'POST' || method === 'GET')) {
    const { params, files } = await readParams(req, url)
    return send(res, { status: 200, body: await handleGateway(rt, params, files) })
  }
  if (url.pathname === '/authorize' && method === 'GET') return send(res, authorize(rt, url.searchParams, false))
  if (url.pathname === '/authorize' && method === 'POST') {
    const { params } = await readParams(req, url)
    return send(res, authorize(rt, new URLSearchParams(params), true))
  }
  if (url.pathname === '/token' && method === 'POST') {
    const { params } = await readParams(req, url)
    return send(res, token(rt, new URLSearchParams(params)))
  }
  if (url.pathname.startsWith('/imgextra/') && method === 'GET') {
    const file = rt.files.get(decodeURIComponent(url.pathname.slice('/imgextra/'.length)))
    if (!file) return send(res, { status: 404, body: 'not found' })
    res.writeHead(200, {
      'content-type': file.contentType,
      'content-length': file.bytes.length,
      'cache-control': 'max-age=31536000',
    })
    res.end(file.bytes)
    return
  }
  send(res, { status: 404, body: 'not found' })
}
