// Catalog ingest benchmark: a Shopify bulk-operation result (JSONL: products,
// then their media rows with __parentId, never next to their parent) for
// 10,000 products / 30,000 images, served over HTTP, streamed line by line
// and turned into bulk run items in Postgres — the path a "regenerate all
// listings" run takes on a large shop.
//
//   node --expose-gc --import tsx test/bench/ingest.bench.ts
//
// Each measurement runs in a fresh process so its peak RSS is its own:
//   baseline  the same download read line by line and JSON.parse'd, nothing kept
//   ingest    jsonlCatalogImages → writeItems (batched INSERT … ON CONFLICT DO NOTHING)
// and ingest runs again on a file twice as large: streaming must keep peak
// RSS flat (only a batch at a time, plus one small entry per product).
//
// Knobs: BENCH_INGEST_PRODUCTS (10000), BENCH_INGEST_IMAGES_PER_PRODUCT (3),
// BENCH_INGEST_RSS_GROWTH_MB (allowed peak RSS growth for the doubled file, 24).
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { cleanupList, positiveInt, prepareBenchDatabase } from './support.ts'

// why set before any app module reads env(): the bench never touches the
// developer's database or queue.
process.env.NODE_ENV ??= 'test'
process.env.LOG_LEVEL ??= 'warn'
process.env.DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/atelier_bench'
process.env.QUEUE_PREFIX = `atelier-bench-${process.pid}`

const PRODUCTS = positiveInt('BENCH_INGEST_PRODUCTS', 10_000)
const PER_PRODUCT = positiveInt('BENCH_INGEST_IMAGES_PER_PRODUCT', 3)
const RSS_GROWTH_MB = positiveInt('BENCH_INGEST_RSS_GROWTH_MB', 24)
const SAMPLE_MS = 5

interface Measurement {
  mode: 'baseline' | 'ingest'
  products: number
  lines: number
  images: number
  items: number
  ms: number
  startRssMb: number
  peakRssMb: number
}

// ---------------------------------------------------------------------------
// Child: one measurement in its own process

function rssSampler() {
  let peak = process.memoryUsage().rss
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, SAMPLE_MS)
  return {
    stop(): number {
      clearInterval(timer)
      return Math.max(peak, process.memoryUsage().rss) / 2 ** 20
    },
  }
}

async function child(mode: Measurement['mode'], url: string, products: number): Promise<Measurement> {
  const { remoteLines, jsonlCatalogImages } = await import('#app/modules/shopify/platform/bulk-catalog.server.ts')
  const { writeItems } = await import('#app/modules/bulk/service.server.ts')
  const { closeDb, db } = await import('#app/lib/db.server.ts')
  const { upsertTenant } = await import('#app/modules/tenants/service.server.ts')
  const { bulkRunItems, bulkRuns, tenants } = await import('#db/schema.ts')
  const { count, eq } = await import('drizzle-orm')

  // Everything the ingest needs is loaded and connected before measuring.
  const domain = `atelier-bench-${randomUUID().slice(0, 8)}.myshopify.com`
  const tenant = await upsertTenant('shopify', domain, 'Ingest bench')
  const [run] = await db()
    .insert(bulkRuns)
    .values({
      tenantId: tenant.id,
      idempotencyKey: `bench:${randomUUID()}`,
      selection: { kind: 'all' },
      looks: [{ operation: 'product_scene', marketId: 'us', sceneId: 'studio-white', personaId: null }],
      images: { kind: 'all' },
    })
    .returning()
  global.gc?.()
  const startRssMb = process.memoryUsage().rss / 2 ** 20
  const sampler = rssSampler()
  const started = performance.now()
  let lines = 0
  let images = 0
  let items = 0
  try {
    if (mode === 'baseline') {
      for await (const line of remoteLines(url)) {
        if (line) JSON.parse(line)
        lines++
      }
    } else {
      const stats = { products: 0, media: 0, skipped: 0, orphans: 0 }
      const written = await writeItems(run, jsonlCatalogImages(remoteLines(url), stats), { checkOurs: true })
      lines = stats.products + stats.media
      images = written.images
      items = written.items
    }
    const ms = performance.now() - started
    const peakRssMb = sampler.stop()
    if (mode === 'ingest') {
      const [{ n }] = await db().select({ n: count() }).from(bulkRunItems).where(eq(bulkRunItems.runId, run.id))
      if (n !== items || items !== products * PER_PRODUCT)
        throw new Error(`ingest wrote ${n} rows (reported ${items}), expected ${products * PER_PRODUCT}`)
    }
    return { mode, products, lines, images, items, ms, startRssMb, peakRssMb }
  } finally {
    await db().delete(tenants).where(eq(tenants.id, tenant.id))
    await closeDb()
  }
}

// ---------------------------------------------------------------------------
// Parent: the file, the server, the processes, the verdict

/**
 * Writes a bulk result the way Shopify shapes it (groupObjects: false): a
 * product's media rows come after the next product, never adjacent.
 */
async function writeCatalog(file: string, products: number): Promise<void> {
  const out = createWriteStream(file)
  const write = (line: string) =>
    out.write(line) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve))
  let pending: string[] = []
  let media = 1
  for (let p = 1; p <= products; p++) {
    const id = `gid://shopify/Product/${p}`
    await write(`${JSON.stringify({ id, title: `Bench product ${String(p).padStart(5, '0')}` })}\n`)
    for (const line of pending) await write(line)
    pending = []
    for (let k = 0; k < PER_PRODUCT; k++, media++) {
      pending.push(
        `${JSON.stringify({
          id: `gid://shopify/MediaImage/${media}`,
          mediaContentType: 'IMAGE',
          status: 'READY',
          image: { url: `https://cdn.shopify.com/s/files/1/0000/0001/files/bench-${p}-${k}.jpg?v=1700000000` },
          __parentId: id,
        })}\n`,
      )
    }
  }
  for (const line of pending) await write(line)
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
}

function serve(dir: string): Promise<{ url: (name: string) => string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const name = path.basename(new URL(req.url ?? '/', 'http://x').pathname)
    const file = path.join(dir, name)
    res.writeHead(200, { 'content-type': 'application/jsonl', 'content-length': String(statSync(file).size) })
    createReadStream(file).pipe(res)
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: (name) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/${name}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    ),
  )
}

function measure(mode: Measurement['mode'], url: string, products: number): Promise<Measurement> {
  const self = fileURLToPath(import.meta.url)
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--child', mode, url, String(products)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    })
    let out = ''
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()))
    proc.on('exit', (code) => {
      const line = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .at(-1)
      if (code !== 0 || !line) reject(new Error(`${mode} of ${products} products exited ${code}:\n${out}`))
      else resolve(JSON.parse(line) as Measurement)
    })
  })
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-ingest-'))
  const cleanup = cleanupList([() => rmSync(dir, { recursive: true, force: true })])
  try {
    await prepareBenchDatabase()
    const files = [
      { name: 'catalog-1x.jsonl', products: PRODUCTS },
      { name: 'catalog-2x.jsonl', products: PRODUCTS * 2 },
    ]
    for (const f of files) await writeCatalog(path.join(dir, f.name), f.products)
    const server = await serve(dir)
    cleanup.add(() => server.close())

    const [one, two] = files
    const baseline = await measure('baseline', server.url(one.name), one.products)
    const ingest = await measure('ingest', server.url(one.name), one.products)
    const doubled = await measure('ingest', server.url(two.name), two.products)

    const mb = (f: { name: string }) => (statSync(path.join(dir, f.name)).size / 2 ** 20).toFixed(1)
    const rate = (m: Measurement, n: number) => (n / (m.ms / 1000)).toFixed(0)
    const growth = doubled.peakRssMb - ingest.peakRssMb
    const table: [string, string][] = [
      ['file (1×)', `${one.products} products, ${one.products * PER_PRODUCT} images, ${baseline.lines} lines, ${mb(one)} MB`],
      ['file (2×)', `${two.products} products, ${two.products * PER_PRODUCT} images, ${mb(two)} MB`],
      [
        'baseline: read + JSON.parse (1×)',
        `${baseline.ms.toFixed(0)} ms, ${rate(baseline, baseline.lines)} lines/s, peak RSS ${baseline.peakRssMb.toFixed(1)} MB`,
      ],
      [
        'ingest into items (1×)',
        `${ingest.ms.toFixed(0)} ms, ${rate(ingest, ingest.products)} products/s, ${rate(ingest, ingest.items)} items/s`,
      ],
      ['  vs baseline', `${(ingest.ms / baseline.ms).toFixed(1)}× the time of reading the file`],
      ['  peak RSS (start → peak)', `${ingest.startRssMb.toFixed(1)} → ${ingest.peakRssMb.toFixed(1)} MB`],
      [
        'ingest into items (2×)',
        `${doubled.ms.toFixed(0)} ms, ${rate(doubled, doubled.products)} products/s, ${doubled.items} items`,
      ],
      ['  peak RSS (start → peak)', `${doubled.startRssMb.toFixed(1)} → ${doubled.peakRssMb.toFixed(1)} MB`],
      [
        'peak RSS growth, 2× file vs 1×',
        `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB (allowed ${RSS_GROWTH_MB} MB; the file grew by ${(Number(mb(two)) - Number(mb(one))).toFixed(1)} MB)`,
      ],
    ]
    const width = Math.max(...table.map(([k]) => k.length))
    for (const [k, v] of table) console.log(`${k.padEnd(width)}  ${v}`)
    if (growth > RSS_GROWTH_MB)
      throw new Error(`peak RSS grew by ${growth.toFixed(1)} MB when the file doubled: the ingest is not streaming`)
    console.log(`BENCH ingest products_per_s=${rate(ingest, ingest.products)} peak_rss_mb=${ingest.peakRssMb.toFixed(1)}`)
  } finally {
    await cleanup.run()
  }
}

const args = process.argv.slice(2)
if (args[0] === '--child') {
  child(args[1] as Measurement['mode'], args[2], Number(args[3])).then(
    (m) => {
      console.log(JSON.stringify(m))
      process.exit(0)
    },
    (err: unknown) => {
      console.error(err)
      process.exit(1)
    },
  )
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err)
      process.exit(1)
    },
  )
}
