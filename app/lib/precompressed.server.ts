// Serves the brotli or gzip copy the build wrote beside a static text asset
// (scripts/vite/precompress.ts) to a browser that accepts it; the static
// handler after it then sends that file. Dynamic responses are compressed by
// the `compression` middleware instead (server.server.ts).
import type { RequestHandler } from 'express'
import { existsSync } from 'node:fs'
import path from 'node:path'

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
}

/** The codings an Accept-Encoding header accepts (q > 0), lower-cased. */
export function acceptedEncodings(header: string | undefined): Set<string> {
  const out = new Set<string>()
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';')
    if (!name) continue
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    if (q === undefined || Number(q.slice(2)) > 0) out.add(name)
  }
  return out
}

export function precompressed(root: string): RequestHandler {
  // why cached: the build's files do not change while the server runs.
  const have = new Map<string, boolean>()
  const exists = (file: string) => {
    let yes = have.get(file)
    if (yes === undefined) have.set(file, (yes = existsSync(file)))
    return yes
  }
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next()
    const type = TYPES[path.extname(req.path)]
    if (!type) return next()
    const file = path.join(root, path.normalize(decodeURIComponent(req.path)))
    if (!file.startsWith(root + path.sep)) return next()
    res.setHeader('Vary', 'Accept-Encoding')
    const accepted = acceptedEncodings(req.headers['accept-encoding'])
    const pick =
      accepted.has('br') && exists(`${file}.br`) ? 'br' : accepted.has('gzip') && exists(`${file}.gz`) ? 'gz' : undefined
    if (!pick) return next()
    res.setHeader('Content-Encoding', pick === 'br' ? 'br' : 'gzip')
    // why set here: the static handler would name the type after the .br/.gz file.
    res.setHeader('Content-Type', type)
    const [pathname, query] = req.url.split('?')
    req.url = `${pathname}.${pick}${query === undefined ? '' : `?${query}`}`
    next()
  }
}
