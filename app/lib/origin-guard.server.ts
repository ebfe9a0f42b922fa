import type { Request as ExpressRequest, RequestHandler } from 'express'
import { refuse } from './refuse.server.ts'

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]'])
const SAFE_METHODS = new Set(['GET', 'HEAD'])

/** Splits a Host header ("localhost:3000", "[::1]:3000") into a lower-case name and a port (80 when absent). */
function parseHost(value: string | undefined): { name: string; port: number } | null {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(value ?? '')
  return m ? { name: m[1].toLowerCase(), port: m[2] ? Number(m[2]) : 80 } : null
}

/**
 * Local mode has no login, so only this machine may talk to it: a Host that
 * is not a loopback name on our own port is a DNS-rebinding page (421).
 */
export function loopbackHostOnly(self: () => URL): RequestHandler {
  return (req, res, next) => {
    const host = parseHost(req.headers.host)
    if (host && LOOPBACK_NAMES.has(host.name) && host.port === Number(self().port || 80)) return next()
    refuse(req, res, 'HOST_NOT_ALLOWED', { url: self().origin })
  }
}

/** Same origin as the Host the request was sent to: scheme, name and port. */
function sameOriginAsHost(req: ExpressRequest, origin: string): boolean {
  const host = parseHost(req.headers.host)
  if (!host || origin === 'null') return false
  try {
    const o = new URL(origin)
    return o.protocol === 'http:' && `${o.hostname.toLowerCase()}:${o.port || 80}` === `${host.name}:${host.port}`
  } catch {
    return false
  }
}

/**
 * Local and Taobao mode: every request that can change something must come
 * from the app's own pages: a same-origin Origin (the public origin when one
 * is configured), or (no Origin) Sec-Fetch-Site: same-origin. A form or
 * fetch from any other site gets 403.
 */
export function sameOriginWritesOnly(publicOrigin?: string): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method)) return next()
    const origin = req.headers.origin
    // why a configured origin when there is one: behind a TLS proxy the Host is ours but the scheme is https.
    const ours = (o: string) => (publicOrigin ? o === publicOrigin : sameOriginAsHost(req, o))
    const fromOurPage = origin === undefined ? req.headers['sec-fetch-site'] === 'same-origin' : ours(origin)
    if (fromOurPage) return next()
    refuse(req, res, 'ORIGIN_REFUSED')
  }
}

/** Resource routes called from another origin on purpose: the admin's extensions, with a session token. */
const CROSS_ORIGIN_ROUTES = [/^\/api\/renders$/]

/** Origin's host as Remix reads it ("null" stays "null", so it never matches). */
function originHost(origin: string): string | null {
  if (origin === 'null') return origin
  try {
    return new URL(origin).host
  } catch {
    return null
  }
}

/**
 * Remix refuses a page action whose Origin names another host than the one
 * the request went to (X-Forwarded-Host, else Host), in
 * throwIfPotentialCSRFAttack, but answers with a bare 500. The same rule,
 * applied first, answers 403. Remix exempts resource routes, and so do we
 * for the one that serves other origins.
 */
export function foreignOriginActionsRefused(): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method) || req.method === 'OPTIONS') return next()
    if (CROSS_ORIGIN_ROUTES.some((r) => r.test(req.path))) return next()
    const origin = req.headers.origin
    if (!origin) return next()
    const target = req.get('x-forwarded-host')?.split(',')[0]?.trim() || req.headers.host
    if (originHost(origin) === target) return next()
    refuse(req, res, 'ORIGIN_REFUSED')
  }
}
