import type { Request as ExpressRequest, Response as ExpressResponse } from 'express'
import { errorCodes, type ErrorCode } from './errors.ts'
import { detectLocale, translator, type Vars } from './i18n.ts'

/** The locale of a request that never reached Remix: ?lang=, the cookie, then Accept-Language. */
function localeOf(req: ExpressRequest) {
  const headers = new Headers()
  for (const name of ['cookie', 'accept-language']) {
    const value = req.headers[name]
    if (typeof value === 'string') headers.set(name, value)
  }
  return detectLocale(new Request(new URL(req.originalUrl, 'http://edge.invalid'), { headers }))
}

/**
 * Answers a request at the edge, before any route runs, in the one JSON shape
 * the UI understands. why close: the body was not read, and reading it only to
 * keep the connection alive would be the very cost being refused.
 */
export function refuse(req: ExpressRequest, res: ExpressResponse, code: ErrorCode, vars?: Vars): void {
  if (res.headersSent) return
  const message = translator(localeOf(req))(`errors.${code}`, vars)
  if (!req.complete) res.setHeader('connection', 'close')
  res.status(errorCodes[code]).json({ ok: false, error: { code, message } })
}
