import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { eq, inArray } from 'drizzle-orm'
import sharp from 'sharp'
import { db } from '#app/lib/db.server.ts'
import { enqueueRender } from '#app/modules/renders/enqueue.server.ts'
import { imageStore, sha256 } from '#app/lib/storage.server.ts'
import { lookVersions, markets, outputSize, resolveLook } from '#app/modules/looks/index.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import { upsertTenant } from '#app/modules/tenants/service.server.ts'
import { renders, tenants, type Render, type Tenant, type TenantSettings } from '#db/schema.ts'
import { copyCatalog } from './isolation.ts'

const createdHere: { id: string; catalogDir: string }[] = []

/**
 * A fresh local tenant with its own copy of the sample catalog. why a random
 * external id: test files run in parallel against one database, and each must
 * only ever see its own shop.
 */
export async function createLocalTenant(settings: TenantSettings = {}): Promise<Tenant> {
  const created = await upsertTenant('local', `test-${randomUUID()}`, 'Test shop')
  const catalogDir = copyCatalog()
  createdHere.push({ id: created.id, catalogDir })
  const [row] = await db()
    .update(tenants)
    .set({ settings: { ...created.settings, catalogDir, ...settings } })
    .where(eq(tenants.id, created.id))
    .returning()
  return row
}

/** Deletes the tenants this process created (their renders, publications and ledger rows cascade) and their catalog copies. */
export async function removeCreatedTenants(): Promise<void> {
  const created = createdHere.splice(0)
  if (created.length === 0) return
  const ids = created.map((t) => t.id)
  await db().delete(tenants).where(inArray(tenants.id, ids))
  for (const t of created) rmSync(t.catalogDir, { recursive: true, force: true })
}

export interface CatalogImage {
  productId: string
  productTitle: string
  imageId: string
  pixels: number
}

/** Every original image of the tenant's catalog, found through the platform (not the folder layout). */
export async function catalogImages(tenant: Tenant): Promise<CatalogImage[]> {
  const platform = platformFor(tenant)
  const out: CatalogImage[] = []
  let cursor: string | null = null
  do {
    const page = await platform.listProducts({ first: 100 }, cursor)
    for (const product of page.products) {
      for (const image of product.images.filter((i) => !i.ours)) {
        out.push({
          productId: product.id,
          productTitle: product.title,
          imageId: image.id,
          pixels: (image.width ?? 0) * (image.height ?? 0),
        })
      }
    }
    cursor = page.nextCursor
  } while (cursor)
  if (out.length === 0) throw new Error(`the catalog of tenant ${tenant.id} has no images`)
  return out.sort((a, b) => a.pixels - b.pixels)
}

/** A look that needs no persona (so the CPU backend can do it): the first market's first scene. */
export function productSceneLook() {
  const market = markets[0]
  return { personaId: null, marketId: market.id, sceneId: market.defaultScenes[0] }
}

/** A small product-like PNG: a coloured block with a stripe, on white. */
export async function sampleProductPng(seed = 0): Promise<Buffer> {
  const hue = (seed * 47) % 255
  const stripe = await sharp({ create: { width: 120, height: 16, channels: 3, background: { r: 20, g: 20, b: 20 } } })
    .png()
    .toBuffer()
  const block = await sharp({ create: { width: 120, height: 160, channels: 3, background: { r: 200, g: hue, b: 60 } } })
    .composite([{ input: stripe, left: 0, top: 60 }])
    .png()
    .toBuffer()
  return sharp({ create: { width: 200, height: 240, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([{ input: block, left: 40, top: 40 }])
    .png()
    .toBuffer()
}

/**
 * Records (and by default queues) a render that names a given backend,
 * bypassing createRenders' backend choice. why: tests register backends that
 * fail on purpose and must be the one a render uses, whatever else is connected.
 */
export async function insertRender(
  tenant: Tenant,
  opts: {
    backend: string
    enqueue?: boolean
    source?: Buffer
    productRef?: string
    maxEdge?: number
    /** A model change needs a persona look (and, on GPU backends, the merchant's garment mask). */
    look?: { personaId: string | null; marketId: string; sceneId: string }
    operation?: Render['operation']
    maskKey?: string
  },
): Promise<Render> {
  const png = opts.source ?? (await sampleProductPng())
  const sourceKey = await imageStore().put(png)
  const look = resolveLook(opts.look ?? productSceneLook())
  const { width, height } = outputSize(look.market.aspectRatio, opts.maxEdge ?? 320)
  const [row] = await db()
    .insert(renders)
    .values({
      tenantId: tenant.id,
      idempotencyKey: `test:${randomUUID()}`,
      productRef: opts.productRef ?? `test-product-${randomUUID().slice(0, 8)}`,
      productTitle: 'Test tote',
      sourceImageRef: 'front.png',
      sourceSha256: sha256(png),
      sourceKey,
      operation: opts.operation ?? 'product_scene',
      maskKey: opts.maskKey ?? null,
      ...lookVersions(look),
      backend: opts.backend,
      seed: 1,
      outputWidth: width,
      outputHeight: height,
    })
    .returning()
  if (opts.enqueue ?? true) await enqueueRender(row.id)
  return row
}
