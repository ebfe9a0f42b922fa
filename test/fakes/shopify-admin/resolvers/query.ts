// QueryRoot fields Atelier reads.
import type { GraphQLResolveInfo } from 'graphql'
import { paginate, type ConnectionArgs } from '../connection.ts'
import { productMatches, parseProductSearch } from '../search.ts'
import type { ProductRecord } from '../store.ts'
import { requireGid, type Ctx } from './context.ts'
import { appInstallationView, bulkOperationView, collectionView, nodeView, productView, shopView } from './views.ts'

type ProductsArgs = ConnectionArgs & { query?: string | null; sortKey?: string | null }

const SORTERS: Record<string, (a: ProductRecord, b: ProductRecord) => number> = {
  ID: (a, b) => a.legacyId - b.legacyId,
  TITLE: (a, b) => a.title.localeCompare(b.title) || a.legacyId - b.legacyId,
  VENDOR: (a, b) => a.vendor.localeCompare(b.vendor) || a.legacyId - b.legacyId,
  PRODUCT_TYPE: (a, b) => a.productType.localeCompare(b.productType) || a.legacyId - b.legacyId,
  CREATED_AT: (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.legacyId - b.legacyId,
  UPDATED_AT: (a, b) => a.updatedAt.getTime() - b.updatedAt.getTime() || a.legacyId - b.legacyId,
  PUBLISHED_AT: (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.legacyId - b.legacyId,
}

function sortValue(p: ProductRecord, sortKey: string): string | number {
  switch (sortKey) {
    case 'TITLE':
      return p.title
    case 'VENDOR':
      return p.vendor
    case 'PRODUCT_TYPE':
      return p.productType
    case 'UPDATED_AT':
      return p.updatedAt.toISOString()
    case 'CREATED_AT':
    case 'PUBLISHED_AT':
      return p.createdAt.toISOString()
    default:
      return p.legacyId
  }
}

function responsePath(info: GraphQLResolveInfo): (string | number)[] {
  const path: (string | number)[] = []
  for (let p: GraphQLResolveInfo['path'] | undefined = info.path; p; p = p.prev) path.unshift(p.key)
  return path
}

export function products(ctx: Ctx, args: ProductsArgs, info: GraphQLResolveInfo) {
  let items = [...ctx.shop.products.values()]
  if (args.query) {
    const { terms, warnings } = parseProductSearch(args.query)
    if (warnings.length) ctx.search.push({ path: responsePath(info), query: args.query, warnings })
    items = items.filter((p) => productMatches(ctx.shop, p, terms))
  }
  // RELEVANCE and INVENTORY_TOTAL have nothing to rank on here: they fall back to id order.
  const sortKey = args.sortKey && SORTERS[args.sortKey] ? args.sortKey : 'ID'
  items.sort(SORTERS[sortKey])
  return paginate(items, args, {
    bulk: ctx.bulk,
    key: (p) => ({ id: p.legacyId, value: sortValue(p, sortKey) }),
    view: (p) => productView(ctx, p),
  })
}

export function queryRoot(ctx: Ctx): Record<string, unknown> {
  const { shop } = ctx
  const root: Record<string, unknown> = {
    products: (args: ProductsArgs, _ctx: Ctx, info: GraphQLResolveInfo) => products(ctx, args, info),
    product: (args: { id: string }) => {
      requireGid(args.id)
      const p = shop.products.get(args.id)
      return p ? productView(ctx, p) : null
    },
    collection: (args: { id: string }) => {
      requireGid(args.id)
      const c = shop.collections.get(args.id)
      return c ? collectionView(ctx, c) : null
    },
    collections: (args: ConnectionArgs) =>
      paginate([...shop.collections.values()], args, {
        bulk: ctx.bulk,
        key: (c) => ({ id: c.legacyId, value: c.legacyId }),
        view: (c) => collectionView(ctx, c),
      }),
    node: (args: { id: string }) => {
      requireGid(args.id)
      return nodeView(ctx, args.id)
    },
    nodes: (args: { ids: string[] }) => args.ids.map((id) => (requireGid(id), nodeView(ctx, id))),
    shop: () => shopView(ctx),
    currentAppInstallation: () => appInstallationView(ctx),
    bulkOperation: (args: { id: string }) => {
      requireGid(args.id)
      const op = shop.bulkOperations.get(args.id)
      return op ? bulkOperationView(op) : null
    },
    currentBulkOperation: (args: { type?: string | null }) => {
      if (args.type === 'MUTATION') return null
      const ops = [...shop.bulkOperations.values()]
      const latest = ops.at(-1)
      return latest ? bulkOperationView(latest) : null
    },
    bulkOperations: (args: ConnectionArgs & { query?: string | null }) => {
      const status = /status:(\w+)/i.exec(args.query ?? '')?.[1]?.toUpperCase()
      const type = /operation_type:(\w+)/i.exec(args.query ?? '')?.[1]?.toUpperCase()
      const ops = [...shop.bulkOperations.values()].filter(
        (op) => (!status || op.status === status) && (!type || type === 'QUERY'),
      )
      return paginate(ops, args, {
        bulk: ctx.bulk,
        key: (op) => ({ id: op.legacyId, value: op.createdAt.getTime() }),
        view: bulkOperationView,
      })
    },
    job: (args: { id: string }) => {
      requireGid(args.id)
      const job = shop.jobs.get(args.id)
      return job ? { __typename: 'Job', id: args.id, done: ctx.rt.now() >= job.doneAt, query: () => root } : null
    },
  }
  return root
}
