import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { imageStore } from '#app/lib/storage.server.ts'
import { processRender } from '#app/modules/renders/jobs.server.ts'
import { approveRender, createRenders, publicationsOf, publishRender, undoPublish } from '#app/modules/renders/service.server.ts'
import { renders, type Render, type Tenant } from '#db/schema.ts'
import { catalogImages, createLocalTenant, productSceneLook, type CatalogImage } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { readRender, releaseAll } from '#test/support/queue.ts'

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

let prefix: string
let tenant: Tenant
let image: CatalogImage
let render: Render
let productDir: string
let before: Record<string, string>

/** sha256 of every file in the product folder, by name. */
async function folderHashes(): Promise<Record<string, string>> {
  const names = (await readdir(productDir)).sort()
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, sha256(await readFile(path.join(productDir, n)))])))
}

async function manifestFiles(): Promise<string[]> {
  const text = await readFile(path.join(productDir, 'atelier.json'), 'utf8').catch(() => null)
  return text === null ? [] : (JSON.parse(text) as { images: { file: string }[] }).images.map((i) => i.file)
}

beforeAll(async () => {
  prefix = isolateQueue()
  tenant = await createLocalTenant()
  image = (await catalogImages(tenant))[0]
  productDir = path.join(tenant.settings.catalogDir!, image.productId)
  before = await folderHashes()
  // why: the real CPU backend, run in this process (no worker needed): what
  // gets published is a real render and its real fidelity score.
  const [created] = await createRenders(tenant, {
    productId: image.productId,
    imageId: image.imageId,
    look: productSceneLook(),
    seeds: [42],
  })
  const done = await processRender(created.id)
  expect(done?.status).toBe('succeeded')
  render = done!
}, 120_000)

afterAll(async () => {
  await releaseAll(prefix)
})

describe('publish and undo on the local platform', () => {
  it('publishing needs an approved render', async () => {
    await expect(publishRender(tenant, render.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' })
    expect(await folderHashes()).toEqual(before)
  })

  it('below the fidelity threshold, publishing needs the merchant to override', async () => {
    const [created] = await createRenders(tenant, {
      productId: image.productId,
      imageId: image.imageId,
      look: productSceneLook(),
      seeds: [43],
    })
    await processRender(created.id)
    await approveRender(tenant.id, created.id)
    // why: the CPU backend keeps the product's pixels, so its real scores sit
    // near 100; a score below the threshold is set here to exercise the gate.
    await db()
      .update(renders)
      .set({ fidelityScore: env().FIDELITY_THRESHOLD - 1 })
      .where(eq(renders.id, created.id))
    await expect(publishRender(tenant, created.id)).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
      details: { needsOverride: true },
    })
    expect(await folderHashes()).toEqual(before)
    expect(await publicationsOf(tenant.id, created.id)).toEqual([])
    expect((await readRender(created.id)).reviewState).toBe('approved')

    expect((await publishRender(tenant, created.id, { override: true })).reviewState).toBe('published')
    expect(await publicationsOf(tenant.id, created.id)).toHaveLength(1)
    expect((await undoPublish(tenant, created.id)).reviewState).toBe('unpublished')
    const { ['atelier.json']: _manifest, ...originals } = await folderHashes()
    expect(originals).toEqual(before)
  })

  it('publishes an approved render into the product folder, once', async () => {
    await approveRender(tenant.id, render.id)
    expect(render.fidelityScore).toBeGreaterThanOrEqual(env().FIDELITY_THRESHOLD)
    const published = await publishRender(tenant, render.id)
    expect(published.reviewState).toBe('published')

    const [publication] = await publicationsOf(tenant.id, render.id)
    expect(publication).toMatchObject({ tenantId: tenant.id, platform: 'local', productRef: image.productId, undoneAt: null })
    expect(publication.altText.length).toBeGreaterThan(0)
    const after = await folderHashes()
    // The originals are untouched; one file of ours was added, with the render's bytes.
    for (const [name, hash] of Object.entries(before)) expect(after[name], name).toBe(hash)
    const added = Object.keys(after).filter((n) => !(n in before) && n !== 'atelier.json')
    expect(added).toEqual([publication.externalId])
    expect(after[publication.externalId!]).toBe(sha256(await imageStore().get(render.resultKey!)))
    expect(await manifestFiles()).toEqual([publication.externalId])
  })

  it('publishing again is a no-op: still one file and one publication', async () => {
    const snapshot = await folderHashes()
    const again = await publishRender(tenant, render.id)
    expect(again.reviewState).toBe('published')
    expect(await folderHashes()).toEqual(snapshot)
    expect(await publicationsOf(tenant.id, render.id)).toHaveLength(1)
    expect(await manifestFiles()).toHaveLength(1)
  })

  it('undo removes exactly the published file and leaves the originals byte-identical', async () => {
    const [publication] = await publicationsOf(tenant.id, render.id)
    const undone = await undoPublish(tenant, render.id)
    expect(undone.reviewState).toBe('unpublished')

    const after = await folderHashes()
    expect(after[publication.externalId!]).toBeUndefined()
    expect(await manifestFiles()).toEqual([])
    const { ['atelier.json']: _manifest, ...originals } = after
    expect(originals).toEqual(before)
    const [record] = await publicationsOf(tenant.id, render.id)
    expect(record.id).toBe(publication.id)
    expect(record.undoneAt).toBeInstanceOf(Date)
    // The product no longer lists our image as one of its own.
    expect((await readRender(render.id)).reviewState).toBe('unpublished')
  })

  it('undo again is a no-op, and a later publish adds the image back once', async () => {
    expect((await undoPublish(tenant, render.id)).reviewState).toBe('unpublished')
    const republished = await publishRender(tenant, render.id)
    expect(republished.reviewState).toBe('published')
    const pubs = await publicationsOf(tenant.id, render.id)
    expect(pubs).toHaveLength(2)
    expect(pubs.filter((p) => p.undoneAt === null)).toHaveLength(1)
    expect(await manifestFiles()).toHaveLength(1)
    await undoPublish(tenant, render.id)
    const { ['atelier.json']: _manifest, ...originals } = await folderHashes()
    expect(originals).toEqual(before)
  })
})
