import sharp from 'sharp'
import { intParam, isvError, needSeller, requireParam, TopFault, type MethodContext, type MethodSpec } from './faults.ts'
import { fileUrl, storeFile, topTime, type Picture, type PictureCategory, type Runtime } from './store.ts'

// The seller's image space (图片空间): categories, and pictures uploaded as
// multipart, JPEG/PNG/GIF only (judged by their bytes, not their name), at
// most 3 MB.

const MAX_CATEGORY_NAME = 20

/** What the bytes are, by their magic numbers. */
export function sniff(bytes: Buffer): 'image/jpeg' | 'image/png' | 'image/gif' | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg'
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png'
  const head = bytes.subarray(0, 6).toString('latin1')
  if (head === 'GIF87a' || head === 'GIF89a') return 'image/gif'
  return null
}

/** The uploaded file param `name`, checked as TOP checks image uploads. */
export async function imageOf(ctx: MethodContext, name: string): Promise<{ bytes: Buffer; contentType: string; pixel: string }> {
  const file = ctx.files.get(name)
  if (!file || file.bytes.length === 0) throw new TopFault(40, `Missing required arguments:${name}`)
  if (file.bytes.length > ctx.rt.maxPictureBytes) {
    throw isvError('isv.picture-size-exceeded', `图片大小不能超过 ${Math.round(ctx.rt.maxPictureBytes / 1024 / 1024)}M`)
  }
  const contentType = sniff(file.bytes)
  if (!contentType) throw isvError('isv.picture-format-invalid', '图片格式只支持 jpg、png、gif')
  try {
    const meta = await sharp(file.bytes).metadata()
    return { bytes: file.bytes, contentType, pixel: `${meta.width}x${meta.height}` }
  } catch {
    throw isvError('isv.picture-format-invalid', '图片已损坏，无法读取')
  }
}

function categoryRow(c: PictureCategory) {
  return {
    picture_category_id: c.picture_category_id,
    picture_category_name: c.picture_category_name,
    parent_id: c.parent_id,
    type: 'user-define',
    created: topTime(c.created),
    modified: topTime(c.modified),
  }
}

function pictureRow(rt: Runtime, p: Picture) {
  return {
    picture_id: p.picture_id,
    picture_category_id: p.picture_category_id,
    picture_path: fileUrl(rt, p.path),
    title: p.title,
    sizes: p.sizes,
    pixel: p.pixel,
    status: 'pass',
    deleted: 'unfz',
    created: topTime(p.created),
    modified: topTime(p.modified),
  }
}

export const pictureMethods: Record<string, MethodSpec> = {
  'taobao.picture.upload': {
    session: 'required',
    write: true,
    handle: async (ctx) => {
      const seller = needSeller(ctx)
      const categoryId = intParam(ctx.params, 'picture_category_id')
      const title = requireParam(ctx.params, 'image_input_title')
      if (categoryId !== 0 && !seller.categories.has(categoryId)) {
        throw isvError('isv.picture-category-not-exist', '图片分类不存在')
      }
      const image = await imageOf(ctx, 'img')
      const now = ctx.rt.now()
      const picture: Picture = {
        picture_id: ctx.rt.nextId(),
        picture_category_id: categoryId,
        path: storeFile(ctx.rt, seller, image.bytes, image.contentType),
        title,
        sizes: image.bytes.length,
        pixel: image.pixel,
        created: now,
        modified: now,
      }
      seller.pictures.set(picture.picture_id, picture)
      return { picture: pictureRow(ctx.rt, picture) }
    },
  },
  'taobao.picture.get': {
    session: 'required',
    handle: (ctx) => {
      const seller = needSeller(ctx)
      const { params } = ctx
      const pageNo = intParam(params, 'page_no', 1)
      const pageSize = intParam(params, 'page_size', 40)
      if (pageNo < 1 || pageSize < 1 || pageSize > 100) {
        throw new TopFault(41, 'Invalid arguments:page_size', 'isv.invalid-parameter:page_size', 'page_size 取值范围 1-100')
      }
      const id = params.picture_id ? Number(params.picture_id) : null
      const category = params.picture_category_id ? Number(params.picture_category_id) : null
      const rows = [...seller.pictures.values()]
        .filter(
          (p) =>
            (id === null || p.picture_id === id) &&
            (category === null || p.picture_category_id === category) &&
            (!params.title || p.title === params.title),
        )
        .sort((a, b) => b.modified - a.modified || b.picture_id - a.picture_id)
      const page = rows.slice((pageNo - 1) * pageSize, pageNo * pageSize)
      return page.length
        ? { pictures: { picture: page.map((p) => pictureRow(ctx.rt, p)) }, totalResults: rows.length }
        : { totalResults: rows.length }
    },
  },
  'taobao.picture.category.get': {
    session: 'required',
    handle: (ctx) => {
      const seller = needSeller(ctx)
      const { params } = ctx
      const byId = params.picture_category_id ? Number(params.picture_category_id) : null
      const parent = params.parent_id ? Number(params.parent_id) : null
      const rows = [...seller.categories.values()].filter(
        (c) =>
          (byId === null || c.picture_category_id === byId) &&
          (parent === null || c.parent_id === parent) &&
          (!params.picture_category_name || c.picture_category_name === params.picture_category_name),
      )
      return rows.length ? { picture_categories: { picture_category: rows.map(categoryRow) } } : {}
    },
  },
  'taobao.picture.category.add': {
    session: 'required',
    write: true,
    handle: (ctx) => {
      const seller = needSeller(ctx)
      const name = requireParam(ctx.params, 'picture_category_name')
      const parent = intParam(ctx.params, 'parent_id', 0)
      if ([...name].length > MAX_CATEGORY_NAME)
        throw isvError('isv.invalid-parameter:picture_category_name', '分类名称不能超过20个字')
      if (parent !== 0 && !seller.categories.has(parent)) throw isvError('isv.picture-category-not-exist', '父分类不存在')
      const taken = [...seller.categories.values()].some((c) => c.parent_id === parent && c.picture_category_name === name)
      if (taken) throw isvError('isv.picture-category-name-duplicate', '同级分类下已有同名分类')
      const now = ctx.rt.now()
      const category = {
        picture_category_id: ctx.rt.nextId(),
        picture_category_name: name,
        parent_id: parent,
        created: now,
        modified: now,
      }
      seller.categories.set(category.picture_category_id, category)
      return { picture_category: categoryRow(category) }
    },
  },
}
