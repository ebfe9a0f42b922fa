import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { productImageUrl } from '#app/lib/media.server.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import { loader } from '#app/routes/media.t.$tenantId.products.$productId.images.$imageId.tsx'
import type { Tenant } from '#db/schema.ts'
import { DISGUISED_SVG, HOSTILE_SVG, plainImage, pngBomb, pngWithGarbageIdat } from '#test/fixtures/bad-images.ts'
import { createLocalTenant, removeCreatedTenants } from '#test/support/fixtures.ts'

// The preview route decodes the catalog's own files, which someone else
// chose: every one passes the import path's gate before sharp sees it.

const PRODUCT = 'hostile-preview'
let tenant: Tenant
const files: Record<string, Buffer> = {}

beforeAll(async () => {
  tenant = await createLocalTenant()
  Object.assign(files, {
    'front.jpg': await (await plainImage(640, 480)).jpeg().toBuffer(),
    'logo.svg': Buffer.from(HOSTILE_SVG),
    'disguised.png': Buffer.from(DISGUISED_SVG),
    'scan.tif': await (await plainImage(200, 200)).tiff().toBuffer(),
    'anim.gif': await (await plainImage(200, 200)).gif().toBuffer(),
    'strip.png': pngBomb(1, 40_000_000),
    'bomb.png': pngBomb(30_000, 30_000),
    'garbage.png': pngWithGarbageIdat(),
    'cut.jpg': (await (await plainImage(640, 480)).jpeg().toBuffer()).subarray(0, 3000),
  })
  const dir = path.join(tenant.settings.catalogDir!, PRODUCT)
  mkdirSync(dir, { recursive: true })
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name), bytes)
  const product = { id: PRODUCT, title: 'Hostile preview', status: 'active', images: Object.keys(files).map((file) => ({ file, alt: file })) }
  writeFileSync(path.join(dir, 'product.json'), JSON.stringify(product))
})

afterAll(async () => {
  await removeCreatedTenants()
})

/** The route's answer, returned or thrown (a Response or Remix's data()), as status + body. */
async function preview(imageId: string): Promise<{ status: number; contentType: string | null; body: unknown; ms: number }> {
  const request = new Request(`http://127.0.0.1${productImageUrl(tenant.id, PRODUCT, imageId, 240)}`)
  const started = performance.now()
  const answer = await loader({ request, params: { tenantId: tenant.id, productId: PRODUCT, imageId }, context: {} }).catch((e: unknown) => e)
  const ms = performance.now() - started
  if (answer instanceof Response) {
    return { status: answer.status, contentType: answer.headers.get('content-type'), body: await answer.arrayBuffer(), ms }
  }
  const thrown = answer as { type?: string; data?: unknown; init?: { status?: number } }
  if (thrown?.type !== 'DataWithResponseInit') throw answer
  return { status: thrown.init?.status ?? 200, contentType: null, body: thrown.data, ms }
}

describe('the product image preview', () => {
  it('serves a WebP thumbnail of a photo', async () => {
    const res = await preview('front.jpg')
    expect(res.status).toBe(200)
    expect(res.contentType).toBe('image/webp')
  })

  it.each([
    ['logo.svg', 415, 'IMAGE_SVG_REJECTED'],
    ['disguised.png', 415, 'IMAGE_SVG_REJECTED'],
    ['scan.tif', 415, 'IMAGE_UNSUPPORTED_FORMAT'],
    ['anim.gif', 415, 'IMAGE_UNSUPPORTED_FORMAT'],
    ['strip.png', 422, 'IMAGE_ASPECT_RATIO'],
    ['bomb.png', 413, 'IMAGE_PIXEL_LIMIT'],
    ['garbage.png', 422, 'IMAGE_CORRUPT'],
    ['cut.jpg', 422, 'IMAGE_TRUNCATED'],
  ])('refuses %s with %i %s, before decoding and in words', async (file, status, code) => {
    const res = await preview(file)
    expect(res.status).toBe(status)
    expect(res.body).toMatchObject({ code })
    expect(JSON.stringify(res.body)).not.toMatch(/vips|libpng|libjpeg|librsvg|glib|Error:/i)
    expect(res.ms).toBeLessThan(1500)
  })

  it('lists the product without reading a header of what it will not decode', async () => {
    const product = await platformFor(tenant).getProduct(PRODUCT)
    const size = (id: string) => product.images.find((i) => i.id === id)
    expect(size('front.jpg')).toMatchObject({ width: 640, height: 480 })
    for (const id of ['logo.svg', 'disguised.png', 'scan.tif', 'anim.gif']) expect(size(id), id).toMatchObject({ width: null, height: null })
  })
})

describe('result previews at card sizes', () => {
  it('serves a small WebP of a stored result under its signed URL, and the full image without a width', async () => {
    const { loader: media } = await import('#app/routes/media.$key.tsx')
    const { imageStore, signedImageUrl } = await import('#app/lib/storage.server.ts')
    const sharp = (await import('sharp')).default
    const full = await (await plainImage(1536, 2048)).jpeg({ quality: 90 }).toBuffer()
    const key = await imageStore().put(full)
    const get = async (url: string) => {
      const answer = await media({ request: new Request(`http://127.0.0.1${url}`), params: { key }, context: {} }).catch((e: unknown) => e)
      return answer instanceof Response ? answer : undefined
    }
    const preview = (await get(signedImageUrl(key, { width: 360 })))!
    expect(preview.headers.get('content-type')).toBe('image/webp')
    const bytes = Buffer.from(await preview.arrayBuffer())
    expect(bytes.length).toBeLessThan(full.length / 4)
    expect(await sharp(bytes).metadata()).toMatchObject({ format: 'webp', width: 270, height: 360 })
    const original = (await get(signedImageUrl(key)))!
    expect(original.headers.get('content-type')).toBe('image/jpeg')
    expect(Buffer.from(await original.arrayBuffer()).equals(full)).toBe(true)
    // The width is part of the signature: another width on the same link is refused.
    expect(await get(signedImageUrl(key, { width: 360 }).replace('w=360', 'w=2048'))).toBeUndefined()
  })
})
