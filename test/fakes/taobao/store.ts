import { randomBytes } from 'node:crypto'
import type {
  CallLimit,
  Fault,
  FakeSellerState,
  FakeStats,
  ItemSeed,
  SellerSeed,
  TaobaoFakeApp,
  TokenLifetimes,
} from './types.ts'

// The fake's state: apps, sellers with their items and image space, OAuth
// codes and tokens, the call limit and injected faults, on a clock tests can move.

export interface Item {
  num_iid: number
  title: string
  approve_status: 'onsale' | 'instock'
  seller_cids: number[]
  cid: number
  modified: number
  item_imgs: { id: number; path: string; position: number }[]
  prop_imgs: { id: number; path: string; position: number; properties: string }[]
  colors: string[]
}

export interface Picture {
  picture_id: number
  picture_category_id: number
  path: string
  title: string
  sizes: number
  pixel: string
  created: number
  modified: number
}

export interface PictureCategory {
  picture_category_id: number
  picture_category_name: string
  parent_id: number
  created: number
  modified: number
}

export interface Seller {
  userId: string
  nick: string
  items: Map<number, Item>
  pictures: Map<number, Picture>
  categories: Map<number, PictureCategory>
  sellerCats: { cid: number; name: string; parent_cid: number }[]
}

export interface Token {
  appKey: string
  userId: string
  accessToken: string
  refreshToken: string
  /** Deadlines in fake ms. */
  expiresAt: number
  refreshExpiresAt: number
  w1At: number
  revoked: boolean
}

export interface Runtime {
  origin: string
  apps: Map<string, TaobaoFakeApp>
  sellers: Map<string, Seller>
  /** Image bytes by path (served at /imgextra/<path>). */
  files: Map<string, { bytes: Buffer; contentType: string }>
  codes: Map<string, { appKey: string; userId: string; redirectUri: string; expiresAt: number }>
  tokens: Map<string, Token>
  refreshTokens: Map<string, Token>
  lifetimes: TokenLifetimes
  loginAs?: string
  autoApprove: boolean
  callLimit: CallLimit | null
  /** Recent call times by limit key (app key or session), and bans' ends. */
  windows: Map<string, number[]>
  bannedUntil: Map<string, number>
  faults: Fault[]
  maxPictureBytes: number
  stats: FakeStats
  /** The fake's clock (ms): real time plus what tests moved it by. */
  now(): number
  clockOffsetMs: number
  nextId(): number
}

export const DEFAULT_LIFETIMES: TokenLifetimes = {
  expires_in: 86_400,
  re_expires_in: 30 * 86_400,
  r1_expires_in: 86_400,
  r2_expires_in: 86_400,
  w1_expires_in: 86_400,
  w2_expires_in: 1_800,
}

const LOG_LIMIT = 20_000

export function createRuntime(opts: {
  apps: TaobaoFakeApp[]
  lifetimes?: Partial<TokenLifetimes>
  loginAs?: string
  autoApprove?: boolean
  callLimit?: CallLimit
  maxPictureBytes?: number
}): Runtime {
  let id = 1_000_000
  const rt: Runtime = {
    origin: '',
    apps: new Map(opts.apps.map((a) => [a.appKey, a])),
    sellers: new Map(),
    files: new Map(),
    codes: new Map(),
    tokens: new Map(),
    refreshTokens: new Map(),
    lifetimes: { ...DEFAULT_LIFETIMES, ...opts.lifetimes },
    loginAs: opts.loginAs,
    autoApprove: opts.autoApprove ?? false,
    callLimit: opts.callLimit ?? null,
    windows: new Map(),
    bannedUntil: new Map(),
    faults: [],
    maxPictureBytes: opts.maxPictureBytes ?? 3 * 1024 * 1024,
    stats: { calls: 0, byMethod: {}, errors: {}, bans: 0, log: [] },
    clockOffsetMs: 0,
    now: () => Date.now() + rt.clockOffsetMs,
    nextId: () => ++id,
  }
  return rt
}

export function logCall(rt: Runtime, entry: FakeStats['log'][number]): void {
  rt.stats.log.push(entry)
  if (rt.stats.log.length > LOG_LIMIT) rt.stats.log.splice(0, rt.stats.log.length - LOG_LIMIT)
}

/** A TOP time string (GMT+8) for fake ms. */
export function topTime(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ')
}

/** Fake ms for a TOP time string, or NaN. */
export function parseTopTime(value: string): number {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value)) return Number.NaN
  return Date.parse(`${value.replace(' ', 'T')}+08:00`)
}

export function randomToken(prefix: string): string {
  return `${prefix}${randomBytes(18).toString('hex')}`
}

/** Where an image-space or item image lives: the path below /imgextra/. */
export function storeFile(rt: Runtime, seller: Seller, bytes: Buffer, contentType: string): string {
  const ext = contentType === 'image/png' ? 'png' : contentType === 'image/gif' ? 'gif' : 'jpg'
  const path = `i${1 + (rt.files.size % 4)}/${seller.userId}/O1CN01${randomBytes(8).toString('hex')}_!!${seller.userId}.${ext}`
  rt.files.set(path, { bytes, contentType })
  return path
}

export function fileUrl(rt: Runtime, path: string): string {
  return `${rt.origin}/imgextra/${path}`
}

export function addSeller(rt: Runtime, seed: SellerSeed): Seller {
  if (rt.sellers.has(seed.userId)) throw new Error(`Seller ${seed.userId} already exists`)
  const seller: Seller = {
    userId: seed.userId,
    nick: seed.nick,
    items: new Map(),
    pictures: new Map(),
    categories: new Map(),
    sellerCats: (seed.sellerCats ?? []).map((c) => ({ cid: c.cid, name: c.name, parent_cid: c.parent_cid ?? 0 })),
  }
  rt.sellers.set(seller.userId, seller)
  for (const item of seed.items ?? []) addItem(rt, seller, item)
  if (seed.generated) {
    const { count, from, to } = seed.generated
    const span = Math.max(0, to.getTime() - from.getTime())
    for (let i = 0; i < count; i++) {
      // why whole seconds: TOP times have no milliseconds, and windows are cut on them.
      const modified = Math.floor((from.getTime() + (count > 1 ? (span * i) / (count - 1) : 0)) / 1000) * 1000
      addItem(rt, seller, { title: `商品 ${i + 1}`, modified: new Date(modified), approve_status: seed.generated.approve_status })
    }
  }
  return seller
}

export function addItem(rt: Runtime, seller: Seller, seed: ItemSeed): Item {
  const item: Item = {
    num_iid: seed.num_iid ?? 600_000_000_000 + rt.nextId(),
    title: seed.title,
    approve_status: seed.approve_status ?? 'onsale',
    seller_cids: seed.seller_cids ?? [],
    cid: seed.cid ?? 50000671,
    modified: Math.floor((seed.modified?.getTime() ?? rt.now()) / 1000) * 1000,
    item_imgs: [],
    prop_imgs: [],
    colors: seed.colors ?? [],
  }
  for (const [position, image] of (seed.images ?? []).slice(0, 5).entries()) {
    const path = storeFile(rt, seller, image.bytes, image.contentType ?? 'image/jpeg')
    item.item_imgs.push({ id: rt.nextId(), path, position })
    // why also a picture: Taobao keeps an item's main images in the seller's image space, so joint.img can attach them again.
    const now = rt.now()
    const picture_id = rt.nextId()
    const title = `${item.title} ${position + 1}.jpg`
    seller.pictures.set(picture_id, {
      picture_id,
      picture_category_id: 0,
      path,
      title,
      sizes: image.bytes.length,
      pixel: '',
      created: now,
      modified: now,
    })
  }
  seller.items.set(item.num_iid, item)
  return item
}

export function sellerState(rt: Runtime, seller: Seller): FakeSellerState {
  return {
    userId: seller.userId,
    nick: seller.nick,
    items: [...seller.items.values()].map((i) => ({
      num_iid: i.num_iid,
      title: i.title,
      approve_status: i.approve_status,
      seller_cids: i.seller_cids.length ? `,${i.seller_cids.join(',')},` : '',
      cid: i.cid,
      modified: topTime(i.modified),
      item_imgs: [...i.item_imgs]
        .sort((a, b) => a.position - b.position)
        .map((m) => ({ id: m.id, url: fileUrl(rt, m.path), position: m.position })),
      prop_imgs: i.prop_imgs.map((m) => ({ id: m.id, url: fileUrl(rt, m.path), position: m.position, properties: m.properties })),
    })),
    pictures: [...seller.pictures.values()].map((p) => ({
      picture_id: p.picture_id,
      picture_category_id: p.picture_category_id,
      picture_path: fileUrl(rt, p.path),
      title: p.title,
      sizes: p.sizes,
      pixel: p.pixel,
    })),
    pictureCategories: [...seller.categories.values()].map((c) => ({
      picture_category_id: c.picture_category_id,
      picture_category_name: c.picture_category_name,
      parent_id: c.parent_id,
    })),
  }
}
