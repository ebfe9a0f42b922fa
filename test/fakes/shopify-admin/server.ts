// HTTP routing. Everything lives under /{shop myshopify domain}/, so one
// fake serves several shops and the app only swaps SHOPIFY_ADMIN_ORIGIN:
//   POST /{shop}/admin/api/{version}/graphql.json
//   POST /{shop}/admin/oauth/access_token
//   POST|PUT /{shop}/staged/{uploadId}               staged upload target
//   GET  /{shop}/cdn/files/{name}                    product images
//   GET  /{shop}/bulk/{name}.jsonl                   bulk operation results
//   GET  /{shop}/admin/charges/…/confirm_recurring_application_charge   the merchant approves the charge
//        (…&decision=decline declines it); answers a page linking to returnUrl?charge_id=
import http from 'node:http'
import { STATUS_CODES } from 'node:http'
import { NOT_FOUND_BODY } from './errors.ts'
import { describeOperation, handleGraphql, type HttpResult } from './graphql-endpoint.ts'
import { handleAccessToken } from './oauth.ts'
import { answerConfirmation } from './resolvers/billing.ts'
import { countOperation, type Runtime } from './runtime.ts'
import { handleStagedPost, handleStagedPut } from './staged-uploads.ts'
import type { ShopRecord } from './store.ts'

const MAX_BODY_BYTES = 64 * 1024 * 1024

type Route =
  | { name: 'graphql'; version: string }
  | { name: 'access-token' }
  | { name: 'staged-upload'; uploadId: string }
  | { name: 'cdn'; file: string }
  | { name: 'bulk-result'; file: string }
  | { name: 'charge-confirmation'; chargeId: number }
  | { name: 'unknown' }

function classify(method: string, parts: string[]): Route {
  const path = parts.join('/')
  let m: RegExpExecArray | null
  if (method === 'POST' && (m = /^admin\/api\/([^/]+)\/graphql\.json$/.exec(path))) return { name: 'graphql', version: m[1] }
  if (method === 'POST' && path === 'admin/oauth/access_token') return { name: 'access-token' }
  if ((method === 'POST' || method === 'PUT') && (m = /^staged\/([^/]+)$/.exec(path)))
    return { name: 'staged-upload', uploadId: m[1] }
  if (method === 'GET' && (m = /^cdn\/files\/([^/]+)$/.exec(path))) return { name: 'cdn', file: decodeURIComponent(m[1]) }
  if (method === 'GET' && (m = /^bulk\/([^/]+)$/.exec(path))) return { name: 'bulk-result', file: decodeURIComponent(m[1]) }
  if (
    method === 'GET' &&
    (m = /^admin\/charges\/\d+\/(\d+)\/RecurringApplicationCharge\/confirm_recurring_application_charge$/.exec(path))
  ) {
    return { name: 'charge-confirmation', chargeId: Number(m[1]) }
  }
  return { name: 'unknown' }
}

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

function parseForm(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  const text = raw.toString('utf8')
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text))
  try {
    const parsed = JSON.parse(text) as unknown
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

function send(res: http.ServerResponse, result: HttpResult): void {
  const isText = typeof result.body === 'string' || Buffer.isBuffer(result.body)
  const payload = isText ? (result.body as string | Buffer) : JSON.stringify(result.body)
  res.writeHead(result.status, {
    'Content-Type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    ...result.headers,
    'Content-Length': Buffer.byteLength(payload),
  })
  res.end(payload)
}

function failureBody(status: number): unknown {
  if (status === 429)
    return { errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' }
  return { errors: STATUS_CODES[status] ?? 'Error' }
}

/** Applies setFailure(): true when this request was answered (or dropped) by the injected failure. */
function injectFailure(rt: Runtime, res: http.ServerResponse, req: http.IncomingMessage, names: string[]): boolean {
  const rule = rt.failure
  if (!rule || rule.times <= 0) return false
  if (rule.operation !== undefined && !names.includes(rule.operation)) return false
  rule.times--
  if (rule.times <= 0) rt.failure = null
  if (rule.status === undefined) {
    req.socket.destroy()
    return true
  }
  send(res, {
    status: rule.status,
    body: failureBody(rule.status),
    headers: rule.status === 429 || rule.status === 503 ? { 'Retry-After': '1.0' } : {},
  })
  return true
}

async function dispatch(
  rt: Runtime,
  shop: ShopRecord,
  route: Route,
  req: http.IncomingMessage,
  raw: Buffer,
  body: unknown,
): Promise<HttpResult> {
  switch (route.name) {
    case 'graphql':
      if (route.version !== rt.apiVersion) return { status: 404, body: NOT_FOUND_BODY }
      return handleGraphql(rt, shop, req.headers['x-shopify-access-token'] as string | undefined, body)
    case 'access-token':
      return handleAccessToken(rt, shop, parseForm(raw, req.headers['content-type']))
    case 'staged-upload': {
      const staged = shop.stagedUploads.get(route.uploadId)
      if (!staged)
        return {
          status: 404,
          body: "<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchUpload</Code><Message>No such upload target.</Message></Error>",
        }
      return req.method === 'PUT'
        ? handleStagedPut(staged, req.headers['content-type'], raw)
        : handleStagedPost(staged, req.headers['content-type'], raw)
    }
    case 'cdn': {
      const object = shop.cdn.get(route.file)
      return object
        ? {
            status: 200,
            body: object.bytes,
            headers: { 'Content-Type': object.contentType, 'Cache-Control': 'public, max-age=31536000' },
          }
        : { status: 404, body: 'Not Found' }
    }
    case 'bulk-result': {
      const file = shop.bulkResults.get(route.file)
      return file
        ? { status: 200, body: file, headers: { 'Content-Type': 'application/jsonl' } }
        : { status: 404, body: 'Not Found' }
    }
    case 'charge-confirmation': {
      const url = new URL(req.url ?? '/', 'http://fake')
      const returnUrl = answerConfirmation(rt, shop, route.chargeId, url.searchParams.get('decision') === 'decline')
      if (!returnUrl) return { status: 404, body: NOT_FOUND_BODY }
      // why 200 and not a redirect: a test that approves with fetch() must not depend on the app already serving returnUrl.
      return {
        status: 200,
        body: `<!doctype html><p>Charge answered. <a href="${returnUrl}">Return to the app</a></p>`,
        headers: { 'Content-Type': 'text/html; charset=utf-8' },
      }
    }
    default:
      return { status: 404, body: NOT_FOUND_BODY }
  }
}

export function createHttpServer(rt: Runtime): http.Server {
  return http.createServer((req, res) => {
    void (async () => {
      rt.stats.requests++
      const url = new URL(req.url ?? '/', 'http://fake')
      const [, shopDomain = '', ...parts] = url.pathname.split('/')
      const raw = req.method === 'POST' || req.method === 'PUT' ? await readBody(req) : Buffer.alloc(0)
      const route = classify(req.method ?? 'GET', parts)
      let body: unknown = null
      let names: string[] = [route.name]
      if (route.name === 'graphql') {
        body = parseForm(raw, 'application/json')
        const { operationName, rootFields } = describeOperation(body)
        names = operationName ? [operationName, ...rootFields] : rootFields
        for (const field of rootFields) countOperation(rt.stats, field)
      } else {
        countOperation(rt.stats, route.name)
      }
      if (injectFailure(rt, res, req, names)) return
      const shop = rt.shops.get(shopDomain)
      if (!shop) return send(res, { status: 404, body: NOT_FOUND_BODY })
      send(res, await dispatch(rt, shop, route, req, raw, body))
    })().catch((error: unknown) => {
      if (!res.headersSent)
        send(res, {
          status: 500,
          body: { errors: `Atelier Shopify fake failed: ${error instanceof Error ? error.message : String(error)}` },
        })
    })
  })
}
