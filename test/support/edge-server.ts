import http from 'node:http'
import type { ActionFunctionArgs, ServerBuild } from '@remix-run/node'
import { startWebServer, type StartedServer } from '#app/lib/server.server.ts'

/** What a stand-in route saw: every call, and the size of each body it managed to read whole. */
type RouteModule = ServerBuild['routes'][string]['module']

export interface RouteProbe {
  calls: number
  bodies: number[]
  readErrors: number
}

export function newProbe(): RouteProbe {
  return { calls: 0, bodies: [], readErrors: 0 }
}

/** An action that reads its whole body, as request.json() / formData() would, and answers its size. */
function probingAction(probe: RouteProbe) {
  return async ({ request }: ActionFunctionArgs) => {
    probe.calls++
    try {
      const bytes = (await request.arrayBuffer()).byteLength
      probe.bodies.push(bytes)
      return Response.json({ bytes })
    } catch {
      probe.readErrors++
      return new Response('body read failed', { status: 400 })
    }
  }
}

/**
 * The real web server (startWebServer: every Express layer the app has) in
 * front of a small Remix build whose routes sit at the app's real paths:
 * probing stand-ins, or the app's own route modules.
 * `page: true` makes a route a page (a default export), so a plain form POST
 * to it is a Remix document request; otherwise it is a resource route.
 */
export async function startEdgeServer(
  routes: ({ path: string; probe: RouteProbe; page?: boolean } | { path: string; module: object })[],
): Promise<StartedServer> {
  const manifest: ServerBuild['routes'] = { root: { id: 'root', path: '', module: { default: () => null } } }
  routes.forEach((r, i) => {
    const module =
      'module' in r
        ? r.module
        : {
            action: probingAction(r.probe),
            loader: () => Response.json({ ok: true }),
            ...(r.page ? { default: () => null } : {}),
          }
    // why the cast: Remix types every route module with a default export, but a resource route has none.
    manifest[`r${i}`] = { id: `r${i}`, parentId: 'root', path: r.path, module: module as RouteModule }
  })
  const build: ServerBuild = {
    mode: 'production',
    entry: {
      module: { default: () => new Response('<!doctype html><p>page</p>', { headers: { 'content-type': 'text/html' } }) },
    },
    routes: manifest,
    assets: { entry: { imports: [], module: '' }, routes: {}, url: '', version: 'edge-test' },
    publicPath: '/',
    assetsBuildDirectory: '',
    future: {
      v3_fetcherPersist: true,
      v3_relativeSplatPath: true,
      v3_throwAbortReason: true,
      v3_lazyRouteDiscovery: true,
      v3_singleFetch: true,
    },
    isSpaMode: false,
  }
  return startWebServer({ port: 0, host: '127.0.0.1', build })
}

export interface RawReply {
  status: number
  body: string
  /** Bytes of body the client had written when the reply (or the close) came. */
  sentBeforeReply: number
  ms: number
}

/**
 * Sends a body of `total` bytes in 64 KB chunks with Node's own http client
 * (chunked unless `declare` sets Content-Length), from the server's own
 * origin as the app's pages do, stopping as soon as the server answers or
 * closes. Resolves with what the client saw.
 */
export function streamPost(
  url: string,
  opts: { total: number; declare?: number; headers?: Record<string, string> },
): Promise<RawReply> {
  const started = Date.now()
  const chunk = Buffer.alloc(64 * 1024, 0x61)
  return new Promise((resolve, reject) => {
    let sent = 0
    let stopped = false
    let sentAtReply: number | undefined
    const headers: Record<string, string> = { origin: new URL(url).origin, ...opts.headers }
    if (opts.declare !== undefined) headers['content-length'] = String(opts.declare)
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      sentAtReply ??= sent
      stopped = true
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, sentBeforeReply: sentAtReply ?? sent, ms: Date.now() - started }),
      )
      res.on('error', () =>
        resolve({ status: res.statusCode ?? 0, body, sentBeforeReply: sentAtReply ?? sent, ms: Date.now() - started }),
      )
    })
    req.on('error', (e) => {
      stopped = true
      if (sentAtReply === undefined) reject(Object.assign(e, { sent }))
    })
    const pump = () => {
      while (!stopped && sent < opts.total) {
        const part = chunk.subarray(0, Math.min(chunk.length, opts.total - sent))
        sent += part.length
        if (!req.write(part)) return void req.once('drain', pump)
      }
      if (!stopped) req.end()
    }
    pump()
  })
}

/** One request with exactly these headers (Host included, which fetch() will not let a caller set). */
export function send(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, setHost: !opts.headers?.host },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    req.end(opts.body)
  })
}
