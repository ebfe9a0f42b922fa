// Public surface of the Shopify Admin fake: what a test seeds, configures and
// reads back. Everything else in this folder is private to the fake.

export type ShopPlan = 'standard' | 'advanced' | 'plus'

export interface FakeProductSeed {
  id?: string
  title: string
  vendor?: string
  productType?: string
  status?: 'ACTIVE' | 'DRAFT' | 'ARCHIVED'
  tags?: string[]
  /** Collection titles (a collection is created per distinct title) or collection gids. */
  collections?: string[]
  images: { bytes: Buffer; alt?: string; filename?: string }[]
}

export interface FakeShopSeed {
  domain: string /* e.g. 'atelier-a.myshopify.com' */
  plan?: ShopPlan
  products?: FakeProductSeed[]
  accessToken?: string
  /**
   * Topics the app is subscribed to for the fake's own webhooks
   * (products/update, bulk_operations/finish, app_subscriptions/update).
   * Defaults to every topic. `sendWebhook` ignores it: a test that sends
   * one means it.
   */
  webhookTopics?: string[]
}

export interface ShopifyAdminFakeOptions {
  apiKey: string
  apiSecret: string
  apiVersion: string
  appUrl?: string /* where webhooks go */
  shops?: FakeShopSeed[]
  mediaProcessingMs?: number /* UPLOADED→PROCESSING→READY timing, default 150 */
  throttle?: false | { bucket?: number; restoreRate?: number } /* default 2000 / 100 per s (standard plan) */
  port?: number
}

export type MediaStatus = 'UPLOADED' | 'PROCESSING' | 'READY' | 'FAILED'

export interface FakeProductState {
  id: string
  title: string
  handle: string
  vendor: string
  productType: string
  status: string
  tags: string[]
  collectionIds: string[]
  /** Media ids in display order. */
  mediaIds: string[]
  /** The product's media in display order (the same records as FakeShopState.media). */
  media: FakeMediaState[]
  updatedAt: string
}

export interface FakeCollectionState {
  id: string
  title: string
  handle: string
  productIds: string[]
}

export interface FakeMediaState {
  id: string
  /** 'seed' = the product's original photos; 'app' = created through the API (our published renders). */
  origin: 'seed' | 'app'
  status: MediaStatus
  alt: string | null
  /** Products that reference this media (a file can be detached from all of them and still exist). */
  productIds: string[]
  /** CDN url once READY, else null. */
  imageUrl: string | null
  width: number | null
  height: number | null
  /** sha256 (hex) of the bytes Shopify received, null when nothing was received. */
  sourceSha256: string | null
  originalSource: string | null
  mediaErrors: { code: string; message: string }[]
  createdAt: string
}

export interface FakeStagedUploadState {
  id: string
  filename: string
  mimeType: string
  resource: string
  httpMethod: 'POST' | 'PUT'
  url: string
  resourceUrl: string
  uploaded: null | { bytes: number; sha256: string; contentType: string | null }
}

export interface FakeSubscriptionState {
  id: string
  name: string
  status: string
  test: boolean
  returnUrl: string
  confirmationUrl: string
  lineItems: {
    id: string
    cappedAmount: string | null
    balanceUsed: string | null
    currencyCode: string
    terms: string | null
  }[]
}

export interface FakeUsageRecordState {
  id: string
  subscriptionLineItemId: string
  description: string
  amount: string
  currencyCode: string
  idempotencyKey: string | null
  createdAt: string
}

export interface FakeBulkOperationState {
  id: string
  status: string
  query: string
  groupObjects: boolean
  objectCount: number
  rootObjectCount: number
  fileSize: number | null
  url: string | null
  errorCode: string | null
}

export interface FakeWebhookDelivery {
  topic: string
  webhookId: string
  /** HTTP status the app answered, 0 when the request failed. */
  status: number
  error?: string
}

export interface FakeShopState {
  domain: string
  plan: ShopPlan
  products: FakeProductState[]
  collections: FakeCollectionState[]
  /** Every MediaImage file that still exists, attached or not. */
  media: FakeMediaState[]
  /** The Files view: same records as `media` (MediaImage is a File), with their references. */
  files: { id: string; fileStatus: MediaStatus; alt: string | null; url: string | null; productIds: string[] }[]
  deletedFileIds: string[]
  stagedUploads: FakeStagedUploadState[]
  subscriptions: FakeSubscriptionState[]
  usageRecords: FakeUsageRecordState[]
  bulkOperations: FakeBulkOperationState[]
  webhookDeliveries: FakeWebhookDelivery[]
  throttle: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number }
}

export interface FailureRule {
  /** GraphQL operation name or root field name, or a route: 'access-token', 'staged-upload', 'cdn', 'bulk-result'. Omitted = any request. */
  operation?: string
  /** HTTP status to answer with; omitted = the connection is dropped without a response (network failure). */
  status?: number
  times: number
}

export interface ShopifyAdminFake {
  origin: string // e.g. http://127.0.0.1:41234 — the app sets SHOPIFY_ADMIN_ORIGIN = `${origin}/{shop}`
  close(): Promise<void>
  addShop(seed: FakeShopSeed): Promise<{ accessToken: string }>
  accessToken(shop: string): string
  state(shop: string): FakeShopState // read-only view for assertions
  sendWebhook(
    shop: string,
    topic: string,
    payload: unknown,
    opts?: { webhookId?: string; secret?: string; path?: string },
  ): Promise<{ status: number; body: string }>
  stats(): { requests: number; throttled: number; costSpent: number; byOperation: Record<string, number> }
  setFailure(rule: FailureRule | null): void // inject 5xx / network failures for retry tests
}
