// A Taobao fake that speaks the real contract: the TOP gateway (signatures in
// all three methods, the GMT+8 timestamp window, error envelopes, call limit
// and bans, injected isp faults), items and the image space with Taobao's
// limits, OAuth with per-level expiries, and image bytes over HTTP. Start one
// per test file on port 0.
import type { AddressInfo } from 'node:net'
import { issueToken } from './oauth.ts'
import { createHttpServer } from './server.ts'
import { addItem, addSeller, createRuntime, sellerState, type Runtime } from './store.ts'
import type {
  CallLimit,
  Fault,
  FakeSellerState,
  FakeStats,
  ItemSeed,
  SellerSeed,
  TaobaoFakeApp,
  TaobaoFakeOptions,
  TokenSet,
} from './types.ts'

export type * from './types.ts'
export { seedCatalogSeller, catalogItems } from './seed.ts'

export const FAKE_APP: TaobaoFakeApp = { appKey: 'fake-app-key', appSecret: 'fake-app-secret' }

export interface TaobaoFake {
  /** The origin, e.g. http://127.0.0.1:PORT. */
  url: string
  /** TAOBAO_GATEWAY_URL: `${url}/router/rest`. */
  gatewayUrl: string
  /** TAOBAO_OAUTH_URL: `${url}` (/authorize and /token hang off it). */
  oauthUrl: string
  apps: TaobaoFakeApp[]
  addSeller(seed: SellerSeed): void
  addItem(userId: string, seed: ItemSeed): number
  state(userId: string): FakeSellerState
  stats(): FakeStats
  /** A grant without the browser round trip (as /token would give it). */
  issueToken(userId: string, appKey?: string): TokenSet
  /** The session answers 27 from now on. */
  expireToken(accessToken: string): void
  /** Moves the fake's clock (token and code expiry, `modified` of writes); the timestamp check stays on real time. */
  advanceClock(ms: number): void
  setCallLimit(limit: CallLimit | null): void
  /** The next `fault.times` calls (of `fault.method`, or any) answer this error. */
  injectFault(fault: Fault): void
  /** Which seller /authorize logs in by default. */
  loginAs(userId: string): void
  close(): Promise<void>
}

export async function startTaobaoFake(opts: TaobaoFakeOptions = {}): Promise<TaobaoFake> {
  const apps = opts.apps ?? [FAKE_APP]
  const rt: Runtime = createRuntime({
    apps,
    lifetimes: opts.tokenLifetimes,
    loginAs: opts.loginAs,
    autoApprove: opts.autoApprove,
    callLimit: opts.callLimit,
    maxPictureBytes: opts.maxPictureBytes,
  })
  const server = createHttpServer(rt)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  rt.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  for (const seed of opts.sellers ?? []) addSeller(rt, seed)

  const sellerOf = (userId: string) => {
    const seller = rt.sellers.get(userId)
    if (!seller) throw new Error(`Unknown seller ${userId}: add it with addSeller() first`)
    return seller
  }
  return {
    url: rt.origin,
    gatewayUrl: `${rt.origin}/router/rest`,
    oauthUrl: rt.origin,
    apps,
    addSeller: (seed) => void addSeller(rt, seed),
    addItem: (userId, seed) => addItem(rt, sellerOf(userId), seed).num_iid,
    state: (userId) => sellerState(rt, sellerOf(userId)),
    stats: () => ({ ...rt.stats, byMethod: { ...rt.stats.byMethod }, errors: { ...rt.stats.errors }, log: [...rt.stats.log] }),
    issueToken(userId, appKey = apps[0].appKey) {
      sellerOf(userId)
      const t = issueToken(rt, appKey, userId)
      return { access_token: t.accessToken, refresh_token: t.refreshToken, taobao_user_id: userId }
    },
    expireToken(accessToken) {
      const t = rt.tokens.get(accessToken)
      if (t) t.expiresAt = rt.now()
    },
    advanceClock(ms) {
      rt.clockOffsetMs += ms
    },
    setCallLimit(limit) {
      rt.callLimit = limit
      rt.windows.clear()
      rt.bannedUntil.clear()
    },
    injectFault(fault) {
      rt.faults.push({ ...fault })
    },
    loginAs(userId) {
      rt.loginAs = userId
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
