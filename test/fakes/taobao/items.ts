import { intParam, isvError, needSeller, requireParam, TopFault, type MethodContext, type MethodSpec } from './faults.ts'
import { imageOf } from './pictures.ts'
import { fileUrl, parseTopTime, storeFile, topTime, type Item, type Runtime, type Seller } from './store.ts'

// Items: the on-sale and in-stock lists (page_size ≤ 200, 20,000 rows at
// most, modified windows), one item with its images, the main images (at
// most 5, positions 0–4, 0 the major one) and SKU colour images.

const MAX_ROWS = 20_000
const MAX_PAGE_SIZE = 200
const MAX_ITEM_IMAGES = 5

const ITEM_CATS = [
  { cid: 16, parent_cid: 0, name: '女装/女士精品', is_parent: true },
  { cid: 30, parent_cid: 0, name: '男装', is_parent: true },
  { cid: 50006842, parent_cid: 0, name: '箱包皮具/热销女包/男包', is_parent: true },
  { cid: 50000671, parent_cid: 16, name: 'T恤', is_parent: false },
  { cid: 50010850, parent_cid: 16, name: '连衣裙', is_parent: false },
  { cid: 50008898, parent_cid: 16, name: '卫衣/绒衫', is_parent: false },
  { cid: 50011123, parent_cid: 30, name: '衬衫', is_parent: false },
  { cid: 50012010, parent_cid: 50006842, name: '女士包袋', is_parent: false },
]

function fieldSet(params: Record<string, string>): Set<string> {
  return new Set(
    requireParam(params, 'fields')
      .split(',')
      .map((f) => f.trim()),
  )
}

function itemRow(rt: Runtime, item: Item, fields: Set<string>): Record<string, unknown> {
  const images = [...item.item_imgs].sort((a, b) => a.position - b.position)
  const all: Record<string, unknown> = {
    num_iid: item.num_iid,
    title: item.title,
    approve_status: item.approve_status,
    seller_cids: item.seller_cids.length ? `,${item.seller_cids.join(',')},` : '',
    modified: topTime(item.modified),
    cid: item.cid,
    pic_url: images[0] ? fileUrl(rt, images[0].path) : undefined,
  }
  const row: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(all)) if (fields.has(k) && v !== undefined) row[k] = v
  if (fields.has('item_img') || fields.has('item_imgs')) {
    row.item_imgs = { item_img: images.map((m) => ({ id: m.id, url: fileUrl(rt, m.path), position: m.position })) }
  }
  if (fields.has('prop_img') || fields.has('prop_imgs')) {
    row.prop_imgs = {
      prop_img: item.prop_imgs.map((m) => ({
        id: m.id,
        url: fileUrl(rt, m.path),
        position: m.position,
        properties: m.properties,
      })),
    }
  }
  return row
}

function timeParam(params: Record<string, string>, name: string): number | null {
  if (!params[name]) return null
  const ms = parseTopTime(params[name])
  if (Number.isNaN(ms))
    throw new TopFault(41, `Invalid arguments:${name}`, `isv.invalid-parameter:${name}`, `${name} 格式应为 yyyy-MM-dd HH:mm:ss`)
  return ms
}

function listItems(status: 'onsale' | 'instock') {
  return (ctx: MethodContext) => {
    const seller = needSeller(ctx)
    const { params } = ctx
    const fields = fieldSet(params)
    const pageNo = intParam(params, 'page_no', 1)
    const pageSize = intParam(params, 'page_size', 40)
    if (pageNo < 1 || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw new TopFault(
        41,
        'Invalid arguments:page_size',
        'isv.invalid-parameter:page_size',
        `page_size 取值范围 1-${MAX_PAGE_SIZE}`,
      )
    }
    if (pageNo * pageSize > MAX_ROWS) {
      throw isvError(
        'isv.invalid-parameter:page_no',
        `page_no*page_size 不能超过 ${MAX_ROWS}，请用 start_modified/end_modified 分段查询`,
      )
    }
    const from = timeParam(params, 'start_modified')
    const to = timeParam(params, 'end_modified')
    const cids = params.seller_cids ? params.seller_cids.split(',').filter(Boolean).map(Number) : null
    const q = params.q?.trim()
    const rows = [...seller.items.values()].filter(
      (i) =>
        i.approve_status === status &&
        (from === null || i.modified >= from) &&
        (to === null || i.modified <= to) &&
        (!q || i.title.includes(q)) &&
        (!cids || i.seller_cids.some((c) => cids.includes(c))),
    )
    const [key, dir] = (params.order_by || 'modified:desc').split(':')
    const sign = dir === 'asc' ? 1 : -1
    rows.sort((a, b) => (key === 'num_iid' ? a.num_iid - b.num_iid : a.modified - b.modified || a.num_iid - b.num_iid) * sign)
    const page = rows.slice((pageNo - 1) * pageSize, pageNo * pageSize)
    // why no `items` key when empty: TOP leaves it out, and clients must cope.
    return page.length
      ? { items: { item: page.map((i) => itemRow(ctx.rt, i, fields)) }, total_results: rows.length }
      : { total_results: rows.length }
  }
}

function itemOf(seller: Seller, params: Record<string, string>): Item {
  const item = seller.items.get(intParam(params, 'num_iid'))
  if (!item) throw isvError('isv.item-not-exist:invalid-numIid', '商品不存在或不属于当前卖家')
  return item
}

function picturePath(ctx: MethodContext, seller: Seller, picPath: string): string {
  const path = picPath.replace(/^https?:\/\/[^/]+\/imgextra\//, '').replace(/^\/?imgextra\//, '')
  const owned = [...seller.pictures.values()].some((p) => p.path === path)
  if (!owned || !ctx.rt.files.has(path)) throw isvError('isv.invalid-parameter:pic_path', '图片不在卖家图片空间中')
  return path
}

export const itemMethods: Record<string, MethodSpec> = {
  'taobao.items.onsale.get': { session: 'required', handle: listItems('onsale') },
  'taobao.items.inventory.get': { session: 'required', handle: listItems('instock') },
  'taobao.item.seller.get': {
    session: 'required',
    handle: (ctx) => ({ item: itemRow(ctx.rt, itemOf(needSeller(ctx), ctx.params), fieldSet(ctx.params)) }),
  },
  'taobao.sellercats.list.get': {
    session: 'optional',
    handle: ({ rt, params }) => {
      const nick = requireParam(params, 'nick')
      const seller = [...rt.sellers.values()].find((s) => s.nick === nick)
      if (!seller) throw isvError('isv.user-not-exist:invalid-nick', '用户不存在')
      const cats = seller.sellerCats.map((c, i) => ({
        cid: c.cid,
        parent_cid: c.parent_cid,
        name: c.name,
        sort_order: i,
        type: 'manual_type',
      }))
      return cats.length ? { seller_cats: { seller_cat: cats } } : {}
    },
  },
  'taobao.itemcats.get': {
    session: 'optional',
    handle: ({ params }) => {
      const cids = params.cids ? params.cids.split(',').map(Number) : null
      const parent = params.parent_cid !== undefined && params.parent_cid !== '' ? Number(params.parent_cid) : null
      if (!cids && parent === null) throw new TopFault(40, 'Missing required arguments:cids or parent_cid')
      const cats = ITEM_CATS.filter((c) => (cids ? cids.includes(c.cid) : c.parent_cid === parent))
      return cats.length ? { item_cats: { item_cat: cats } } : {}
    },
  },
  'taobao.item.joint.img': {
    session: 'required',
    write: true,
    handle: (ctx) => {
      const seller = needSeller(ctx)
      const item = itemOf(seller, ctx.params)
      const path = picturePath(ctx, seller, requireParam(ctx.params, 'pic_path'))
      const isMajor = ctx.params.is_major === 'true'
      const position = isMajor ? 0 : intParam(ctx.params, 'position', -1)
      if (position > MAX_ITEM_IMAGES - 1)
        throw isvError('isv.invalid-parameter:position', `position 取值范围 0-${MAX_ITEM_IMAGES - 1}`)
      const id = intParam(ctx.params, 'id', 0)
      const occupant = (p: number) => item.item_imgs.find((m) => m.position === p)
      let img = id ? item.item_imgs.find((m) => m.id === id) : undefined
      if (id && !img) throw isvError('isv.item-img-not-exist', '商品图片不存在')
      if (img) {
        // Replacing an image in place; a new position swaps with the image there.
        img.path = path
        if (position >= 0 && position !== img.position) {
          const other = occupant(position)
          if (other) other.position = img.position
          img.position = position
        }
      } else {
        if (item.item_imgs.length >= MAX_ITEM_IMAGES)
          throw isvError('isv.item-img-count-exceeded', `商品主图最多 ${MAX_ITEM_IMAGES} 张`)
        const free = [0, 1, 2, 3, 4].find((p) => !occupant(p))!
        const at = position >= 0 ? position : free
        if (occupant(at)) throw isvError('isv.item-img-position-occupied', `位置 ${at} 已有图片，请传入该图片 id 以替换`)
        img = { id: ctx.rt.nextId(), path, position: at }
        item.item_imgs.push(img)
      }
      item.modified = Math.floor(ctx.rt.now() / 1000) * 1000
      return { item_img: { id: img.id, url: fileUrl(ctx.rt, img.path), position: img.position, created: topTime(ctx.rt.now()) } }
    },
  },
  'taobao.item.img.delete': {
    session: 'required',
    write: true,
    handle: (ctx) => {
      const item = itemOf(needSeller(ctx), ctx.params)
      const id = intParam(ctx.params, 'id')
      const index = item.item_imgs.findIndex((m) => m.id === id)
      if (index < 0) throw isvError('isv.item-img-not-exist', '商品图片不存在')
      item.item_imgs.splice(index, 1)
      item.modified = Math.floor(ctx.rt.now() / 1000) * 1000
      return { item_img: { id, created: topTime(ctx.rt.now()) } }
    },
  },
  'taobao.item.propimg.delete': {
    session: 'required',
    write: true,
    handle: (ctx) => {
      const item = itemOf(needSeller(ctx), ctx.params)
      const id = intParam(ctx.params, 'id')
      const index = item.prop_imgs.findIndex((m) => m.id === id)
      if (index < 0) throw isvError('isv.prop-img-not-exist', '属性图片不存在')
      item.prop_imgs.splice(index, 1)
      item.modified = Math.floor(ctx.rt.now() / 1000) * 1000
      return { prop_img: { id, created: topTime(ctx.rt.now()) } }
    },
  },
  'taobao.item.propimg.upload': {
    session: 'required',
    write: true,
    handle: async (ctx) => {
      const seller = needSeller(ctx)
      const item = itemOf(seller, ctx.params)
      const properties = requireParam(ctx.params, 'properties')
      if (!/^\d+:\d+$/.test(properties) || (item.colors.length > 0 && !item.colors.includes(properties))) {
        throw isvError('isv.invalid-parameter:properties', `商品没有销售属性 ${properties}`)
      }
      const image = await imageOf(ctx, 'image')
      const path = storeFile(ctx.rt, seller, image.bytes, image.contentType)
      const id = intParam(ctx.params, 'id', 0)
      let img = item.prop_imgs.find((m) => (id ? m.id === id : m.properties === properties))
      if (id && !img) throw isvError('isv.prop-img-not-exist', '属性图片不存在')
      if (img) {
        img.path = path
        img.properties = properties
      } else {
        img = { id: ctx.rt.nextId(), path, position: intParam(ctx.params, 'position', item.prop_imgs.length), properties }
        item.prop_imgs.push(img)
      }
      item.modified = Math.floor(ctx.rt.now() / 1000) * 1000
      return {
        prop_img: {
          id: img.id,
          url: fileUrl(ctx.rt, img.path),
          properties,
          position: img.position,
          created: topTime(ctx.rt.now()),
        },
      }
    },
  },
}
