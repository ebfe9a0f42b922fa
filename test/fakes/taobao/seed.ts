import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { TaobaoFake } from './index.ts'
import type { ItemSeed, SellerSeed } from './types.ts'

// Sellers for tests, stocked from the sample catalog (catalog/<handle>/):
// each product becomes an on-sale item with its photos as main images, under
// a Chinese title, in the seller category of its kind.

const CATALOG_DIR = path.resolve(import.meta.dirname, '../../../catalog')

const TITLES: Record<string, { title: string; cid: number; sellerCid: number; colors?: string[] }> = {
  'breton-striped-long-sleeve': {
    title: '法式条纹长袖T恤 女 纯棉打底衫',
    cid: 50000671,
    sellerCid: 101,
    colors: ['1627207:28341', '1627207:28320'],
  },
  'camel-blazer-mannequin': { title: '驼色羊毛单排扣西装外套', cid: 16, sellerCid: 102 },
  'classic-graphic-tee': { title: 'Sunday Supply 印花短袖T恤 藏青色', cid: 50000671, sellerCid: 101, colors: ['1627207:28338'] },
  'embroidered-cap': { title: '刺绣棒球帽 Atelier', cid: 16, sellerCid: 103 },
  'floral-wrap-dress': { title: '碎花裹身中长款连衣裙', cid: 50010850, sellerCid: 104 },
  'leather-tote-bag': { title: '焦糖色真皮托特包', cid: 50012010, sellerCid: 103 },
  'linen-button-shirt': { title: '天蓝色亚麻衬衫 男女同款', cid: 50011123, sellerCid: 101 },
  'northfield-logo-hoodie': { title: 'Northfield 标志连帽卫衣', cid: 50008898, sellerCid: 101 },
  'retro-court-sneakers': { title: '复古网球鞋 小白鞋', cid: 16, sellerCid: 103 },
  'silk-slip-dress': { title: '香槟色真丝吊带裙', cid: 50010850, sellerCid: 104 },
  'straight-leg-jeans': { title: '中蓝直筒牛仔裤', cid: 16, sellerCid: 105 },
}

export const CATALOG_SELLER_CATS = [
  { cid: 101, name: '上衣' },
  { cid: 102, name: '外套' },
  { cid: 103, name: '配饰' },
  { cid: 104, name: '连衣裙' },
  { cid: 105, name: '裤装' },
]

/** The sample catalog as item seeds (handles in `only`, or all), oldest `modified` first. */
export function catalogItems(only?: string[]): (ItemSeed & { handle: string })[] {
  const handles = readdirSync(CATALOG_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && (!only || only.includes(d.name)))
    .map((d) => d.name)
    .sort()
  const base = Date.UTC(2026, 0, 1)
  return handles.map((handle, i) => {
    const product = JSON.parse(readFileSync(path.join(CATALOG_DIR, handle, 'product.json'), 'utf8')) as {
      title: string
      images: { file: string }[]
    }
    const meta = TITLES[handle]
    return {
      handle,
      title: meta?.title ?? product.title,
      cid: meta?.cid,
      seller_cids: meta ? [meta.sellerCid] : [],
      colors: meta?.colors,
      modified: new Date(base + i * 3600_000),
      images: product.images.map((img) => ({
        bytes: readFileSync(path.join(CATALOG_DIR, handle, img.file)),
        contentType: img.file.endsWith('.png') ? 'image/png' : 'image/jpeg',
      })),
    }
  })
}

/**
 * Adds a seller stocked from the catalog (plus `extra` lightweight items) and
 * returns their id, nick and item ids by catalog handle.
 */
export function seedCatalogSeller(
  fake: TaobaoFake,
  seed: Partial<Pick<SellerSeed, 'userId' | 'nick' | 'generated'>> & { only?: string[] } = {},
): { userId: string; nick: string; items: Record<string, number> } {
  const userId = seed.userId ?? '2200000001'
  const nick = seed.nick ?? '阿特丽尔旗舰店'
  fake.addSeller({ userId, nick, sellerCats: CATALOG_SELLER_CATS, generated: seed.generated })
  const items: Record<string, number> = {}
  for (const { handle, ...item } of catalogItems(seed.only)) items[handle] = fake.addItem(userId, item)
  return { userId, nick, items }
}
