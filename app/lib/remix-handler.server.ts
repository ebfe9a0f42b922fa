import { Readable } from 'node:stream'
import {
  createReadableStreamFromReadable,
  createRequestHandler,
  writeReadableStreamToWritable,
  type ServerBuild,
} from '@remix-run/node'
import type { Request as ExpressRequest, RequestHandler, Response as ExpressResponse } from 'express'
import { boundedBody } from './body-limit.server.ts'
import { refuse } from './refuse.server.ts'

/**
 * Express to Remix, as @remix-run/express does it, except that the body
 * Remix reads is bounded by the route's limit (see body-limit.server.ts).
 */
export function remixHandler(opts: { build: () => Promise<ServerBuild>; mode: 'development' | 'production' }): RequestHandler {
  const handle = createRequestHandler(opts.build, opts.mode)
  return async (req, res, next) => {
    try {
      const response = await handle(toRemixRequest(req, res))
      // why: a body over its limit was answered 413 while the route was still reading it.
      if (res.headersSent) return void (await response.body?.cancel())
      // why close: a body the route never read would otherwise be drained to keep the connection.
      if (!req.complete) res.setHeader('connection', 'close')
      await sendResponse(res, response)
    } catch (e) {
      next(e)
    }
  }
}

/** The URL the browser asked for; req.hostname drops the port, so it comes from the Host header. */
function requestUrl(req: ExpressRequest): string {
  const port = /:(\d+)$/.exec(req.get('x-forwarded-host') ?? '')?.[1] ?? /:(\d+)$/.exec(req.get('host') ?? '')?.[1]
  return `${req.protocol}://${req.hostname}${port ? `:${port}` : ''}${req.originalUrl}`
}

function toRemixRequest(req: ExpressRequest, res: ExpressResponse): Request {
  const headers = new Headers()
  for (const [key, value] of Object.entries(req.headers)) {
    for (const v of Array.isArray(value) ? value : value ? [value] : []) headers.append(key, v)
  }
  let controller: AbortController | null = new AbortController()
  // Abort the route's work when the client goes away before the response is done.
  res.on('finish', () => (controller = null))
  res.on('close', () => controller?.abort())
  const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers, signal: controller.signal }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const body = boundedBody(req, (limit) => {
      // why abort: the route stops its work, and its failed read is not logged as an error.
      controller?.abort()
      refuse(req, res, 'BODY_TOO_LARGE', { limit })
    })
    init.body = createReadableStreamFromReadable(body as Readable)
    init.duplex = 'half'
  }
  return new Request(requestUrl(req), init)
}

async function sendResponse(res: ExpressResponse, response: Response): Promise<void> {
  res.statusMessage = response.statusText
  res.status(response.status)
  for (const [key, value] of response.headers.entries()) res.append(key, value)
  if (/text\/event-stream/i.test(response.headers.get('content-type') ?? '')) res.flushHeaders()
  if (response.body) await writeReadableStreamToWritable(response.body, res)
  else res.end()
}
