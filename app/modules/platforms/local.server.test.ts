import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ErrorCode } from '#app/lib/errors.ts'
import { imageExtension } from '#app/modules/imaging/extension.ts'
import { createLocalPlatform, type LocalPlatform } from './local.server.ts'

const products = [
  { id: 'cap-embroidered', title: 'Embroidered Cap', vendor: 'Northfield', productType: 'Hats', images: ['front.jpg'] },
  { id: 'dress-floral', title: 'Floral Midi Dress', vendor: 'Maison Lune', productType: 'Dresses', images: ['front.jpg'] },
  { id: 'hoodie-logo', title: 'Logo Hoodie', vendor: 'Northfield', productType: 'Sweatshirts', images: ['front.jpg'] },
  {
    id: 'jeans-straight',
    title: 'Straight Jeans',
    vendor: 'Indigo & Co',
    productType: 'Denim',
    images: ['front.jpg', 'back.jpg'],
  },
  { id: 'tee-classic', title: 'Classic Tee', vendor: 'Northfield', productType: 'T-Shirts', images: ['front.jpg'] },
]

let dir: string
let platform: LocalPlatform

async function jpeg(r: number, g: number, b: number): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: { r, g, b } } })
    .jpeg()
    .toBuffer()
}

async function png(): Promise<Buffer> {
  return sharp({ create: { width: 32, height: 32, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } })
    .png()
    .toBuffer()
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

async function folderHashes(handle: string): Promise<Record<string, string>> {
  const folder = path.join(dir, handle)
  const names = (await readdir(folder)).filter((n) => !n.startsWith('atelier'))
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, sha256(await readFile(path.join(folder, n)))])))
}

async function manifest(handle: string): Promise<{ images: { file: string; key: string; alt: string }[] }> {
  return JSON.parse(await readFile(path.join(dir, handle, 'atelier.json'), 'utf8'))
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<Error> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e as Error & { code?: string },
  )
  expect(error, `expected ${code}`).not.toBeNull()
  expect(error!.code).toBe(code)
  return error!
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'atelier-catalog-'))
  for (const [index, p] of products.entries()) {
    await mkdir(path.join(dir, p.id))
    for (const file of p.images) await writeFile(path.join(dir, p.id, file), await jpeg(40 * index, 100, 200))
    const images = p.images.map((file) => ({ file, alt: `${p.title} ${file}` }))
    await writeFile(path.join(dir, p.id, 'product.json'), JSON.stringify({ ...p, status: 'active', images }))
  }
  await mkdir(path.join(dir, 'broken-bag'))
  await writeFile(path.join(dir, 'broken-bag', 'product.json'), '{ "id": "broken-bag", "title": ')
  await mkdir(path.join(dir, 'no-title'))
  await writeFile(path.join(dir, 'no-title', 'product.json'), JSON.stringify({ id: 'no-title', images: [] }))
  platform = createLocalPlatform(dir)
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('listing', () => {
  it('lists valid products sorted by handle and skips malformed ones', async () => {
    const page = await platform.listProducts({}, null)
    expect(page.products.map((p) => p.id)).toEqual(products.map((p) => p.id))
    expect(page.nextCursor).toBeNull()
    const jeans = page.products.find((p) => p.id === 'jeans-straight')!
    expect(jeans.images).toEqual([
      { id: 'front.jpg', alt: 'Straight Jeans front.jpg', width: 64, height: 48, ours: false },
      { id: 'back.jpg', alt: 'Straight Jeans back.jpg', width: 64, height: 48, ours: false },
    ])
  })

  it('lists the size of a photo replaced in place, not the size it had', async () => {
    expect((await platform.getProduct('tee-classic')).images[0]).toMatchObject({ width: 64, height: 48 })
    const bigger = await sharp({ create: { width: 80, height: 120, channels: 3, background: '#345' } }).jpeg().toBuffer()
    await writeFile(path.join(dir, 'tee-classic', 'front.jpg'), bigger)
    expect((await platform.getProduct('tee-classic')).images[0]).toMatchObject({ width: 80, height: 120 })
    await rm(path.join(dir, 'tee-classic', 'front.jpg'))
    expect((await platform.getProduct('tee-classic')).images[0]).toMatchObject({ width: null, height: null })
  })

  it('reports malformed product folders with a clear reason', async () => {
    const problems = await platform.listProblems()
    expect(problems.map((p) => p.handle)).toEqual(['broken-bag', 'no-title'])
    expect(problems[0].message).toMatch(/broken-bag\/product\.json is not valid JSON/)
    expect(problems[1].message).toMatch(/title/)
    const error = await expectCode(platform.getProduct('no-title'), 'INVALID_INPUT')
    expect(error.message).toMatch(/no-title\/product\.json/)
  })

  it('searches title, vendor, type and handle case-insensitively', async () => {
    const ids = async (search: string) => (await platform.listProducts({ search }, null)).products.map((p) => p.id)
    expect(await ids('FLORAL')).toEqual(['dress-floral'])
    expect(await ids('northfield')).toEqual(['cap-embroidered', 'hoodie-logo', 'tee-classic'])
    expect(await ids('denim')).toEqual(['jeans-straight'])
    expect(await ids('tee-cla')).toEqual(['tee-classic'])
    expect(await ids('  ')).toHaveLength(products.length)
    expect(await ids('no such thing')).toEqual([])
  })

  it('pages with an opaque cursor and never repeats or skips', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page = await platform.listProducts({ first: 2 }, cursor)
      expect(page.products.length).toBeLessThanOrEqual(2)
      seen.push(...page.products.map((p) => p.id))
      cursor = page.nextCursor
      if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
      pages++
    } while (cursor)
    expect(pages).toBe(3)
    expect(seen).toEqual(products.map((p) => p.id))
  })

  it('pages within a search', async () => {
    const first = await platform.listProducts({ search: 'northfield', first: 2 }, null)
    expect(first.products.map((p) => p.id)).toEqual(['cap-embroidered', 'hoodie-logo'])
    const second = await platform.listProducts({ search: 'northfield', first: 2 }, first.nextCursor)
    expect(second.products.map((p) => p.id)).toEqual(['tee-classic'])
    expect(second.nextCursor).toBeNull()
  })

  it('rejects bad cursors and page sizes, caps big pages', async () => {
    await expectCode(platform.listProducts({}, Buffer.from('../etc').toString('base64url')), 'INVALID_INPUT')
    await expectCode(platform.listProducts({ first: 0 }, null), 'INVALID_INPUT')
    expect((await platform.listProducts({ first: 10_000 }, null)).products).toHaveLength(products.length)
  })
})

describe('reading', () => {
  it('throws NOT_FOUND for an unknown product or image', async () => {
    await expectCode(platform.getProduct('no-such-product'), 'NOT_FOUND')
    await expectCode(platform.readImage('tee-classic', 'nope.jpg'), 'NOT_FOUND')
  })

  it('rejects path traversal in product and image ids', async () => {
    for (const id of ['..', '../etc', 'tee-classic/../hoodie-logo', '/etc', 'Tee-Classic', '']) {
      await expectCode(platform.getProduct(id), 'INVALID_INPUT')
      await expectCode(platform.readImage(id, 'front.jpg'), 'INVALID_INPUT')
    }
    for (const image of ['product.json', '../hoodie-logo/front.jpg', 'atelier.json']) {
      await expectCode(platform.readImage('tee-classic', image), 'NOT_FOUND')
    }
  })

  it('returns the original bytes', async () => {
    const bytes = await platform.readImage('jeans-straight', 'back.jpg')
    expect(bytes.equals(await readFile(path.join(dir, 'jeans-straight', 'back.jpg')))).toBe(true)
  })
})

describe('publishing', () => {
  it('writes the image and records it in the manifest', async () => {
    const image = await jpeg(200, 10, 10)
    const { externalId } = await platform.publishImage('tee-classic', image, 'Classic Tee on a model', {
      idempotencyKey: 'render-1',
    })
    expect(externalId).toBe('atelier-render-1.jpg')
    expect((await readFile(path.join(dir, 'tee-classic', externalId))).equals(image)).toBe(true)
    expect((await manifest('tee-classic')).images).toMatchObject([
      { file: externalId, alt: 'Classic Tee on a model', key: 'render-1' },
    ])
    const product = await platform.getProduct('tee-classic')
    expect(product.images.at(-1)).toEqual({ id: externalId, alt: 'Classic Tee on a model', width: 64, height: 48, ours: true })
    expect(product.images[0].ours).toBe(false)
    expect((await platform.readImage('tee-classic', externalId)).equals(image)).toBe(true)
  })

  it('names the file after the real format, not a claim', async () => {
    const { externalId } = await platform.publishImage('cap-embroidered', await png(), 'Cap', { idempotencyKey: 'r2' })
    expect(externalId).toBe('atelier-r2.png')
    expect(imageExtension(Buffer.from('RIFF0000WEBPVP8 '))).toBe('webp')
    await expectCode(
      platform.publishImage('cap-embroidered', Buffer.from('<svg/>'), 'x', { idempotencyKey: 'r3' }),
      'IMAGE_UNSUPPORTED_FORMAT',
    )
    await expectCode(platform.publishImage('cap-embroidered', Buffer.alloc(0), 'x', { idempotencyKey: 'r3' }), 'IMAGE_EMPTY')
    await expectCode(platform.publishImage('cap-embroidered', await png(), 'x', { idempotencyKey: '../r3' }), 'INVALID_INPUT')
  })

  it('publishing the same key twice returns the same id and writes one file', async () => {
    const first = await platform.publishImage('hoodie-logo', await jpeg(1, 2, 3), 'Hoodie', { idempotencyKey: 'same' })
    const second = await platform.publishImage('hoodie-logo', await jpeg(9, 9, 9), 'Hoodie again', { idempotencyKey: 'same' })
    expect(second).toEqual(first)
    const files = (await readdir(path.join(dir, 'hoodie-logo'))).filter((n) => n.startsWith('atelier-'))
    expect(files).toEqual([first.externalId])
    expect((await manifest('hoodie-logo')).images).toHaveLength(1)
    expect((await readdir(path.join(dir, 'hoodie-logo'))).some((n) => n.endsWith('.tmp'))).toBe(false)
  })

  it('keeps every manifest entry under concurrent publishes', async () => {
    const image = await jpeg(5, 5, 5)
    const keys = Array.from({ length: 12 }, (_, i) => `parallel-${i}`)
    await Promise.all(keys.map((idempotencyKey) => platform.publishImage('dress-floral', image, 'Dress', { idempotencyKey })))
    expect((await manifest('dress-floral')).images.map((e) => e.key).sort()).toEqual([...keys].sort())
  })

  it('refuses to publish to an unknown or malformed product', async () => {
    const image = await jpeg(1, 1, 1)
    await expectCode(platform.publishImage('ghost', image, 'x', { idempotencyKey: 'k' }), 'NOT_FOUND')
    await expectCode(platform.publishImage('no-title', image, 'x', { idempotencyKey: 'k' }), 'INVALID_INPUT')
  })
})

describe('unpublishing', () => {
  it('removes exactly our file and entry and leaves originals byte-identical', async () => {
    const before = await folderHashes('jeans-straight')
    const { externalId } = await platform.publishImage('jeans-straight', await jpeg(0, 0, 90), 'Jeans', {
      idempotencyKey: 'undo-me',
    })
    await platform.publishImage('jeans-straight', await jpeg(0, 90, 0), 'Jeans', { idempotencyKey: 'keep-me' })
    await platform.unpublishImage('jeans-straight', externalId)
    const files = await readdir(path.join(dir, 'jeans-straight'))
    expect(files).not.toContain(externalId)
    expect(files).toContain('atelier-keep-me.jpg')
    expect((await manifest('jeans-straight')).images.map((e) => e.key)).toEqual(['keep-me'])
    expect(await folderHashes('jeans-straight')).toEqual(before)
    expect((await platform.getProduct('jeans-straight')).images.map((i) => i.id)).toEqual([
      'front.jpg',
      'back.jpg',
      'atelier-keep-me.jpg',
    ])
  })

  it('is idempotent', async () => {
    const { externalId } = await platform.publishImage('tee-classic', await jpeg(3, 3, 3), 'Tee', { idempotencyKey: 'twice' })
    await platform.unpublishImage('tee-classic', externalId)
    await expect(platform.unpublishImage('tee-classic', externalId)).resolves.toBeUndefined()
  })

  it('refuses to remove anything that is not in our manifest', async () => {
    const before = await folderHashes('tee-classic')
    await expectCode(platform.unpublishImage('tee-classic', 'front.jpg'), 'INVALID_INPUT')
    await expectCode(platform.unpublishImage('tee-classic', 'product.json'), 'INVALID_INPUT')
    await expectCode(platform.unpublishImage('tee-classic', '../hoodie-logo/front.jpg'), 'INVALID_INPUT')
    await writeFile(path.join(dir, 'tee-classic', 'atelier-lookalike.jpg'), await jpeg(7, 7, 7))
    await expectCode(platform.unpublishImage('tee-classic', 'atelier-lookalike.jpg'), 'INVALID_INPUT')
    await rm(path.join(dir, 'tee-classic', 'atelier-lookalike.jpg'))
    expect(await folderHashes('tee-classic')).toEqual(before)
  })

  it('refuses to touch a product whose manifest is corrupt', async () => {
    await writeFile(path.join(dir, 'cap-embroidered', 'atelier.json'), '{"version": 1, "images": [{"file": 3}]}')
    await expectCode(platform.unpublishImage('cap-embroidered', 'atelier-x.jpg'), 'INTERNAL')
    await expectCode(platform.publishImage('cap-embroidered', await jpeg(1, 1, 1), 'x', { idempotencyKey: 'x' }), 'INTERNAL')
  })
})

describe('local platform filters', () => {
  it('filters by vendor, product type and status, exactly and case-insensitively', async () => {
    const platform = createLocalPlatform(path.resolve('catalog'))
    const all = await platform.listProducts({ first: 100 }, null)
    const vendor = all.products[0].vendor!
    const byVendor = await platform.listProducts({ vendor: vendor.toUpperCase(), first: 100 }, null)
    expect(byVendor.products.length).toBeGreaterThan(0)
    expect(byVendor.products.every((p) => p.vendor === vendor)).toBe(true)
    const type = all.products[0].productType!
    const byType = await platform.listProducts({ productType: type, first: 100 }, null)
    expect(byType.products.every((p) => p.productType === type)).toBe(true)
    expect((await platform.listProducts({ status: 'archived', first: 100 }, null)).products).toEqual([])
    expect((await platform.listProducts({ collectionId: 'anything', first: 100 }, null)).products).toEqual([])
    expect(await platform.listCollections()).toEqual([])
  })
})

describe('reading the catalog for a bulk run', () => {
  async function imagesOf(read: Awaited<ReturnType<LocalPlatform['readCatalog']>>): Promise<string[]> {
    if (read.state !== 'ready') throw new Error(`expected a ready read, got ${read.state}`)
    const found: string[] = []
    for await (const image of read.images) found.push(`${image.productRef}/${image.imageRef}`)
    return found
  }

  it('is ready at once, in product and image order, a gone product reported', async () => {
    const all = await imagesOf(await platform.readCatalog({ kind: 'all' }, { operation: null }))
    expect(all).toHaveLength(6)
    expect(all.filter((i) => i.startsWith('jeans-straight/'))).toEqual(['jeans-straight/front.jpg', 'jeans-straight/back.jpg'])
    expect(await imagesOf(await platform.readCatalog({ kind: 'query', query: 'jeans' }, { operation: null }))).toHaveLength(2)
    const missing: string[] = []
    const picked = await platform.readCatalog(
      { kind: 'products', productIds: ['tee-classic', 'gone-product'] },
      { operation: null, onMissing: (id) => missing.push(id) },
    )
    expect(await imagesOf(picked)).toEqual(['tee-classic/front.jpg'])
    expect(missing).toEqual(['gone-product'])
  })

  it('has no collections to read and renders for free', () => {
    expect(platform.catalogSelections.has('collection')).toBe(false)
    expect(platform.catalogSelections.has('all')).toBe(true)
    expect(platform.chargesAppUsage).toBe(false)
  })

  it('runs outside any admin and has no image order to change', () => {
    expect(platform.capabilities).toEqual({ embedded: false, featuredImage: false, colourImages: false, mainImageSlots: 0 })
  })
})
