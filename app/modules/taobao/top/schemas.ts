import { z } from 'zod'

// The response fields Atelier reads, under TOP's own names. TOP wraps lists
// in an object (`items: { item: [...] }`) and leaves the key out when the
// list is empty; the schemas flatten that to a plain array.

const id = z.coerce.number().int()
const list = <T extends z.ZodType>(key: string, item: T) =>
  z
    .record(z.string(), z.array(item))
    .optional()
    .transform((wrapped) => (wrapped?.[key] ?? []) as z.output<T>[])

/** One row of `taobao.items.onsale.get` / `taobao.items.inventory.get`; only the `fields` asked for are there. */
export const listedItem = z.object({
  num_iid: id,
  title: z.string().optional(),
  approve_status: z.enum(['onsale', 'instock']).optional(),
  seller_cids: z.string().optional(),
  modified: z.string().optional(),
  pic_url: z.string().optional(),
  cid: id.optional(),
})
export type ListedItem = z.infer<typeof listedItem>

export const itemList = z.object({
  items: list('item', listedItem),
  total_results: z.coerce.number().int().default(0),
})
export type ItemList = z.infer<typeof itemList>

export const itemImg = z.object({ id, url: z.string(), position: z.coerce.number().int().default(0) })
export type ItemImg = z.infer<typeof itemImg>

export const propImg = z.object({
  id,
  url: z.string(),
  properties: z.string(),
  position: z.coerce.number().int().default(0),
})
export type PropImg = z.infer<typeof propImg>

export const sellerItem = z.object({
  num_iid: id,
  title: z.string(),
  approve_status: z.enum(['onsale', 'instock']).optional(),
  seller_cids: z.string().optional(),
  modified: z.string().optional(),
  pic_url: z.string().optional(),
  cid: id.optional(),
  item_imgs: list('item_img', itemImg),
  prop_imgs: list('prop_img', propImg),
})
export type SellerItem = z.infer<typeof sellerItem>

export const sellerCat = z.object({
  cid: id,
  parent_cid: id.default(0),
  name: z.string(),
  sort_order: z.coerce.number().int().optional(),
  type: z.string().optional(),
})
export type SellerCat = z.infer<typeof sellerCat>

export const itemCat = z.object({
  cid: id,
  parent_cid: id.default(0),
  name: z.string(),
  is_parent: z.boolean().optional(),
})
export type ItemCat = z.infer<typeof itemCat>

export const picture = z.object({
  picture_id: id,
  picture_category_id: id,
  picture_path: z.string(),
  title: z.string().optional(),
  sizes: z.coerce.number().optional(),
  pixel: z.string().optional(),
  created: z.string().optional(),
  modified: z.string().optional(),
})
export type Picture = z.infer<typeof picture>

export const pictureCategory = z.object({
  picture_category_id: id,
  picture_category_name: z.string(),
  parent_id: id.default(0),
  type: z.string().optional(),
  created: z.string().optional(),
  modified: z.string().optional(),
})
export type PictureCategory = z.infer<typeof pictureCategory>

/** The bodies inside `<name>_response`, by method. */
export const responses = {
  'taobao.items.onsale.get': itemList,
  'taobao.items.inventory.get': itemList,
  'taobao.item.seller.get': z.object({ item: sellerItem }),
  'taobao.sellercats.list.get': z.object({ seller_cats: list('seller_cat', sellerCat) }),
  'taobao.itemcats.get': z.object({ item_cats: list('item_cat', itemCat) }),
  'taobao.picture.upload': z.object({ picture }),
  'taobao.picture.get': z.object({ pictures: list('picture', picture), totalResults: z.coerce.number().int().default(0) }),
  'taobao.picture.category.get': z.object({ picture_categories: list('picture_category', pictureCategory) }),
  'taobao.picture.category.add': z.object({ picture_category: pictureCategory }),
  'taobao.item.joint.img': z.object({ item_img: itemImg.partial({ url: true, position: true }) }),
  'taobao.item.img.delete': z.object({ item_img: z.object({ id }) }),
  'taobao.item.propimg.upload': z.object({ prop_img: propImg.partial({ url: true, properties: true, position: true }) }),
  'taobao.item.propimg.delete': z.object({ prop_img: z.object({ id }) }),
} as const
