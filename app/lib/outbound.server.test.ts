import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertPublicUrl,
  BlockedAddressError,
  blockedRange,
  embeddedIPv4,
  guardedFetch,
  outboundGuard,
  type LookupFunction,
} from './outbound.server.ts'

interface Listening {
  server: Server
  port: number
  seen: { url: string; headers: IncomingHttpHeaders }[]
}

async function listen(answer: (url: string) => { status: number; location?: string }): Promise<Listening> {
  const seen: Listening['seen'] = []
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers })
    const { status, location } = answer(req.url ?? '')
    res.writeHead(status, location ? { location } : { 'content-type': 'text/plain' })
    res.end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, seen }
}

/** The cause a refused fetch carries (fetch wraps connection errors in TypeError('fetch failed')). */
async function refusal(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, 'the request went through').toBeDefined()
  let e = error
  while (e && !(e instanceof BlockedAddressError) && (e as Error).cause) e = (e as Error).cause
  return e
}

/** A resolver that answers each name from a script, one answer per call (the last one repeats). */
function scriptedLookup(answers: string[]): LookupFunction & { calls: number } {
  const fn = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const address = answers[Math.min(fn.calls++, answers.length - 1)]
    const family = address.includes(':') ? 6 : 4
    if (options.all) callback(null, [{ address, family }])
    else callback(null, address, family)
  }) as unknown as LookupFunction & { calls: number }
  fn.calls = 0
  return fn
}

describe('blockedRange: every IANA special-purpose block', () => {
  const blocked: [string, RegExp][] = [
    ['0.0.0.0', /this network/],
    ['0.255.255.255', /this network/],
    ['10.1.2.3', /private/],
    ['100.64.0.1', /shared/],
    ['100.127.255.254', /shared/],
    ['127.0.0.1', /loopback/],
    ['127.255.255.255', /loopback/],
    ['169.254.169.254', /link-local/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.0.0.9', /IETF/],
    ['192.0.0.170', /IETF/],
    ['192.0.2.1', /documentation/],
    ['192.31.196.1', /AS112/],
    ['192.52.193.1', /AMT/],
    ['192.88.99.1', /6to4 relay/],
    ['192.168.1.1', /private/],
    ['192.175.48.1', /AS112/],
    ['198.18.0.1', /benchmarking/],
    ['198.19.255.255', /benchmarking/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.9', /documentation/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['240.0.0.1', /reserved/],
    ['255.255.255.254', /reserved/],
    ['255.255.255.255', /broadcast|reserved/],
    ['::', /reserved/],
    ['::1', /reserved/],
    ['64:ff9b::808:808', /NAT64/],
    ['64:ff9b:1::1', /NAT64/],
    ['100::1', /discard/],
    ['100:0:0:1::1', /dummy/],
    ['2001::1', /IETF/],
    ['2001:2::1', /IETF/],
    ['2001:10::1', /IETF/],
    ['2001:1ff:ffff::1', /IETF/],
    ['2001:db8::1', /documentation/],
    ['2002:808:808::1', /6to4/],
    ['2620:4f:8000::1', /AS112/],
    ['3fff::1', /documentation/],
    ['3fff:fff::1', /documentation/],
    ['5f00::1', /segment routing/],
    ['fc00::1', /unique local/],
    ['fd12:3456::1', /unique local/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['febf::1', /link-local/],
    ['fec0::1', /site-local/],
    ['ff02::1', /multicast/],
    ['4000::1', /not global unicast/],
    ['not-an-ip', /not an IP/],
  ]
  it.each(blocked)('%s is blocked (%s)', (address, why) => {
    expect(blockedRange(address)).toMatch(why)
  })

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '172.32.0.1',
    '100.128.0.1',
    '192.0.3.1',
    '2606:4700:4700::1111',
    '2a00:1450::1',
    '2001:200::1',
    '2001:4860::8888',
  ])('%s is public', (address) => {
    expect(blockedRange(address)).toBeNull()
  })

  it('decodes the IPv4 inside mapped, compatible, translated, NAT64 and 6to4 forms and names its block', () => {
    const forms: [string, string, RegExp][] = [
      ['::ffff:127.0.0.1', '127.0.0.1', /loopback/],
      ['::ffff:7f00:1', '127.0.0.1', /loopback/],
      ['0:0:0:0:0:ffff:a9fe:a9fe', '169.254.169.254', /link-local/],
      ['::127.0.0.1', '127.0.0.1', /loopback/],
      ['::a00:1', '10.0.0.1', /private/],
      ['::ffff:0:7f00:1', '127.0.0.1', /loopback/],
      ['64:ff9b::127.0.0.1', '127.0.0.1', /loopback/],
      ['64:ff9b::a9fe:a9fe', '169.254.169.254', /link-local/],
      ['2002:7f00:1::', '127.0.0.1', /loopback/],
      ['2002:c0a8:101::1', '192.168.1.1', /private/],
    ]
    for (const [address, inner, why] of forms) {
      expect(embeddedIPv4(address), address).toBe(inner)
      expect(blockedRange(address), address).toMatch(why)
    }
    // Even a public IPv4 in these forms is refused: the wrapper block is special-purpose itself.
    for (const address of ['::ffff:8.8.8.8', '::8.8.8.8', '64:ff9b::8.8.8.8', '2002:808:808::']) {
      expect(embeddedIPv4(address)).toBe('8.8.8.8')
      expect(blockedRange(address), address).not.toBeNull()
    }
  })
})

describe('outboundGuard at connect time', () => {
  let target: Listening
  let hop: Listening
  const guards: { close(): Promise<void> }[] = []
  const guard = (...args: Parameters<typeof outboundGuard>) => {
    const g = outboundGuard(...args)
    guards.push(g)
    return g
  }

  beforeAll(async () => {
    target = await listen(() => ({ status: 200 }))
    hop = await listen((url) => ({ status: 302, location: decodeURIComponent(url.slice(1)) }))
  })
  afterAll(async () => {
    await Promise.all(guards.map((g) => g.close()))
    await Promise.all([target, hop].map((l) => new Promise((resolve) => l.server.close(resolve))))
  })

  it('refuses a name that resolves public for the check and to 127.0.0.1 for the connection', async () => {
    const lookup = scriptedLookup(['93.184.215.14', '127.0.0.1'])
    const url = `http://rebind.example:${target.port}/system_stats`
    // The save-time check sees the public answer and lets the URL through ...
    await expect(assertPublicUrl(url, lookup)).resolves.toBeUndefined()
    // ... the connection resolves again, gets loopback, and never opens.
    const init = { headers: { authorization: 'Bearer shop-secret' } }
    const e = await refusal(guardedFetch(url, init, guard({ lookup })))
    expect(e).toBeInstanceOf(BlockedAddressError)
    expect((e as BlockedAddressError).address).toBe('127.0.0.1')
    expect(lookup.calls).toBe(2)
    expect(target.seen).toEqual([])
  })

  it('refuses an answer that mixes a public and a private address', async () => {
    const mixed = ((_h: string, _o: unknown, cb: (...a: unknown[]) => void) =>
      cb(null, [
        { address: '93.184.215.14', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ])) as unknown as LookupFunction
    const e = await refusal(guardedFetch(`http://mixed.example:${target.port}/`, {}, guard({ lookup: mixed })))
    expect((e as BlockedAddressError).address).toBe('10.0.0.7')
  })

  it('does not follow a 302 to loopback (by address or by name)', async () => {
    // The redirecting server is on loopback too: allowed by origin, as an operator's own service would be.
    const g = guard({ allow: [`http://127.0.0.1:${hop.port}`] })
    for (const to of [
      `http://127.0.0.1:${target.port}/`,
      `http://localhost:${target.port}/`,
      `http://[::ffff:127.0.0.1]:${target.port}/`,
    ]) {
      const e = await refusal(guardedFetch(`http://127.0.0.1:${hop.port}/${encodeURIComponent(to)}`, {}, g))
      expect(e, to).toBeInstanceOf(BlockedAddressError)
    }
    expect(hop.seen).toHaveLength(3)
    expect(target.seen).toEqual([])
  })

  it('follows a redirect between allowed origins, without the Authorization header across origins, at most 5 hops', async () => {
    const g = guard({ allow: [`http://127.0.0.1:${hop.port}`, `http://127.0.0.1:${target.port}`] })
    const to = `http://127.0.0.1:${target.port}/landed`
    const res = await guardedFetch(
      `http://127.0.0.1:${hop.port}/${encodeURIComponent(to)}`,
      { headers: { authorization: 'Bearer x' } },
      g,
    )
    expect(res.status).toBe(200)
    expect(target.seen.at(-1)).toMatchObject({ url: '/landed' })
    expect(target.seen.at(-1)!.headers.authorization).toBeUndefined()

    const self = (n: number): string => (n === 0 ? to : `http://127.0.0.1:${hop.port}/${encodeURIComponent(self(n - 1))}`)
    await expect(guardedFetch(self(7), {}, g)).rejects.toThrow(/fetch failed/)
  })

  it('opens a fresh connection pool after close(), for clients that keep the guard', async () => {
    const g = guard({ allow: [`http://127.0.0.1:${target.port}`] })
    expect((await guardedFetch(`http://127.0.0.1:${target.port}/one`, {}, g)).status).toBe(200)
    await g.close()
    expect((await guardedFetch(`http://127.0.0.1:${target.port}/two`, {}, g)).status).toBe(200)
  })

  // The literal forms a prober tried: each names loopback, a private or a metadata address.
  const literals = [
    'http://127.0.0.1:PORT/',
    'http://127.1:PORT/',
    'http://127.0.1:PORT/',
    'http://0x7f000001:PORT/',
    'http://0x7f.0x0.0x0.0x1:PORT/',
    'http://2130706433:PORT/',
    'http://017700000001:PORT/',
    'http://0177.0.0.01:PORT/',
    'http://127.0.0.1.:PORT/',
    'http://0:PORT/',
    'http://0.0.0.0:PORT/',
    'http://[::1]:PORT/',
    'http://[::]:PORT/',
    'http://[0:0:0:0:0:0:0:1]:PORT/',
    'http://[::ffff:127.0.0.1]:PORT/',
    'http://[::ffff:7f00:1]:PORT/',
    'http://[::127.0.0.1]:PORT/',
    'http://[64:ff9b::127.0.0.1]:PORT/',
    'http://[2002:7f00:1::]:PORT/',
    'http://localhost:PORT/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://10.0.0.1:PORT/',
    'http://100.100.100.200/latest/meta-data/',
  ]
  it.each(literals)('refuses %s before any byte is sent', async (form) => {
    const before = target.seen.length
    const e = await refusal(guardedFetch(form.replace('PORT', String(target.port)), {}, guard()))
    expect(e).toBeInstanceOf(BlockedAddressError)
    expect(target.seen).toHaveLength(before)
  })
})
