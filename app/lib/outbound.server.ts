import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import { Agent, buildConnector, type Dispatcher } from 'undici'
import { AppError } from './errors.ts'

// One guard for every outbound request a shop can steer (its GPU server's
// URL, a URL a vendor's API hands back): the address is checked when the
// socket connects, after DNS, so a name that resolves to a public address
// for one look and to 127.0.0.1 for the next still never reaches loopback;
// and every redirect hop connects through the same check.

type Range = readonly [name: string, network: bigint, prefix: number]

const v4 = (dotted: string): bigint => dotted.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n)

/** IANA IPv4 Special-Purpose Address Registry (2025), plus multicast (224/4). */
const IPV4_RANGES: Range[] = (
  [
    ['this network', '0.0.0.0', 8],
    ['private-use', '10.0.0.0', 8],
    ['shared address space (carrier-grade NAT)', '100.64.0.0', 10],
    ['loopback', '127.0.0.0', 8],
    ['link-local (cloud metadata)', '169.254.0.0', 16],
    ['private-use', '172.16.0.0', 12],
    ['IETF protocol assignments', '192.0.0.0', 24],
    ['documentation (TEST-NET-1)', '192.0.2.0', 24],
    ['AS112-v4', '192.31.196.0', 24],
    ['AMT', '192.52.193.0', 24],
    ['6to4 relay anycast', '192.88.99.0', 24],
    ['private-use', '192.168.0.0', 16],
    ['direct delegation AS112', '192.175.48.0', 24],
    ['benchmarking', '198.18.0.0', 15],
    ['documentation (TEST-NET-2)', '198.51.100.0', 24],
    ['documentation (TEST-NET-3)', '203.0.113.0', 24],
    ['multicast', '224.0.0.0', 4],
    ['reserved', '240.0.0.0', 4],
    ['limited broadcast', '255.255.255.255', 32],
  ] as const
).map(([name, net, prefix]) => [name, v4(net), prefix] as const)

/**
 * IANA IPv6 Special-Purpose Address Registry (2025), plus multicast, the
 * deprecated site-local block, and all of ::/8 (loopback, unspecified,
 * IPv4-mapped, -compatible and -translated forms live there, nothing public).
 */
const IPV6_RANGES: Range[] = (
  [
    ['reserved (loopback, unspecified, IPv4-mapped or -compatible)', '::', 8],
    ['NAT64 (well-known prefix)', '64:ff9b::', 96],
    ['NAT64 (local-use prefix)', '64:ff9b:1::', 48],
    ['discard-only and dummy prefixes', '100::', 63],
    ['IETF protocol assignments (Teredo, benchmarking, ORCHID…)', '2001::', 23],
    ['documentation', '2001:db8::', 32],
    ['6to4', '2002::', 16],
    ['direct delegation AS112', '2620:4f:8000::', 48],
    ['documentation', '3fff::', 20],
    ['segment routing (SRv6 SIDs)', '5f00::', 16],
    ['unique local', 'fc00::', 7],
    ['link-local', 'fe80::', 10],
    ['site-local (deprecated)', 'fec0::', 10],
    ['multicast', 'ff00::', 8],
  ] as const
).map(([name, net, prefix]) => [name, v6(net), prefix] as const)

function v6(address: string): bigint {
  let text = address.split('%')[0]
  // A trailing dotted quad (::ffff:1.2.3.4) is the last two groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1]
  if (quad) {
    const n = v4(quad)
    text = `${text.slice(0, -quad.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined]
  const groups = (s: string | undefined) => (s ? s.split(':') : [])
  const left = groups(head)
  const right = groups(tail)
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n)
}

const inRange = (value: bigint, bits: number, [, network, prefix]: Range) =>
  value >> BigInt(bits - prefix) === network >> BigInt(bits - prefix)

// why longest prefix first: NAT64's 64:ff9b::/96 sits inside ::/8 and must be named for what it is.
IPV4_RANGES.sort((a, b) => b[2] - a[2])
IPV6_RANGES.sort((a, b) => b[2] - a[2])

const quadOf = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.')

/** The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4), or null. */
export function embeddedIPv4(address: string): string | null {
  if (isIP(address.split('%')[0]) !== 6) return null
  const n = v6(address)
  const low32 = n & 0xffffffffn
  if (n >> 32n === 0xffffn || (n >> 32n === 0n && n > 1n)) return quadOf(low32) // ::ffff:a.b.c.d, ::a.b.c.d
  if (n >> 32n === 0xffff0000n) return quadOf(low32) // ::ffff:0:a.b.c.d (IPv4-translated)
  if (n >> 32n === v6('64:ff9b::') >> 32n || n >> 80n === v6('64:ff9b:1::') >> 80n) return quadOf(low32)
  if (n >> 112n === 0x2002n) return quadOf((n >> 80n) & 0xffffffffn) // 2002:aabb:ccdd::
  return null
}

/**
 * Why an address must not be reached from here (the special-purpose block it
 * falls in), or null for an ordinary public address. Not an IP: blocked.
 */
export function blockedRange(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, '')
  const family = isIP(bare.split('%')[0])
  if (family === 4) return IPV4_RANGES.find((r) => inRange(v4(bare), 32, r))?.[0] ?? null
  if (family !== 6) return 'not an IP address'
  const inner = embeddedIPv4(bare)
  if (inner) {
    const innerRange = blockedRange(inner)
    const outer = IPV6_RANGES.find((r) => inRange(v6(bare), 128, r))?.[0]
    return innerRange ? `${innerRange}, inside ${outer ?? 'IPv6'}` : (outer ?? null)
  }
  const n = v6(bare)
  const special = IPV6_RANGES.find((r) => inRange(n, 128, r))?.[0]
  if (special) return special
  // why: outside 2000::/3 nothing is assigned for global unicast.
  return n >> 125n === 1n ? null : 'not global unicast (outside 2000::/3)'
}

/** A connection the guard refused; `code` lets callers tell it from network failures. */
export class BlockedAddressError extends Error {
  readonly code = 'ERR_OUTBOUND_BLOCKED'
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(`${host} resolves to ${address} (${range}); requests from here never go to private or special addresses`)
    this.name = 'BlockedAddressError'
  }
}

export interface OutboundGuardOptions {
  /** DNS lookup (default node:dns lookup); tests pass their own resolver. */
  lookup?: LookupFunction
  /**
   * Origins reached whatever their address: a service the operator configured
   * on their own network (a local WeShop or Shopify fake). Matched by host and port.
   */
  allow?: readonly string[]
  connectTimeoutMs?: number
}

export interface OutboundGuard {
  readonly dispatcher: Dispatcher
  close(): Promise<void>
}

const defaultPort = (protocol: string) => (protocol === 'https:' || protocol === 'wss:' ? '443' : '80')
const hostKey = (hostname: string, port: string, protocol: string) =>
  `${hostname.replace(/^\[|\]$/g, '').toLowerCase()}:${port || defaultPort(protocol)}`

/** A lookup that answers only with public addresses; any blocked one fails the whole answer. */
export function checkingLookup(lookup: LookupFunction = dnsLookup as LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, options, (error, address, family) => {
      if (error) return callback(error, address, family)
      const list: LookupAddress[] = Array.isArray(address) ? address : [{ address, family: family ?? 4 }]
      for (const a of list) {
        const range = blockedRange(a.address)
        if (range) return callback(new BlockedAddressError(hostname, a.address, range) as NodeJS.ErrnoException, '', 0)
      }
      if (list.length === 0)
        return callback(new BlockedAddressError(hostname, 'no address', 'empty answer') as NodeJS.ErrnoException, '', 0)
      callback(null, address, family)
    })
  }
}

/** An undici dispatcher whose every connection (every redirect hop too) goes only to public addresses. */
export function outboundGuard(options: OutboundGuardOptions = {}): OutboundGuard {
  const allowed = new Set(
    (options.allow ?? []).map((origin) => {
      const u = new URL(origin)
      return hostKey(u.hostname, u.port, u.protocol)
    }),
  )
  const timeout = options.connectTimeoutMs ?? 10_000
  const checked = buildConnector({ timeout, lookup: checkingLookup(options.lookup) })
  const open = buildConnector({ timeout, ...(options.lookup ? { lookup: options.lookup } : {}) })
  const connect: buildConnector.connector = (opts, callback) => {
    const protocol = opts.protocol ?? 'http:'
    if (allowed.has(hostKey(opts.hostname, opts.port ?? '', protocol))) return open(opts, callback)
    // why here too: net.connect skips the lookup for a literal address.
    if (isIP(opts.hostname)) {
      const range = blockedRange(opts.hostname)
      if (range) {
        callback(new BlockedAddressError(opts.hostname, opts.hostname, range), null)
        return
      }
    }
    return checked(opts, callback)
  }
  // why a fresh agent after close(): clients keep the guard, and a closed one must not fail them for good.
  let agent: Agent | undefined
  return {
    get dispatcher() {
      agent ??= new Agent({ connect })
      return agent
    },
    async close() {
      const closing = agent
      agent = undefined
      await closing?.close()
    },
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 5

/**
 * fetch through a guard, following at most five redirects by hand: each hop
 * connects through the guard, leaves http(s) never, and carries no
 * Authorization or Cookie to another origin.
 */
export async function guardedFetch(input: string | URL, init: RequestInit, guard: OutboundGuard): Promise<Response> {
  let url = new URL(input)
  let method = (init.method ?? 'GET').toUpperCase()
  let body = init.body
  const headers = new Headers(init.headers)
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`fetch failed`, { cause: new Error(`refused to follow a redirect to ${url.protocol} URL`) })
    }
    // why the cast: the DOM RequestInit does not know undici's dispatcher.
    const response = await fetch(url, {
      ...init,
      method,
      body,
      headers,
      redirect: 'manual',
      dispatcher: guard.dispatcher,
    } as RequestInit)
    const location = response.headers.get('location')
    if (!REDIRECTS.has(response.status) || !location || init.redirect === 'manual') return response
    if (init.redirect === 'error') {
      await response.body?.cancel()
      throw new TypeError('fetch failed', { cause: new Error(`redirected (${response.status}) where no redirect is expected`) })
    }
    await response.body?.cancel()
    if (hop >= MAX_REDIRECTS) throw new TypeError('fetch failed', { cause: new Error(`more than ${MAX_REDIRECTS} redirects`) })
    const next = new URL(location, url)
    if (next.origin !== url.origin) {
      headers.delete('authorization')
      headers.delete('cookie')
    }
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
      if (method !== 'HEAD') method = 'GET'
      body = undefined
      headers.delete('content-type')
      headers.delete('content-length')
    }
    url = next
  }
}

/**
 * The early, friendly form of the same rule for a URL a person typed: its
 * name must resolve, and only to public addresses. The guard still checks
 * at connect time; this only says so before anything is saved.
 */
export async function assertPublicUrl(url: string, lookup: LookupFunction = dnsLookup as LookupFunction): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  const addresses = isIP(host)
    ? [host]
    : await new Promise<string[]>((resolve, reject) =>
        lookup(host, { all: true } satisfies LookupAllOptions, (error, list) =>
          error ? reject(error) : resolve((list as unknown as LookupAddress[]).map((a) => a.address)),
        ),
      )
  if (addresses.length === 0) throw new BlockedAddressError(host, 'no address', 'empty answer')
  for (const address of addresses) {
    const range = blockedRange(address)
    if (range) throw new BlockedAddressError(host, address, range)
  }
}

export type { LookupFunction, LookupOneOptions }

/** The fetch a client uses: through the guard when it has one, else the plain global fetch. */
export function fetchVia(guard: OutboundGuard | undefined): (url: string | URL, init?: RequestInit) => Promise<Response> {
  return guard ? (url, init = {}) => guardedFetch(url, init, guard) : (url, init) => fetch(url, init)
}

const shared = new Map<string, OutboundGuard>()

/** One guard per allow list for the whole process (its connection pool is reused). */
export function sharedGuard(allow: readonly string[] = []): OutboundGuard {
  const key = [...allow].sort().join(' ')
  let guard = shared.get(key)
  if (!guard) shared.set(key, (guard = outboundGuard({ allow })))
  return guard
}

/** Closes the shared guards' connections (shutdown): an idle keep-alive socket would hold the process for seconds. */
export async function closeSharedGuards(): Promise<void> {
  const open = [...shared.values()]
  shared.clear()
  await Promise.all(open.map((g) => g.close()))
}

/** The refusal somewhere in an error's cause chain (fetch wraps it in TypeError('fetch failed')). */
export function blockedBy(error: unknown): BlockedAddressError | undefined {
  for (let e = error, depth = 0; e && depth < 8; e = (e as Error).cause, depth++) {
    if (e instanceof BlockedAddressError) return e
  }
  return undefined
}

/** The first network error code in a cause chain (ECONNREFUSED, ENOTFOUND, a TLS code, ERR_OUTBOUND_BLOCKED…). */
export function networkCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 8; e = (e as Error).cause, depth++) {
    const code = (e as { code?: unknown }).code
    // why skip AppError: its code is ours (BACKEND_UNAVAILABLE), the network's is in its cause.
    if (typeof code === 'string' && !(e instanceof AppError)) return code
  }
  return undefined
}

/** A response body read whole, refused (IMAGE_TOO_LARGE) as soon as it passes `limit` bytes. */
export async function readLimited(body: ReadableStream<Uint8Array>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw new AppError('IMAGE_TOO_LARGE', `The image is larger than the ${limit}-byte limit`)
    }
    chunks.push(Buffer.from(value))
  }
  return Buffer.concat(chunks)
}
