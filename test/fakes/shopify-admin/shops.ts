// Creating a shop from its seed, and the read-only view tests assert on.
import { createBucket, PLAN_LIMITS } from './bucket.ts'
import { formatDecimal, gid, idSequence, parseGid, randomToken } from './ids.ts'
import { cdnUrl, createSeedMedia, mediaStatus } from './media.ts'
import type { Runtime } from './runtime.ts'
import { handleize, uniqueHandle, type CollectionRecord, type ShopRecord } from './store.ts'
import type { FakeShopSeed, FakeShopState } from './types.ts'

const FIRST_ID = 10_243_947_000_000

export async function createShop(rt: Runtime, seed: FakeShopSeed): Promise<ShopRecord> {
  const plan = seed.plan ?? 'standard'
  const limits = PLAN_LIMITS[plan]
  const throttle = rt.throttle
  const nextId = idSequence(FIRST_ID + rt.shops.size * 1_000_000_000)
  const token = seed.accessToken ?? randomToken('shpat_')
  const shop: ShopRecord = {
    domain: seed.domain,
    name: seed.domain.split('.')[0].replace(/-/g, ' '),
    plan,
    legacyId: nextId(),
    createdAt: new Date(rt.now()),
    nextId,
    products: new Map(),
    collections: new Map(),
    media: new Map(),
    deletedFileIds: [],
    stagedUploads: new Map(),
    subscriptions: new Map(),
    usageRecords: new Map(),
    bulkOperations: new Map(),
    bulkResults: new Map(),
    jobs: new Map(),
    tokens: new Map([
      [token, { token, mode: 'offline', scope: 'read_products,write_products,read_files,write_files', expiresAt: null }],
    ]),
    refreshTokens: new Map(),
    primaryToken: token,
    cdn: new Map(),
    bucket: createBucket({
      size: (throttle && throttle.bucket) || limits.bucket,
      restoreRate: (throttle && throttle.restoreRate) || limits.restoreRate,
      enforce: throttle !== false,
      now: rt.now,
    }),
    webhookTopics: seed.webhookTopics ? new Set(seed.webhookTopics) : null,
    webhookDeliveries: [],
  }
  for (const product of seed.products ?? []) {
    const legacyId = product.id ? Number(parseGid(product.id)?.id) || shop.nextId() : shop.nextId()
    const id = gid('Product', legacyId)
    const now = new Date(rt.now())
    const mediaIds: string[] = []
    for (const image of product.images) {
      const media = await createSeedMedia(shop, id, image, now)
      shop.media.set(media.id, media)
      mediaIds.push(media.id)
    }
    shop.products.set(id, {
      id,
      legacyId,
      title: product.title,
      handle: uniqueHandle(shop, product.title),
      vendor: product.vendor ?? shop.name,
      productType: product.productType ?? '',
      status: product.status ?? 'ACTIVE',
      tags: product.tags ?? [],
      descriptionHtml: '',
      mediaIds,
      createdAt: now,
      updatedAt: now,
    })
    for (const name of product.collections ?? []) collectionFor(shop, name, rt.now()).productIds.push(id)
  }
  return shop
}

function collectionFor(shop: ShopRecord, name: string, now: number): CollectionRecord {
  const existing = shop.collections.get(name) ?? [...shop.collections.values()].find((c) => c.title === name)
  if (existing) return existing
  const legacyId = Number(parseGid(name)?.id) || shop.nextId()
  const collection: CollectionRecord = {
    id: gid('Collection', legacyId),
    legacyId,
    title: parseGid(name) ? `Collection ${legacyId}` : name,
    handle: handleize(name),
    productIds: [],
    updatedAt: new Date(now),
  }
  shop.collections.set(collection.id, collection)
  return collection
}

export function shopState(rt: Runtime, shop: ShopRecord): FakeShopState {
  const media = [...shop.media.values()].map((m) => {
    const status = mediaStatus(rt, m)
    const ready = status === 'READY' && m.outcome?.ok
    return {
      id: m.id,
      origin: m.origin,
      status,
      alt: m.alt,
      productIds: [...m.productIds],
      imageUrl: ready ? cdnUrl(rt, shop, m) : null,
      width: ready && m.outcome?.ok ? m.outcome.width : null,
      height: ready && m.outcome?.ok ? m.outcome.height : null,
      sourceSha256: m.outcome?.sha256 ?? null,
      originalSource: m.originalSource,
      mediaErrors:
        status === 'FAILED' && m.outcome && !m.outcome.ok ? [{ code: m.outcome.code, message: m.outcome.message }] : [],
      createdAt: m.createdAt.toISOString(),
    }
  })
  return {
    domain: shop.domain,
    plan: shop.plan,
    products: [...shop.products.values()].map((p) => ({
      id: p.id,
      title: p.title,
      handle: p.handle,
      vendor: p.vendor,
      productType: p.productType,
      status: p.status,
      tags: [...p.tags],
      collectionIds: [...shop.collections.values()].filter((c) => c.productIds.includes(p.id)).map((c) => c.id),
      mediaIds: [...p.mediaIds],
      media: p.mediaIds.map((id) => media.find((m) => m.id === id)).filter((m): m is (typeof media)[number] => m !== undefined),
      updatedAt: p.updatedAt.toISOString(),
    })),
    collections: [...shop.collections.values()].map((c) => ({
      id: c.id,
      title: c.title,
      handle: c.handle,
      productIds: [...c.productIds],
    })),
    media,
    files: media.map((m) => ({ id: m.id, fileStatus: m.status, alt: m.alt, url: m.imageUrl, productIds: m.productIds })),
    deletedFileIds: [...shop.deletedFileIds],
    stagedUploads: [...shop.stagedUploads.values()].map((s) => ({
      id: s.id,
      filename: s.filename,
      mimeType: s.mimeType,
      resource: s.resource,
      httpMethod: s.httpMethod,
      url: s.url,
      resourceUrl: s.resourceUrl,
      uploaded: s.uploaded
        ? { bytes: s.uploaded.bytes.length, sha256: s.uploaded.sha256, contentType: s.uploaded.contentType }
        : null,
    })),
    subscriptions: [...shop.subscriptions.values()].map((s) => ({
      id: s.id,
      name: s.name,
      status: s.status,
      test: s.test,
      returnUrl: s.returnUrl,
      confirmationUrl: s.confirmationUrl,
      lineItems: s.lineItems.map((item) => ({
        id: item.id,
        cappedAmount: item.pricing.kind === 'usage' ? formatDecimal(item.pricing.cappedMicros) : null,
        balanceUsed: item.pricing.kind === 'usage' ? formatDecimal(item.balanceUsedMicros) : null,
        currencyCode: item.pricing.currencyCode,
        terms: item.pricing.kind === 'usage' ? item.pricing.terms : null,
      })),
    })),
    usageRecords: [...shop.usageRecords.values()].map((r) => ({
      id: r.id,
      subscriptionLineItemId: r.lineItemId,
      description: r.description,
      amount: formatDecimal(r.amountMicros),
      currencyCode: r.currencyCode,
      idempotencyKey: r.idempotencyKey,
      createdAt: r.createdAt.toISOString(),
    })),
    bulkOperations: [...shop.bulkOperations.values()].map((op) => ({
      id: op.id,
      status: op.status,
      query: op.query,
      groupObjects: op.groupObjects,
      objectCount: op.objectCount,
      rootObjectCount: op.rootObjectCount,
      fileSize: op.fileSize,
      url: op.url,
      errorCode: op.errorCode,
    })),
    webhookDeliveries: shop.webhookDeliveries.map((d) => ({ ...d })),
    throttle: shop.bucket.status(),
  }
}
