// The Taobao fake's public shapes: options, seeds and what state() returns.

export interface TaobaoFakeApp {
  appKey: string
  appSecret: string
  /** When set, /authorize refuses any other redirect_uri (Taobao checks the registered callback). */
  redirectUri?: string
}

/** Seconds each grant level lasts (defaults: a day; w2 half an hour; refresh 30 days). */
export interface TokenLifetimes {
  expires_in: number
  re_expires_in: number
  r1_expires_in: number
  r2_expires_in: number
  w1_expires_in: number
  w2_expires_in: number
}

/** TOP's call limit: more than `calls` within `windowMs` bans the app (or session) for `banSeconds`. */
export interface CallLimit {
  calls: number
  windowMs: number
  banSeconds: number
  scope?: 'app' | 'session'
}

/** An injected error: the next `times` calls (of `method`, or any) answer it. */
export interface Fault {
  method?: string
  code?: number
  msg?: string
  subCode: string
  subMsg?: string
  times: number
}

export interface ItemImageSeed {
  /** Bytes served at the image's URL (JPEG, PNG or GIF). */
  bytes: Buffer
  contentType?: string
}

export interface ItemSeed {
  num_iid?: number
  title: string
  approve_status?: 'onsale' | 'instock'
  seller_cids?: number[]
  cid?: number
  modified?: Date
  images?: ItemImageSeed[]
  /** SKU properties that take a colour image, e.g. `1627207:28341` (颜色分类:黑色). */
  colors?: string[]
}

export interface SellerSeed {
  userId: string
  nick: string
  items?: ItemSeed[]
  /** Lightweight generated items (no images) on top of `items`, `modified` spread evenly over the range. */
  generated?: { count: number; from: Date; to: Date; approve_status?: 'onsale' | 'instock' }
  sellerCats?: { cid: number; name: string; parent_cid?: number }[]
}

export interface TaobaoFakeOptions {
  /** The apps the fake knows (default one: `fake-app-key` / `fake-app-secret`). */
  apps?: TaobaoFakeApp[]
  sellers?: SellerSeed[]
  /** Which seller /authorize logs in when the URL has no `seller` param. */
  loginAs?: string
  /** Skip the consent page: /authorize redirects back at once. */
  autoApprove?: boolean
  tokenLifetimes?: Partial<TokenLifetimes>
  callLimit?: CallLimit
  /** Max picture size in bytes (default 3 MB). */
  maxPictureBytes?: number
  port?: number
}

export interface FakeItemImage {
  id: number
  url: string
  position: number
}

export interface FakePropImage extends FakeItemImage {
  properties: string
}

export interface FakeItemState {
  num_iid: number
  title: string
  approve_status: 'onsale' | 'instock'
  seller_cids: string
  cid: number
  modified: string
  item_imgs: FakeItemImage[]
  prop_imgs: FakePropImage[]
}

export interface FakePictureState {
  picture_id: number
  picture_category_id: number
  picture_path: string
  title: string
  sizes: number
  pixel: string
}

export interface FakeSellerState {
  userId: string
  nick: string
  items: FakeItemState[]
  pictures: FakePictureState[]
  pictureCategories: { picture_category_id: number; picture_category_name: string; parent_id: number }[]
}

export interface FakeStats {
  calls: number
  byMethod: Record<string, number>
  /** Error answers by TOP code. */
  errors: Record<number, number>
  /** Bans imposed (code 7 answers that started a ban). */
  bans: number
  /** Every gateway call, oldest first (at: fake ms, code: error code or 0). */
  log: { at: number; method: string; appKey: string; session: string | null; code: number }[]
}

export interface TokenSet {
  access_token: string
  refresh_token: string
  taobao_user_id: string
}
