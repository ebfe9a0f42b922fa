// A bulk run's catalog read over a Taobao shop: every item of the selection,
// on sale and in the warehouse, streamed. TOP refuses pages past 20,000 rows,
// so a list that long is read in `modified` windows halved until each fits.
import { isAppError } from '#app/lib/errors.ts'
import type { CatalogImage, CatalogSelection } from '#app/modules/platforms/types.ts'
import type { ItemListParams } from '../top/api.ts'
import type { ListedItem } from '../top/schemas.ts'
import { ROW_CAP, sellerItem } from './catalog.server.ts'
import type { TaobaoContext } from './context.server.ts'

const PAGE = 200
/** The first `modified` a window starts at: before Taobao existed. */
const EPOCH = new Date('2003-01-01T00:00:00Z')

type Shelf = 'onsale' | 'instock'

async function listPage(ctx: TaobaoContext, shelf: Shelf, params: ItemListParams) {
  const all = { fields: 'num_iid,title,modified', page_size: PAGE, ...params }
  return ctx.withAuth((auth) => (shelf === 'onsale' ? ctx.top.itemsOnsaleGet(auth, all) : ctx.top.itemsInventoryGet(auth, all)))
}

/** Every item of one shelf matching `filter`, window by window. */
async function* shelfItems(
  ctx: TaobaoContext,
  shelf: Shelf,
  filter: ItemListParams,
  from: Date,
  to: Date,
): AsyncGenerator<ListedItem> {
  const first = await listPage(ctx, shelf, { ...filter, start_modified: from, end_modified: to })
  if (first.total_results > ROW_CAP && to.getTime() - from.getTime() > 1000) {
    // why whole seconds: TOP's times have none smaller, and the halves must not overlap.
    const mid = new Date(Math.floor((from.getTime() + to.getTime()) / 2000) * 1000)
    yield* shelfItems(ctx, shelf, filter, from, mid)
    yield* shelfItems(ctx, shelf, filter, new Date(mid.getTime() + 1000), to)
    return
  }
  yield* first.items
  for (let page = 2; (page - 1) * PAGE < Math.min(first.total_results, ROW_CAP); page++) {
    yield* (await listPage(ctx, shelf, { ...filter, start_modified: from, end_modified: to, page_no: page })).items
  }
}

/** The item ids a selection names, each once. */
export async function* selectedItems(ctx: TaobaoContext, selection: CatalogSelection, now: Date): AsyncGenerator<string> {
  if (selection.kind === 'products') {
    yield* new Set(selection.productIds)
    return
  }
  const filter: ItemListParams =
    selection.kind === 'query'
      ? { q: selection.query }
      : selection.kind === 'collection'
        ? { seller_cids: selection.collectionId }
        : {}
  const seen = new Set<number>()
  for (const shelf of ['onsale', 'instock'] as const) {
    for await (const item of shelfItems(ctx, shelf, filter, EPOCH, now)) {
      // why a set: an item edited during the read can move into a window not read yet.
      if (seen.has(item.num_iid)) continue
      seen.add(item.num_iid)
      yield String(item.num_iid)
    }
  }
}

/**
 * The selection's original images in slot order (main images, then colour
 * images), leaving out those Atelier attached. A picked item that is gone
 * is reported through `onMissing`, not fatal.
 */
export async function* catalogImages(
  ctx: TaobaoContext,
  selection: CatalogSelection,
  isOurs: (productRef: string, urls: string[]) => Promise<ReadonlySet<string>>,
  onMissing?: (productId: string, reason: string) => void,
  now = new Date(),
): AsyncGenerator<CatalogImage> {
  for await (const id of selectedItems(ctx, selection, now)) {
    let item
    try {
      item = await sellerItem(ctx, id)
    } catch (e) {
      // why only a picked item: an item listed a moment ago that is gone now is a read error worth retrying.
      if (selection.kind === 'products' && isAppError(e) && (e.code === 'NOT_FOUND' || e.code === 'TAOBAO_USER_ERROR')) {
        onMissing?.(id, (e as Error).message)
        continue
      }
      throw e
    }
    const main = [...item.item_imgs].sort((a, b) => a.position - b.position)
    const ours = await isOurs(id, [...main.map((i) => i.url), ...item.prop_imgs.map((p) => p.url)])
    for (const i of main) if (!ours.has(i.url)) yield { productRef: id, productTitle: item.title, imageRef: `img-${i.id}` }
    for (const p of item.prop_imgs)
      if (!ours.has(p.url)) yield { productRef: id, productTitle: item.title, imageRef: `prop-${p.id}` }
  }
}
