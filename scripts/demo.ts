// `npm run demo`: sets up, renders the sample catalog with two looks on the
// built-in CPU backend, prints a table, then serves the app (worker included).
// `npm run demo -- --no-serve` exits after the table.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { env } from '#app/lib/env.server.ts'
import { isAppError } from '#app/lib/errors.ts'
import { startWebServer } from '#app/lib/server.server.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import type { Product } from '#app/modules/platforms/types.ts'
import { createRenders, listRenders } from '#app/modules/renders/service.server.ts'
import { localTenant } from '#app/modules/tenants/service.server.ts'
import { startBackgroundWork, stopOnSignals, stopProcess } from '#app/runtime.server.ts'
import type { Render } from '#db/schema.ts'
import { setup } from './setup.ts'

const serve = !process.argv.includes('--no-serve')
// why: the table is the demo's output; per-render log lines would bury it.
process.env.LOG_LEVEL ??= 'error'

const looks = [
  { label: 'US · studio white', marketId: 'us', sceneId: 'studio-white', seed: 1101 },
  { label: 'DE · loft', marketId: 'de', sceneId: 'loft', seed: 2202 },
] as const

interface Row {
  product: string
  look: string
  status: string
  score: string
  ms: string
  note: string
  renderId?: string
}

async function allProducts(tenant: Awaited<ReturnType<typeof localTenant>>): Promise<Product[]> {
  const out: Product[] = []
  let cursor: string | null = null
  do {
    const page = await platformFor(tenant).listProducts({ first: 100 }, cursor)
    out.push(...page.products)
    cursor = page.nextCursor
  } while (cursor)
  return out
}

function table(rows: Row[]): string {
  const head: Row = { product: 'product', look: 'look', status: 'status', score: 'score', ms: 'ms', note: 'note' }
  const cols = ['product', 'look', 'status', 'score', 'ms', 'note'] as const
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[head, ...rows].map((r) => r[c].length))]))
  const line = (r: Row) => cols.map((c) => (c === 'score' || c === 'ms' ? r[c].padStart(width[c]) : r[c].padEnd(width[c]))).join('  ').trimEnd()
  return [line(head), cols.map((c) => '-'.repeat(width[c])).join('  '), ...rows.map(line)].join('\n')
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

async function main() {
  await setup((line) => console.log(`setup: ${line}`))
  if (!existsSync(path.join(path.resolve(env().CATALOG_DIR)))) {
    console.log(`No catalog at ${env().CATALOG_DIR}: making the sample catalog ...`)
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/make-sample-catalog.ts', env().CATALOG_DIR], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error('making the sample catalog failed')
  }
  const tenant = await localTenant()
  // why all background work, not only renders: a bulk run started from the demo's UI needs the bulk worker.
  const work = await startBackgroundWork()
  const products = await allProducts(tenant)
  const rows: Row[] = []
  const started = Date.now()

  for (const product of products) {
    const image = product.images.find((i) => !i.ours)
    for (const look of looks) {
      const row: Row = { product: product.id, look: look.label, status: '', score: '-', ms: '-', note: '' }
      rows.push(row)
      if (!image) {
        Object.assign(row, { status: 'skipped', note: 'no image' })
        continue
      }
      try {
        const [r] = await createRenders(tenant, {
          productId: product.id,
          imageId: image.id,
          look: { personaId: null, marketId: look.marketId, sceneId: look.sceneId },
          seeds: [look.seed],
          priority: 'demo',
        })
        row.renderId = r.id
      } catch (e) {
        Object.assign(row, { status: 'refused', note: isAppError(e) ? `${e.code}: ${e.message}` : String(e) })
      }
    }
  }

  const ids = rows.flatMap((r) => (r.renderId ? [r.renderId] : []))
  let finished: Render[] = []
  for (;;) {
    const current = await listRenders(tenant.id, { ids, limit: 500 })
    finished = current.filter((r) => ['succeeded', 'failed', 'canceled'].includes(r.status))
    const running = current.filter((r) => r.status === 'running')
    const done = finished.length
    const elapsed = (Date.now() - started) / 1000
    const eta = done > 0 ? Math.round((elapsed / done) * (ids.length - done)) : null
    const partial = running.reduce((s, r) => s + r.progress / 100, 0)
    const pct = ids.length ? Math.round(((done + partial) / ids.length) * 100) : 100
    const msg = `rendering: ${done}/${ids.length} done (${pct}%), ${running.length} running${eta !== null ? `, ETA ${eta}s` : ''}`
    if (process.stdout.isTTY) process.stdout.write(`\r${msg}   `)
    else if (done === ids.length || Math.round(elapsed) % 5 === 0) console.log(msg)
    if (done === ids.length) break
    await new Promise((r) => setTimeout(r, 500))
  }
  if (process.stdout.isTTY) process.stdout.write('\n')

  const byId = new Map(finished.map((r) => [r.id, r]))
  for (const row of rows) {
    const r = row.renderId ? byId.get(row.renderId) : undefined
    if (!r) continue
    row.status = r.status
    row.score = r.fidelityScore === null ? '-' : r.fidelityScore.toFixed(1)
    row.ms = r.backendMs === null ? '-' : String(r.backendMs)
    row.note = r.errorCode ? `${r.errorCode}: ${r.errorMessage ?? ''}` : ''
  }
  console.log(`\n${table(rows)}\n`)
  const succeeded = finished.filter((r) => r.status === 'succeeded')
  const failed = rows.filter((r) => r.status === 'failed' || r.status === 'refused').length
  const summary = `DEMO renders=${rows.filter((r) => r.status !== 'skipped').length} failed=${failed} median_score=${median(succeeded.map((r) => r.fidelityScore ?? 0)).toFixed(1)}`

  if (!serve) {
    console.log(summary)
    await stopProcess({ name: 'demo', stop: () => work.close(), left: () => work.left() })
  }
  if (!existsSync('build/server/index.js')) {
    console.log('Building the web app (first run only) ...')
    const r = spawnSync('npx', ['remix', 'vite:build'], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error('build failed')
  }
  const server = await startWebServer()
  console.log(summary)
  console.log(`\nOpen ${server.url}/app to review, approve and publish. Ctrl-C stops.`)
  stopOnSignals({
    name: 'demo',
    // why the server first: its requests use the queues and the database the background work closes.
    async stop() {
      await server.close()
      await work.close()
    },
    left: () => work.left(),
  })
}

main().catch((e) => {
  console.error(isAppError(e) || e instanceof Error ? `demo failed: ${e.message}` : e)
  process.exit(1)
})
