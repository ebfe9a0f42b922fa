import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { createLocalPlatform } from '#app/modules/platforms/local.server.ts'

// Checks the committed output of scripts/make-sample-catalog.ts, read through
// the local platform exactly as the app reads it.

const catalogDir = path.resolve(import.meta.dirname, '..', 'catalog')
const platform = createLocalPlatform(catalogDir)

/** Largest per-channel standard deviation along the image border (a 2% frame). */
async function borderSpread(bytes: Buffer): Promise<number> {
  const { width = 0, height = 0 } = await sharp(bytes).metadata()
  const band = Math.max(4, Math.round(Math.min(width, height) * 0.02))
  const strips = [
    { left: 0, top: 0, width, height: band },
    { left: 0, top: height - band, width, height: band },
    { left: 0, top: 0, width: band, height },
    { left: width - band, top: 0, width: band, height },
  ]
  let spread = 0
  for (const strip of strips) {
    // why: stats() describes a pipeline's input, so the strip is cut out first.
    const pixels = await sharp(bytes).removeAlpha().extract(strip).png().toBuffer()
    const stats = await sharp(pixels).stats()
    spread = Math.max(spread, ...stats.channels.map((c) => c.stdev))
  }
  return spread
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size
  }
  return total
}

describe('sample catalog', () => {
  it('has at least 10 valid products and no malformed folders', async () => {
    const page = await platform.listProducts({ first: 100 }, null)
    expect(page.products.length).toBeGreaterThanOrEqual(10)
    expect(await platform.listProblems()).toEqual([])
    for (const product of page.products) {
      expect(product.status).toBe('active')
      expect(product.vendor && product.productType, product.id).toBeTruthy()
      for (const image of product.images) expect(image.alt, `${product.id}/${image.id}`).toBeTruthy()
    }
    expect(page.products.some((p) => p.images.length >= 2)).toBe(true)
  })

  it('has realistic sizes and formats, one PNG with alpha, under 6 MB', async () => {
    const page = await platform.listProducts({ first: 100 }, null)
    const formats: string[] = []
    for (const product of page.products) {
      for (const image of product.images) {
        const meta = await sharp(await platform.readImage(product.id, image.id)).metadata()
        expect(Math.max(meta.width ?? 0, meta.height ?? 0), image.id).toBeGreaterThanOrEqual(900)
        expect(Math.max(meta.width ?? 0, meta.height ?? 0), image.id).toBeLessThanOrEqual(2048)
        formats.push(`${meta.format}${meta.hasAlpha ? '+alpha' : ''}`)
      }
    }
    expect(formats).toContain('png+alpha')
    expect(formats.filter((f) => f === 'jpeg').length).toBeGreaterThanOrEqual(9)
    expect(await folderBytes(catalogDir)).toBeLessThan(6 * 1024 * 1024)
  })

  it('has uniform light borders except the busy-background sneakers', async () => {
    const page = await platform.listProducts({ first: 100 }, null)
    for (const product of page.products) {
      for (const image of product.images) {
        if (image.id.endsWith('.png')) continue
        const spread = await borderSpread(await platform.readImage(product.id, image.id))
        if (product.id === 'retro-court-sneakers') expect(spread, product.id).toBeGreaterThan(25)
        else expect(spread, product.id).toBeLessThan(3)
      }
    }
  })
})
