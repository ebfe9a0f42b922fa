import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { isAppError } from '#app/lib/errors.ts'
import { applyMigrations, ensureDatabase } from '#app/lib/setup.server.ts'
import { imageStore } from '#app/lib/storage.server.ts'
import { confirmBulkRun, itemCounts, startBulkRun } from '#app/modules/bulk/service.server.ts'
import { createRenders } from '#app/modules/renders/service.server.ts'
import { renders } from '#db/schema.ts'
import { catalogImages, createLocalTenant, productSceneLook, removeCreatedTenants } from '#test/support/fixtures.ts'
import { startPrivatePostgres, startPrivateRedis, type PrivateService } from '#test/support/services.ts'
import { spawnWorkerProcess } from '#test/support/worker-process.ts'
import { auditBulkRun, auditRenders, knobs, readRun, until, type Tally } from '../harness.ts'

// The services under the app fail: its own Redis restarted mid-bulk-run
// (no persistence: every queue, scheduler and lock is gone), its own
// PostgreSQL restarted mid-run, and the image store's disk full.

/** Points this process (and the workers it spawns) at another service; call before anything connects. */
function use(name: 'REDIS_URL' | 'DATABASE_URL' | 'STORAGE_DIR', value: string): void {
  process.env[name] = value
  resetEnvCache()
}

const CLEAN_PRODUCTS = ['classic-graphic-tee', 'embroidered-cap', 'silk-slip-dress', 'leather-tote-bag']

export async function redisRestartedMidBulkRun(tally: Tally): Promise<void> {
  const redis: PrivateService = await startPrivateRedis()
  use('REDIS_URL', redis.url)
  try {
    const tenant = await createLocalTenant()
    const look = { operation: 'product_scene' as const, ...productSceneLook() }
    const otherLook = { ...look, sceneId: look.sceneId === 'loft' ? 'street' : 'loft' }
    const { run } = await startBulkRun(tenant, {
      selection: { kind: 'products', productIds: CLEAN_PRODUCTS },
      looks: [look, otherLook],
      images: { kind: 'featured' },
      maxInFlight: 2,
    })
    const worker = spawnWorkerProcess(knobs())
    tally.expect(!!(await until(async () => (await readRun(run.id))?.status === 'awaiting_confirmation', 60_000)), `the catalog read did not finish:\n${worker.output()}`)
    await confirmBulkRun(tenant, run.id)
    await until(async () => {
      const c = await itemCounts(db(), run.id)
      return c.succeeded + c.failed >= 2
    }, 90_000, 20)
    await redis.restart('kill')
    const at = await itemCounts(db(), run.id)
    tally.note(`Redis restarted empty at ${at.succeeded + at.failed} of 8 items done`)
    await auditBulkRun(tally, run.id, 8, 120_000)
    tally.expect(worker.alive(), `the worker died with Redis:\n${worker.output().slice(-2000)}`)
  } finally {
    await removeCreatedTenants().catch(() => {})
    await redis.destroy()
  }
}

export async function postgresRestartedMidRun(tally: Tally): Promise<void> {
  const pg = await startPrivatePostgres()
  try {
    await until(() => ensureDatabase(pg.url).then(() => true), 20_000, 200)
    await applyMigrations(pg.url)
    use('DATABASE_URL', pg.url)
    const tenant = await createLocalTenant()
    // why these products: their photos are on plain backgrounds, so every render can succeed.
    const images = (await catalogImages(tenant)).filter((i) => CLEAN_PRODUCTS.includes(i.productId))
    const made = []
    for (const productId of CLEAN_PRODUCTS) {
      const image = images.find((i) => i.productId === productId)!
      made.push(...(await createRenders(tenant, { productId, imageId: image.imageId, look: productSceneLook(), seeds: [41, 42, 43] })))
    }
    const worker = spawnWorkerProcess(knobs())
    await until(async () => (await db().select().from(renders).where(eq(renders.status, 'succeeded'))).length >= 2, 90_000, 20)
    await pg.restart('kill')
    const open = (await until(() => db().select().from(renders), 20_000))?.filter((r) => !['succeeded', 'failed'].includes(r.status)).length
    tally.note(`PostgreSQL killed and restarted with ${open ?? '?'} of ${made.length} renders not finished`)
    await auditRenders(tally, made.map((r) => r.id), { boundMs: 120_000, allowedErrors: [], mustSucceed: true })
    if (tally.problems.length > 0 || process.env.CHAOS_VERBOSE) tally.note(`worker output:\n${worker.output().slice(-4000)}`)
  } finally {
    // why here: the tenants (and their catalog copies) live in this server, gone after destroy().
    await removeCreatedTenants().catch(() => {})
    await pg.destroy()
  }
}

/** Fills the disk under `dir` to the last byte. */
function fillDisk(dir: string): string {
  const filler = path.join(dir, 'filler')
  const { bavail, bsize } = statfsSync(dir)
  try {
    writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 1)))
  } catch {
    // full before the last byte: that is the point
  }
  for (let i = 0; ; i++) {
    try {
      writeFileSync(`${filler}-${i}`, Buffer.alloc(4096))
    } catch {
      break
    }
  }
  return filler
}

export async function storageFull(tally: Tally): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-full-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' })
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`cannot mount a tmpfs for the full disk (run as root, with CAP_SYS_ADMIN in a container): ${(e as Error).message}`)
  }
  try {
    use('STORAGE_DIR', dir)
    const tenant = await createLocalTenant()
    const images = await catalogImages(tenant)
    const [first, second] = images
    const made = await createRenders(tenant, { productId: first.productId, imageId: first.imageId, look: productSceneLook(), seeds: [51, 52] })
    fillDisk(dir)

    // Asking for a render of an image not stored yet: refused at once, in words.
    const refused = await createRenders(tenant, { productId: second.productId, imageId: second.imageId, look: productSceneLook(), seeds: [53] }).catch((e: unknown) => e)
    tally.expect(isAppError(refused) && refused.code === 'STORAGE_FULL', `a render asked for on a full disk answered ${String(refused)}`)

    // The queued renders cannot store their results: they fail, with the reason.
    spawnWorkerProcess(knobs())
    await auditRenders(tally, made.map((r) => r.id), { boundMs: 60_000, allowedErrors: ['STORAGE_FULL'] })
    const leftovers = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.tmp'))
    if (leftovers.length > 0) tally.problem('broken', `${leftovers.length} temp file(s) left on the full disk`)
    for (const r of made) if (!(await imageStore().has(r.sourceKey))) tally.problem('lost', `the source of render ${r.id} is gone`)

    // Space freed: the same work goes through.
    for (const f of readdirSync(dir)) if (f.startsWith('filler')) rmSync(path.join(dir, f))
    const again = await createRenders(tenant, { productId: second.productId, imageId: second.imageId, look: productSceneLook(), seeds: [54] })
    await auditRenders(tally, again.map((r) => r.id), { boundMs: 60_000, allowedErrors: [], mustSucceed: true })
  } finally {
    try {
      execFileSync('umount', [dir])
    } catch {
      execFileSync('umount', ['-l', dir])
    }
    rmSync(dir, { recursive: true, force: true })
  }
}
