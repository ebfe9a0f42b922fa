import type { ServerBuild } from '@remix-run/node'
import compression from 'compression'
import express from 'express'
import { randomUUID } from 'node:crypto'
import type { Server } from 'node:http'
import path from 'node:path'
import { refuseDeclaredOversize } from './body-limit.server.ts'
import { env } from './env.server.ts'
import { logger } from './logger.server.ts'
import { foreignOriginActionsRefused, loopbackHostOnly, sameOriginWritesOnly } from './origin-guard.server.ts'
import { precompressed } from './precompressed.server.ts'
import { remixHandler } from './remix-handler.server.ts'

const loopback = new Set(['127.0.0.1', 'localhost', '::1'])

export interface StartedServer {
  url: string
  close(): Promise<void>
}

/**
 * The web process: Remix behind Express. In local mode there is no login, so
 * the server listens only on loopback, answers only loopback Host names on its
 * own port, and takes writes only from its own pages.
 */
export async function startWebServer(
  opts: { dev?: boolean; port?: number; host?: string; /** Serve this build instead of build/server (tests). */ build?: ServerBuild } = {},
): Promise<StartedServer> {
  const e = env()
  const host = opts.host ?? e.HOST
  const port = opts.port ?? e.PORT
  if (e.APP_MODE === 'local' && !loopback.has(host)) {
    throw new Error(`APP_MODE=local has no login, so it only listens on localhost; HOST=${host} refused.`)
  }
  const root = process.cwd()
  const app = express()
  app.disable('x-powered-by')
  app.use((req, res, next) => {
    const id = (req.headers['x-request-id'] as string | undefined) ?? randomUUID()
    res.setHeader('x-request-id', id)
    const started = Date.now()
    // why read now: a mounted handler (static assets) rewrites req.url before the response finishes.
    const at = req.path
    res.on('finish', () => {
      if (at.startsWith('/assets') || at.startsWith('/@') || at.startsWith('/node_modules')) return
      logger().info({ reqId: id, method: req.method, path: at, status: res.statusCode, ms: Date.now() - started }, 'request')
    })
    next()
  })
  // why a getter: with port 0 the port is known only once the server listens.
  let self = new URL(`http://127.0.0.1:${port}`)
  if (e.APP_MODE === 'local') app.use(loopbackHostOnly(() => self))
  if (e.APP_MODE === 'local') app.use(sameOriginWritesOnly())
  // why Taobao too: its login is a cookie, and a write must come from our own pages (CSRF), not only carry it.
  if (e.APP_MODE === 'taobao') app.use(sameOriginWritesOnly(new URL(e.TAOBAO_APP_URL!).origin))
  app.use(foreignOriginActionsRefused())
  app.use(refuseDeclaredOversize())

  let build: () => Promise<ServerBuild>
  let closeVite = async () => {}
  if (opts.dev) {
    const vite = await import('vite')
    const devServer = await vite.createServer({ server: { middlewareMode: true } })
    app.use(devServer.middlewares)
    build = () => devServer.ssrLoadModule('virtual:remix/server-build') as Promise<ServerBuild>
    closeVite = () => devServer.close()
  } else if (opts.build) {
    const given = opts.build
    build = async () => given
  } else {
    const serverBuild = path.join(root, 'build/server/index.js')
    const assets = path.join(root, 'build/client/assets')
    app.use('/assets', precompressed(assets), express.static(assets, { immutable: true, maxAge: '1y' }))
    app.use(precompressed(path.join(root, 'build/client')), express.static(path.join(root, 'build/client'), { maxAge: '1h' }))
    const loaded = (await import(serverBuild)) as ServerBuild
    build = async () => loaded
  }
  // Pages, data and the CSV reports: compressed as they stream (brotli at quality 4 when accepted, else gzip).
  // Images are already compressed; the default filter leaves them alone.
  app.use(compression({ threshold: 1024 }))
  app.all('*', remixHandler({ build, mode: opts.dev ? 'development' : 'production' }))

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, host, () => resolve(s))
    s.on('error', reject)
  })
  const address = server.address()
  const actualPort = typeof address === 'object' && address ? address.port : port
  self = new URL(`http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`)
  return {
    url: self.origin,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await closeVite()
    },
  }
}
