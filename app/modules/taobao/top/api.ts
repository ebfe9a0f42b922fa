import type { z } from 'zod'
import { AppError } from '#app/lib/errors.ts'
import type { CallOptions, TopAuth, TopFile, TopParams } from './client.server.ts'
import { responses } from './schemas.ts'

// The TOP methods Atelier uses, typed: parameters under TOP's names, the
// response body checked against its schema (lists flattened to arrays).

type Call = (method: string, params?: TopParams, opts?: CallOptions) => Promise<Record<string, unknown>>
type Method = keyof typeof responses
type Out<M extends Method> = z.output<(typeof responses)[M]>
type When = Date | string

const LIST_FIELDS = 'num_iid,title,approve_status,seller_cids,modified,pic_url,cid'
const ITEM_FIELDS = 'num_iid,title,approve_status,seller_cids,modified,pic_url,cid,item_img,prop_img'

export interface ItemListParams {
  fields?: string
  q?: string
  /** Seller category ids, comma-separated. */
  seller_cids?: string
  page_no?: number
  /** At most 200. */
  page_size?: number
  start_modified?: When
  end_modified?: When
  order_by?: string
}

export interface TopApi {
  itemsOnsaleGet(auth: TopAuth, params?: ItemListParams): Promise<Out<'taobao.items.onsale.get'>>
  /** In-stock (warehouse) items; `banner` picks which (e.g. `for_shelved`, `sold_out`). */
  itemsInventoryGet(auth: TopAuth, params?: ItemListParams & { banner?: string }): Promise<Out<'taobao.items.inventory.get'>>
  itemSellerGet(auth: TopAuth, params: { num_iid: number; fields?: string }): Promise<Out<'taobao.item.seller.get'>['item']>
  /** The seller's own shop categories (the `seller_cids` of items). */
  sellercatsListGet(
    auth: TopAuth,
    params: { nick: string; fields?: string },
  ): Promise<Out<'taobao.sellercats.list.get'>['seller_cats']>
  /** Taobao's standard categories, by parent or by ids. */
  itemcatsGet(
    auth: TopAuth | undefined,
    params: { parent_cid?: number; cids?: string; fields?: string },
  ): Promise<Out<'taobao.itemcats.get'>['item_cats']>
  pictureUpload(
    auth: TopAuth,
    params: { picture_category_id: number; image: TopFile; image_input_title: string; title?: string },
  ): Promise<Out<'taobao.picture.upload'>['picture']>
  /** Pictures in the image space, newest first; filters as TOP names them (`title` matches whole). */
  pictureGet(
    auth: TopAuth,
    params?: { picture_id?: number; picture_category_id?: number; title?: string; page_no?: number; page_size?: number },
  ): Promise<Out<'taobao.picture.get'>>
  pictureCategoryGet(
    auth: TopAuth,
    params?: { picture_category_name?: string; picture_category_id?: number; parent_id?: number; type?: string },
  ): Promise<Out<'taobao.picture.category.get'>['picture_categories']>
  pictureCategoryAdd(
    auth: TopAuth,
    params: { picture_category_name: string; parent_id?: number },
  ): Promise<Out<'taobao.picture.category.add'>['picture_category']>
  /** Attaches an image-space picture (`pic_path`) to an item's main images. */
  itemJointImg(
    auth: TopAuth,
    params: { num_iid: number; pic_path: string; position?: number; is_major?: boolean; id?: number },
  ): Promise<Out<'taobao.item.joint.img'>['item_img']>
  itemImgDelete(auth: TopAuth, params: { num_iid: number; id: number }): Promise<Out<'taobao.item.img.delete'>['item_img']>
  /** A SKU colour image (`properties` like `1627207:28341`); one per colour, so it replaces that colour's image. */
  itemPropimgUpload(
    auth: TopAuth,
    params: { num_iid: number; properties: string; image: TopFile; position?: number; id?: number },
  ): Promise<Out<'taobao.item.propimg.upload'>['prop_img']>
  itemPropimgDelete(
    auth: TopAuth,
    params: { num_iid: number; id: number },
  ): Promise<Out<'taobao.item.propimg.delete'>['prop_img']>
}

export function topApi(call: Call): TopApi {
  async function typed<M extends Method>(method: M, params: TopParams, opts: CallOptions): Promise<Out<M>> {
    const body = await call(method, params, opts)
    const parsed = responses[method].safeParse(body)
    if (parsed.success) return parsed.data as Out<M>
    throw new AppError('INTERNAL', `Taobao answered ${method} in a shape Atelier does not read`, {
      details: { method, issues: parsed.error.issues.slice(0, 5) },
    })
  }
  const list = { fields: LIST_FIELDS, page_no: 1, page_size: 200 }
  return {
    itemsOnsaleGet: (auth, params = {}) => typed('taobao.items.onsale.get', { ...list, ...params }, { auth }),
    itemsInventoryGet: (auth, params = {}) => typed('taobao.items.inventory.get', { ...list, ...params }, { auth }),
    itemSellerGet: async (auth, params) =>
      (await typed('taobao.item.seller.get', { fields: ITEM_FIELDS, ...params }, { auth })).item,
    sellercatsListGet: async (auth, params) =>
      (await typed('taobao.sellercats.list.get', { fields: 'cid,parent_cid,name,sort_order,type', ...params }, { auth }))
        .seller_cats,
    itemcatsGet: async (auth, params) =>
      (await typed('taobao.itemcats.get', { fields: 'cid,parent_cid,name,is_parent', ...params }, { auth })).item_cats,
    pictureUpload: async (auth, { image, ...params }) =>
      (await typed('taobao.picture.upload', params, { auth, files: { img: image } })).picture,
    pictureGet: (auth, params = {}) => typed('taobao.picture.get', { page_no: 1, page_size: 100, ...params }, { auth }),
    pictureCategoryGet: async (auth, params = {}) =>
      (await typed('taobao.picture.category.get', params, { auth })).picture_categories,
    pictureCategoryAdd: async (auth, params) => (await typed('taobao.picture.category.add', params, { auth })).picture_category,
    itemJointImg: async (auth, params) => (await typed('taobao.item.joint.img', params, { auth })).item_img,
    itemImgDelete: async (auth, params) => (await typed('taobao.item.img.delete', params, { auth })).item_img,
    itemPropimgUpload: async (auth, { image, ...params }) =>
      (await typed('taobao.item.propimg.upload', params, { auth, files: { image } })).prop_img,
    itemPropimgDelete: async (auth, params) => (await typed('taobao.item.propimg.delete', params, { auth })).prop_img,
  }
}
