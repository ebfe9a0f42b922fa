// Records turned into GraphQL-shaped objects. A property is a value, or a
// function (args) => value for fields that take arguments or must be read at
// request time (media status moves on with the clock). `__typename` tells the
// executor which object type an interface or union value is.
import { paginate, type ConnectionArgs } from '../connection.ts'
import { formatDecimal, gid, isoSeconds } from '../ids.ts'
import { cdnUrl, mediaStatus } from '../media.ts'
import {
  collectionsOf,
  productMedia,
  type BulkOperationRecord,
  type CollectionRecord,
  type LineItemRecord,
  type MediaRecord,
  type ProductRecord,
  type SubscriptionRecord,
  type UsageRecordRecord,
} from '../store.ts'
import type { Ctx } from './context.ts'

type View = Record<string, unknown>

export const APP_HANDLE = 'atelier'
const ACCESS_SCOPES = ['read_products', 'write_products', 'write_files', 'read_files']

function money(micros: number, currencyCode: string): View {
  return { __typename: 'MoneyV2', amount: formatDecimal(micros), currencyCode }
}

function count(n: number): View {
  return { __typename: 'Count', count: n, precision: 'EXACT' }
}

function mediaQueryFilter(ctx: Ctx, media: MediaRecord[], query: string | null | undefined): MediaRecord[] {
  if (!query) return media
  return media.filter((m) =>
    query
      .split(/\s+/)
      .filter((term) => term && term !== 'AND')
      .every((term) => {
        const [field, value = ''] = term.split(':')
        if (field === 'media_type') return value.toUpperCase() === 'IMAGE'
        if (field === 'status') return value.toUpperCase() === mediaStatus(ctx.rt, m, ctx.now)
        return true
      }),
  )
}

export function productView(ctx: Ctx, p: ProductRecord): View {
  const { shop } = ctx
  return {
    __typename: 'Product',
    id: p.id,
    legacyResourceId: String(p.legacyId),
    title: p.title,
    handle: p.handle,
    vendor: p.vendor,
    productType: p.productType,
    status: p.status,
    tags: p.tags,
    descriptionHtml: p.descriptionHtml,
    description: () => p.descriptionHtml.replace(/<[^>]*>/g, ''),
    createdAt: isoSeconds(p.createdAt),
    updatedAt: isoSeconds(p.updatedAt),
    publishedAt: p.status === 'ACTIVE' ? isoSeconds(p.createdAt) : null,
    isGiftCard: false,
    hasOnlyDefaultVariant: true,
    hasOutOfStockVariants: false,
    requiresSellingPlan: false,
    totalInventory: 0,
    tracksInventory: false,
    templateSuffix: null,
    onlineStoreUrl: null,
    onlineStorePreviewUrl: null,
    featuredMedia: () => {
      const first = productMedia(shop, p)[0]
      return first ? mediaView(ctx, first) : null
    },
    media: (args: ConnectionArgs & { query?: string | null; sortKey?: string | null }) => {
      let media = mediaQueryFilter(ctx, productMedia(shop, p), args.query)
      if (args.sortKey === 'ID') media = [...media].sort((a, b) => a.legacyId - b.legacyId)
      return paginate(media, args, {
        bulk: ctx.bulk,
        key: (m) => ({ id: m.legacyId, value: m.legacyId }),
        view: (m) => mediaView(ctx, m),
      })
    },
    mediaCount: () => count(p.mediaIds.length),
    collections: (args: ConnectionArgs) =>
      paginate(collectionsOf(shop, p.id), args, {
        bulk: ctx.bulk,
        key: (c) => ({ id: c.legacyId, value: c.legacyId }),
        view: (c) => collectionView(ctx, c),
      }),
    inCollection: (args: { id: string }) => shop.collections.get(args.id)?.productIds.includes(p.id) ?? false,
  }
}

export function imageView(ctx: Ctx, m: MediaRecord): View | null {
  const url = cdnUrl(ctx.rt, ctx.shop, m)
  if (!url || !m.outcome?.ok) return null
  return {
    __typename: 'Image',
    id: gid('ImageSource', m.legacyId),
    url,
    altText: m.alt,
    width: m.outcome.width,
    height: m.outcome.height,
    thumbhash: null,
  }
}

export function mediaView(ctx: Ctx, m: MediaRecord): View {
  const status = () => mediaStatus(ctx.rt, m, ctx.now)
  const ready = () => status() === 'READY'
  const failure = () => (status() === 'FAILED' && m.outcome && !m.outcome.ok ? m.outcome : null)
  return {
    __typename: 'MediaImage',
    id: m.id,
    alt: m.alt,
    mediaContentType: 'IMAGE',
    status,
    fileStatus: status,
    createdAt: isoSeconds(m.createdAt),
    updatedAt: isoSeconds(m.updatedAt),
    mimeType: () => (m.outcome?.ok ? m.outcome.mimeType : null),
    image: () => (ready() ? imageView(ctx, m) : null),
    preview: () => ({ __typename: 'MediaPreviewImage', status: status(), image: ready() ? imageView(ctx, m) : null }),
    mediaErrors: () => {
      const f = failure()
      return f ? [{ __typename: 'MediaError', code: f.code, message: f.message, details: f.details }] : []
    },
    fileErrors: () => {
      const f = failure()
      return f ? [{ __typename: 'FileError', code: f.code, message: f.message, details: f.details }] : []
    },
    mediaWarnings: [],
    translations: [],
    originalSource: () => ({
      __typename: 'MediaImageOriginalSource',
      url: m.originalSource ?? cdnUrl(ctx.rt, ctx.shop, m),
      fileSize: m.outcome?.ok ? m.outcome.bytes.length : null,
    }),
  }
}

export function collectionView(ctx: Ctx, c: CollectionRecord): View {
  const { shop } = ctx
  const products = () => c.productIds.map((id) => shop.products.get(id)).filter((p): p is ProductRecord => p !== undefined)
  return {
    __typename: 'Collection',
    id: c.id,
    legacyResourceId: String(c.legacyId),
    title: c.title,
    handle: c.handle,
    description: '',
    descriptionHtml: '',
    updatedAt: isoSeconds(c.updatedAt),
    sortOrder: 'MANUAL',
    templateSuffix: null,
    image: null,
    products: (args: ConnectionArgs) =>
      paginate(products(), args, {
        bulk: ctx.bulk,
        key: (p) => ({ id: p.legacyId, value: p.legacyId }),
        view: (p) => productView(ctx, p),
      }),
    productsCount: () => count(products().length),
    hasProduct: (args: { id: string }) => c.productIds.includes(args.id),
  }
}

export function shopView(ctx: Ctx): View {
  const { shop } = ctx
  const url = `https://${shop.domain}`
  return {
    __typename: 'Shop',
    id: gid('Shop', shop.legacyId),
    name: shop.name,
    myshopifyDomain: shop.domain,
    email: `owner@${shop.domain}`,
    contactEmail: `owner@${shop.domain}`,
    shopOwnerName: 'Atelier Test Owner',
    currencyCode: 'USD',
    enabledPresentmentCurrencies: ['USD'],
    ianaTimezone: 'Etc/UTC',
    timezoneAbbreviation: 'UTC',
    timezoneOffset: '+0000',
    timezoneOffsetMinutes: 0,
    taxesIncluded: false,
    taxShipping: false,
    weightUnit: 'KILOGRAMS',
    unitSystem: 'METRIC_SYSTEM',
    createdAt: isoSeconds(shop.createdAt),
    updatedAt: isoSeconds(shop.createdAt),
    url,
    primaryDomain: { __typename: 'Domain', id: gid('Domain', shop.legacyId), host: shop.domain, url, sslEnabled: true },
    plan: {
      __typename: 'ShopPlan',
      partnerDevelopment: false,
      shopifyPlus: shop.plan === 'plus',
      publicDisplayName: { standard: 'Basic', advanced: 'Advanced', plus: 'Shopify Plus' }[shop.plan],
    },
  }
}

export function lineItemView(ctx: Ctx, item: LineItemRecord): View {
  const pricing = item.pricing
  const pricingDetails =
    pricing.kind === 'usage'
      ? {
          __typename: 'AppUsagePricing',
          balanceUsed: money(item.balanceUsedMicros, pricing.currencyCode),
          cappedAmount: money(pricing.cappedMicros, pricing.currencyCode),
          interval: 'EVERY_30_DAYS',
          terms: pricing.terms,
        }
      : {
          __typename: 'AppRecurringPricing',
          price: money(pricing.priceMicros, pricing.currencyCode),
          interval: pricing.interval,
          discount: null,
          planHandle: null,
        }
  return {
    __typename: 'AppSubscriptionLineItem',
    id: item.id,
    plan: { __typename: 'AppPlanV2', pricingDetails },
    usageRecords: (args: ConnectionArgs) =>
      paginate(
        [...ctx.shop.usageRecords.values()].filter((r) => r.lineItemId === item.id),
        args,
        {
          bulk: ctx.bulk,
          key: (r) => ({ id: Number(r.id.split('/').pop()), value: r.createdAt.getTime() }),
          view: (r) => usageRecordView(ctx, r),
        },
      ),
  }
}

export function subscriptionView(ctx: Ctx, s: SubscriptionRecord): View {
  return {
    __typename: 'AppSubscription',
    id: s.id,
    name: s.name,
    status: s.status,
    test: s.test,
    trialDays: s.trialDays,
    returnUrl: s.returnUrl,
    createdAt: isoSeconds(s.createdAt),
    currentPeriodEnd: s.status === 'ACTIVE' ? isoSeconds(s.createdAt.getTime() + 30 * 86_400_000) : null,
    lineItems: s.lineItems.map((item) => lineItemView(ctx, item)),
  }
}

export function usageRecordView(ctx: Ctx, r: UsageRecordRecord): View {
  return {
    __typename: 'AppUsageRecord',
    id: r.id,
    description: r.description,
    idempotencyKey: r.idempotencyKey,
    createdAt: isoSeconds(r.createdAt),
    price: money(r.amountMicros, r.currencyCode),
    subscriptionLineItem: () => {
      for (const s of ctx.shop.subscriptions.values()) {
        const item = s.lineItems.find((i) => i.id === r.lineItemId)
        if (item) return lineItemView(ctx, item)
      }
      return null
    },
  }
}

export function appInstallationView(ctx: Ctx): View {
  const subscriptions = () => [...ctx.shop.subscriptions.values()]
  return {
    __typename: 'AppInstallation',
    id: gid('AppInstallation', ctx.shop.legacyId),
    launchUrl: ctx.rt.appUrl ?? `https://${ctx.shop.domain}/admin/apps/${APP_HANDLE}`,
    uninstallUrl: null,
    accessScopes: ACCESS_SCOPES.map((handle) => ({ __typename: 'AccessScope', handle, description: handle })),
    app: {
      __typename: 'App',
      id: gid('App', 1),
      title: 'Atelier',
      handle: APP_HANDLE,
      apiKey: ctx.rt.apiKey,
      embedded: true,
    },
    activeSubscriptions: () =>
      subscriptions()
        .filter((s) => s.status === 'ACTIVE')
        .map((s) => subscriptionView(ctx, s)),
    allSubscriptions: (args: ConnectionArgs) =>
      paginate(subscriptions(), args, {
        bulk: ctx.bulk,
        key: (s) => ({ id: s.legacyId, value: s.createdAt.getTime() }),
        view: (s) => subscriptionView(ctx, s),
      }),
  }
}

export function bulkOperationView(op: BulkOperationRecord): View {
  return {
    __typename: 'BulkOperation',
    id: op.id,
    status: op.status,
    type: 'QUERY',
    errorCode: op.errorCode,
    createdAt: isoSeconds(op.createdAt),
    completedAt: op.completedAt ? isoSeconds(op.completedAt) : null,
    objectCount: String(op.objectCount),
    rootObjectCount: String(op.rootObjectCount),
    fileSize: op.fileSize === null ? null : String(op.fileSize),
    url: op.url,
    partialDataUrl: null,
    query: op.query,
  }
}

/** node(id) / nodes(ids): the record behind a gid, or null. */
export function nodeView(ctx: Ctx, id: string): View | null {
  const { shop } = ctx
  const type = /^gid:\/\/shopify\/([A-Za-z0-9]+)\//.exec(id)?.[1]
  switch (type) {
    case 'Product': {
      const p = shop.products.get(id)
      return p ? productView(ctx, p) : null
    }
    case 'MediaImage': {
      const m = shop.media.get(id)
      return m ? mediaView(ctx, m) : null
    }
    case 'Collection': {
      const c = shop.collections.get(id)
      return c ? collectionView(ctx, c) : null
    }
    case 'AppSubscription': {
      const s = shop.subscriptions.get(id)
      return s ? subscriptionView(ctx, s) : null
    }
    case 'AppUsageRecord': {
      const r = shop.usageRecords.get(id)
      return r ? usageRecordView(ctx, r) : null
    }
    case 'BulkOperation': {
      const op = shop.bulkOperations.get(id)
      return op ? bulkOperationView(op) : null
    }
    case 'Shop':
      return id === gid('Shop', shop.legacyId) ? shopView(ctx) : null
    case 'AppInstallation':
      return id === gid('AppInstallation', shop.legacyId) ? appInstallationView(ctx) : null
    default:
      return null
  }
}
