// Helpers for the fake's own tests: an HTTP client that talks to it the way
// the app does, real images, signed id tokens and a webhook receiver.
import { createHmac } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import sharp from 'sharp'
import { startShopifyAdminFake, type FakeShopSeed, type ShopifyAdminFake, type ShopifyAdminFakeOptions } from './index.ts'

export const API_KEY = 'test-api-key'
export const API_SECRET = 'test-api-secret-0123456789'
export const API_VERSION = '2026-10'
export const SHOP = 'atelier-a.myshopify.com'

export async function jpeg(width = 64, height = 48, color = { r: 200, g: 40, b: 40 }): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: color } })
    .jpeg()
    .toBuffer()
}

export async function catalogSeed(): Promise<FakeShopSeed> {
  const photo = await jpeg()
  return {
    domain: SHOP,
    products: [
      {
        title: 'Sunday Graphic Tee',
        vendor: 'Northfield',
        productType: 'T-Shirts',
        tags: ['summer', 'cotton'],
        collections: ['Summer'],
        images: [{ bytes: photo, alt: 'Tee front', filename: 'tee.jpg' }],
      },
      {
        title: 'Silk Slip Dress',
        vendor: 'Maison Lune',
        productType: 'Dresses',
        tags: ['silk'],
        collections: ['Summer', 'Evening'],
        images: [{ bytes: photo, alt: 'Dress', filename: 'dress.jpg' }],
      },
      {
        title: 'Wool Overcoat',
        vendor: 'Northfield',
        productType: 'Coats',
        status: 'DRAFT',
        tags: ['winter'],
        images: [{ bytes: photo, filename: 'coat.jpg' }],
      },
      { title: 'Linen Shirt', vendor: 'Northfield', productType: 'T-Shirts', status: 'ARCHIVED', tags: ['summer'], images: [] },
      {
        title: 'Canvas Tote',
        vendor: 'Atelier Goods',
        productType: 'Bags',
        tags: ['cotton'],
        collections: ['Evening'],
        images: [
          { bytes: photo, filename: 'tote.jpg' },
          { bytes: photo, filename: 'tote-2.jpg' },
        ],
      },
    ],
  }
}

export async function startFake(overrides: Partial<ShopifyAdminFakeOptions> = {}): Promise<ShopifyAdminFake> {
  return startShopifyAdminFake({
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    apiVersion: API_VERSION,
    shops: [await catalogSeed()],
    ...overrides,
  })
}

export interface GqlResponse<T = Record<string, unknown>> {
  status: number
  headers: Headers
  body: {
    data?: T
    errors?: { message: string; locations?: unknown[]; path?: unknown[]; extensions?: Record<string, unknown> }[] | string
    extensions?: {
      cost?: {
        requestedQueryCost: number
        actualQueryCost: number | null
        throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number }
      }
      search?: unknown[]
    }
  }
}

/** A GraphQL call as @shopify/admin-api-client makes it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- why: each test asserts the response shape it reads.
export async function gql<T = Record<string, any>>(
  fake: ShopifyAdminFake,
  query: string,
  variables: Record<string, unknown> = {},
  opts: { shop?: string; token?: string | null; version?: string } = {},
): Promise<GqlResponse<T>> {
  const shop = opts.shop ?? SHOP
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' }
  const token = opts.token === undefined ? fake.accessToken(shop) : opts.token
  if (token) headers['X-Shopify-Access-Token'] = token
  const res = await fetch(`${fake.origin}/${shop}/admin/api/${opts.version ?? API_VERSION}/graphql.json`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  })
  return { status: res.status, headers: res.headers, body: (await res.json()) as GqlResponse<T>['body'] }
}

export function signIdToken(payload: Record<string, unknown>, secret = API_SECRET): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`
}

export function idTokenPayload(shop = SHOP, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return {
    iss: `https://${shop}/admin`,
    dest: `https://${shop}`,
    aud: API_KEY,
    sub: '42',
    exp: now + 60,
    nbf: now - 5,
    iat: now - 5,
    jti: crypto.randomUUID(),
    sid: 'session-1',
    ...overrides,
  }
}

export interface ReceivedWebhook {
  path: string
  headers: http.IncomingHttpHeaders
  rawBody: string
}

/** A stand-in for the app's webhook route: verifies the HMAC itself and answers 401 when it does not match. */
export async function startWebhookReceiver(
  secret = API_SECRET,
): Promise<{ url: string; received: ReceivedWebhook[]; close(): Promise<void> }> {
  const received: ReceivedWebhook[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8')
      received.push({ path: req.url ?? '', headers: req.headers, rawBody })
      const expected = createHmac('sha256', secret).update(rawBody, 'utf8').digest('base64')
      res.writeHead(expected === req.headers['x-shopify-hmac-sha256'] ? 200 : 401).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export async function waitFor<T>(read: () => Promise<T> | T, done: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`waitFor timed out; last value: ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
