// A Taobao seller's items as the platform's products: on-sale items first,
// then those in the warehouse (仓库中), each with its main images in slot
// order and its SKU colour images as further sources.
import { AppError, notFound } from '#app/lib/errors.ts'
import type { Product, ProductImage, ProductPage, ProductQuery } from '#app/modules/platforms/types.ts'
import type { ListedItem, SellerItem } from '../top/schemas.ts'
import type { TaobaoContext } from './context.server.ts'

const LIST_FIELDS = 'num_iid,title,pic_url,modified,approve_status,seller_cids,cid'
const ITEM_FIELDS = 'num_iid,title,pic_url,modified,approve_status,seller_cids,cid,item_img,prop_img'
/** TOP refuses a page whose last row is past this (`page_no × page_size`). */
export const ROW_CAP = 20_000

/** Which list a page comes from: on sale (`onsale`) or in the warehouse (`instock`). */
type Shelf = 'onsale' | 'instock'

/** A page cursor: the shelf and the page number on it ("onsale:3"). */
function parseCursor(cursor: string | null): { shelf: Shelf; page: number } {
  const m = /^(onsale|instock):(\d{1,5})$/.exec(cursor ?? '')
  return m ? { shelf: m[1] as Shelf, page: Number(m[2]) } : { shelf: 'onsale', page: 1 }
}

/** An item id from a product id, or 404: ids are numbers, and nothing else reaches TOP. */
export function numIidOf(productId: string): number {
  if (!/^\d{1,20}$/.test(productId)) throw notFound('Product')
  return Number(productId)
}

/** Main images are `img-<id>`, SKU colour images `prop-<id>`; a product page's list view has only `main`. */
export type ImageRef = { kind: 'main' } | { kind: 'img'; id: number } | { kind: 'prop'; id: number }

export function parseImageRef(imageId: string): ImageRef {
  if (imageId === 'main') return { kind: 'main' }
  const m = /^(img|prop)-(\d{1,20})$/.exec(imageId)
  if (!m) throw notFound('Image')
  return { kind: m[1] as 'img' | 'prop', id: Number(m[2]) }
}

function listed(item: ListedItem): Product {
  return {
    id: String(item.num_iid),
    title: item.title ?? String(item.num_iid),
    status: item.approve_status === 'instock' ? 'draft' : 'active',
    // why only the main picture: the list call carries no image list; the product page reads them all.
    images: item.pic_url
      ? [{ id: 'main', url: item.pic_url, alt: item.title ?? null, width: null, height: null, ours: false }]
      : [],
  }
}

export async function listProducts(ctx: TaobaoContext, query: ProductQuery, cursor: string | null): Promise<ProductPage> {
  const size = Math.min(Math.max(query.first ?? 24, 1), 200)
  // A status picks one shelf; none lists on-sale items, then the warehouse.
  const only: Shelf | undefined = query.status === 'active' ? 'onsale' : query.status === 'draft' ? 'instock' : undefined
  if (query.status === 'archived') return { products: [], nextCursor: null }
  let { shelf, page } = parseCursor(cursor)
  if (only && shelf !== only) ({ shelf, page } = { shelf: only, page: 1 })
  if (page * size > ROW_CAP) throw new AppError('INVALID_INPUT', `Taobao lists at most ${ROW_CAP} items; narrow the search.`)
  const params = {
    fields: LIST_FIELDS,
    q: query.search || undefined,
    seller_cids: query.collectionId || undefined,
    page_no: page,
    page_size: size,
  }
  const result = await ctx.withAuth((auth) =>
    shelf === 'onsale' ? ctx.top.itemsOnsaleGet(auth, params) : ctx.top.itemsInventoryGet(auth, params),
  )
  const more = page * size < Math.min(result.total_results, ROW_CAP)
  const next = more ? `${shelf}:${page + 1}` : shelf === 'onsale' && !only ? 'instock:1' : null
  return { products: result.items.map(listed), nextCursor: next }
}

export async function sellerItem(ctx: TaobaoContext, productId: string): Promise<SellerItem> {
  const num_iid = numIidOf(productId)
  return ctx.withAuth((auth) => ctx.top.itemSellerGet(auth, { num_iid, fields: ITEM_FIELDS }))
}

/** The item's images: main images in slot order, then its colour images; `ours` from what Atelier attached. */
export function imagesOf(item: SellerItem, ours: ReadonlySet<string>): ProductImage[] {
  const main = [...item.item_imgs]
    .sort((a, b) => a.position - b.position)
    .map((i) => ({
      id: `img-${i.id}`,
      url: i.url,
      alt: `${item.title} · ${i.position + 1}`,
      width: null,
      height: null,
      ours: ours.has(i.url),
      slot: i.position,
    }))
  const colours = item.prop_imgs.map((p) => ({
    id: `prop-${p.id}`,
    url: p.url,
    alt: `${item.title} · ${p.properties}`,
    width: null,
    height: null,
    ours: ours.has(p.url),
  }))
  return [...main, ...colours]
}

export async function getProduct(
  ctx: TaobaoContext,
  productId: string,
  isOurs: (urls: string[]) => Promise<ReadonlySet<string>>,
): Promise<Product> {
  const item = await sellerItem(ctx, productId)
  const urls = [...item.item_imgs.map((i) => i.url), ...item.prop_imgs.map((p) => p.url)]
  return {
    id: String(item.num_iid),
    title: item.title,
    status: item.approve_status === 'instock' ? 'draft' : 'active',
    images: imagesOf(item, await isOurs(urls)),
  }
}

/** The URL of one of the item's images, or 404. */
export async function imageUrl(ctx: TaobaoContext, productId: string, imageId: string): Promise<string> {
  const ref = parseImageRef(imageId)
  const item = await sellerItem(ctx, productId)
  const url =
    ref.kind === 'main'
      ? (item.pic_url ?? [...item.item_imgs].sort((a, b) => a.position - b.position)[0]?.url)
      : ref.kind === 'img'
        ? item.item_imgs.find((i) => i.id === ref.id)?.url
        : item.prop_imgs.find((p) => p.id === ref.id)?.url
  if (!url)
    throw new AppError('NOT_FOUND', `Image ${imageId} of item ${productId} is not there`, { details: { productId, imageId } })
  return url
}

export async function listCollections(ctx: TaobaoContext): Promise<{ id: string; title: string }[]> {
  const cats = await ctx.withAuth((auth) => ctx.top.sellercatsListGet(auth, { nick: ctx.tenant.displayName }))
  return cats.map((c) => ({ id: String(c.cid), title: c.name }))
}
