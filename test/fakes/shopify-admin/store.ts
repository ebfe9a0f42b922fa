// The fake's in-memory shops: the records resolvers read and write. One
// ShopRecord per myshopify domain; nothing is shared between shops.
import type { Bucket } from './bucket.ts'
import type { FakeWebhookDelivery, ShopPlan } from './types.ts'

export interface ProductRecord {
  id: string
  legacyId: number
  title: string
  handle: string
  vendor: string
  productType: string
  status: string
  tags: string[]
  descriptionHtml: string
  /** Display order. */
  mediaIds: string[]
  createdAt: Date
  updatedAt: Date
}

export interface CollectionRecord {
  id: string
  legacyId: number
  title: string
  handle: string
  productIds: string[]
  updatedAt: Date
}

export type MediaOutcome =
  | { ok: true; sha256: string; bytes: Buffer; width: number; height: number; mimeType: string; cdnName: string }
  | { ok: false; sha256: string | null; code: string; message: string; details: string }

export interface MediaRecord {
  id: string
  legacyId: number
  origin: 'seed' | 'app'
  alt: string | null
  productIds: string[]
  originalSource: string | null
  createdAt: Date
  updatedAt: Date
  /** Epoch ms at which processing is over (READY or FAILED). */
  readyAt: number
  /** null while the source is still being fetched and decoded. */
  outcome: MediaOutcome | null
}

export interface StagedUploadRecord {
  id: string
  filename: string
  mimeType: string
  resource: string
  httpMethod: 'POST' | 'PUT'
  url: string
  resourceUrl: string
  parameters: { name: string; value: string }[]
  uploaded: { bytes: Buffer; sha256: string; contentType: string | null } | null
}

export interface LineItemRecord {
  id: string
  pricing:
    | { kind: 'usage'; cappedMicros: number; currencyCode: string; terms: string }
    | { kind: 'recurring'; priceMicros: number; currencyCode: string; interval: string }
  balanceUsedMicros: number
}

export interface SubscriptionRecord {
  id: string
  legacyId: number
  name: string
  returnUrl: string
  test: boolean
  trialDays: number
  status: string
  createdAt: Date
  confirmationUrl: string
  lineItems: LineItemRecord[]
}

export interface UsageRecordRecord {
  id: string
  lineItemId: string
  description: string
  amountMicros: number
  currencyCode: string
  idempotencyKey: string | null
  createdAt: Date
}

export interface BulkOperationRecord {
  id: string
  legacyId: number
  status: string
  query: string
  groupObjects: boolean
  createdAt: Date
  completedAt: Date | null
  objectCount: number
  rootObjectCount: number
  fileSize: number | null
  url: string | null
  errorCode: string | null
}

export interface TokenRecord {
  token: string
  mode: 'offline' | 'online'
  scope: string
  /** null = never expires (legacy offline tokens and seeded ones). */
  expiresAt: number | null
}

export interface ShopRecord {
  domain: string
  name: string
  plan: ShopPlan
  legacyId: number
  createdAt: Date
  nextId: () => number
  products: Map<string, ProductRecord>
  collections: Map<string, CollectionRecord>
  media: Map<string, MediaRecord>
  deletedFileIds: string[]
  stagedUploads: Map<string, StagedUploadRecord>
  subscriptions: Map<string, SubscriptionRecord>
  usageRecords: Map<string, UsageRecordRecord>
  bulkOperations: Map<string, BulkOperationRecord>
  /** Bulk results, by file name under /bulk/. */
  bulkResults: Map<string, Buffer>
  jobs: Map<string, { doneAt: number }>
  tokens: Map<string, TokenRecord>
  refreshTokens: Map<string, { expiresAt: number }>
  primaryToken: string
  /** CDN objects, by file name under /cdn/files/. */
  cdn: Map<string, { bytes: Buffer; contentType: string }>
  bucket: Bucket
  /** null = subscribed to every topic. */
  webhookTopics: Set<string> | null
  webhookDeliveries: FakeWebhookDelivery[]
}

export function handleize(title: string): string {
  const handle = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^\p{Letter}\p{Number}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
  return handle || 'product'
}

export function uniqueHandle(shop: ShopRecord, title: string, exceptId?: string): string {
  const base = handleize(title)
  const taken = new Set([...shop.products.values()].filter((p) => p.id !== exceptId).map((p) => p.handle))
  if (!taken.has(base)) return base
  for (let n = 1; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`
}

export function collectionsOf(shop: ShopRecord, productId: string): CollectionRecord[] {
  return [...shop.collections.values()].filter((c) => c.productIds.includes(productId))
}

export function productMedia(shop: ShopRecord, product: ProductRecord): MediaRecord[] {
  return product.mediaIds.map((id) => shop.media.get(id)).filter((m): m is MediaRecord => m !== undefined)
}
