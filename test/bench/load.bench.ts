// Load benchmark: autocannon against the built app in local mode (its own
// process, as `npm start` runs it) while a render worker (its own process, as
// `npm run worker` runs it) renders on the zero-latency backend. Each target
// gets LOAD_SECONDS of load; the worker's renders/s during each is compared
// with its renders/s with no HTTP load, in quiet windows half as long before,
// between and after the loads of the same run.
//
//   node --import tsx test/bench/load.bench.ts
//
// Targets: the products list (/app, the document), a studio page with renders
// in progress, a render result (/media/<key>), a list thumbnail (/media/t/…),
// and /api/renders: the extension's looks list (GET) at full rate, while
// renders are started (POST) at LOAD_POSTS_PER_S, a busy admin's pace. why
// not POST at full rate: every POST is a new, billed render (the route takes
// no idempotency key and picks random seeds), so flooding it measures the
// queue's backlog, not the web process.
//
// Knobs: LOAD_SECONDS (30), LOAD_CONNECTIONS (10), LOAD_RATE (requests/s per
// target; default none: as fast as the server answers), LOAD_POSTS_PER_S (2),
// LOAD_BACKLOG (40 renders kept queued), LOAD_LOG_LEVEL (info, as in
// production), LOAD_DATABASE_URL (…/atelier_bench_load, dropped and recreated).
import { cleanupList, positiveInt, sleep } from './support.ts'
import path from 'node:path'
import { cpuSeconds, freePort, freshDatabase, isolateBench, localServerEnv, machineBusySeconds, startServerProcess } from './load-processes.ts'

const { storageDir, removeFolders } = isolateBench('load', process.env.LOAD_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/atelier_bench_load')
// why the smallest output the app allows: the backend costs nothing, and what
// is measured is the worker's bookkeeping next to the web process, not encoding.
process.env.MAX_OUTPUT_EDGE = '256'

const SECONDS = positiveInt('LOAD_SECONDS', 30)
const QUIET_SECONDS = Math.max(1, Math.round(SECONDS / 2))
const CONNECTIONS = positiveInt('LOAD_CONNECTIONS', 10)
const POSTS_PER_S = positiveInt('LOAD_POSTS_PER_S', 2)
const BACKLOG = positiveInt('LOAD_BACKLOG', 40)
const LOG_LEVEL = process.env.LOAD_LOG_LEVEL ?? 'info'
// why optional: by default each target is loaded as fast as it answers (closed loop); a rate holds it to that many requests/s.
const RATE = process.env.LOAD_RATE ? positiveInt('LOAD_RATE', 1) : undefined
const WARMUP_REQUESTS = 20
const TARGETS = { errors: 0, listP99Ms: 300, renderSlowdown: 1.3 }

const cleanup = cleanupList(removeFolders)

interface Window {
  name: string
  seconds: number
  rendered: number
  cpu: { server: number; worker: number; bench: number; machine: number }
  http: { path: string; rps: number; p50: number; p99: number; errors: number; statuses: string; requests: number }[]
}

async function main(): Promise<void> {
  await freshDatabase(process.env.DATABASE_URL!)

  const autocannon = (await import('autocannon')).default
  const { and, count, eq, gte, inArray, lt } = await import('drizzle-orm')
  const { db } = await import('#app/lib/db.server.ts')
  const { env } = await import('#app/lib/env.server.ts')
  const { productImageUrl } = await import('#app/lib/media.server.ts')
  const { signedImageUrl } = await import('#app/lib/storage.server.ts')
  const { createRenders } = await import('#app/modules/renders/service.server.ts')
  const { localTenant } = await import('#app/modules/tenants/service.server.ts')
  const { renders } = await import('#db/schema.ts')
  const { catalogImages, productSceneLook } = await import('#test/support/fixtures.ts')
  const { closeQueues } = await import('#app/modules/renders/enqueue.server.ts')
  const { closeDb } = await import('#app/lib/db.server.ts')
  const { deleteQueueKeys } = await import('#test/support/queue.ts')
  const { killWorkerProcesses, spawnWorkerProcess } = await import('#test/support/worker-process.ts')

  const e = env()
  cleanup.add(async () => {
    await closeQueues()
    await deleteQueueKeys(e.QUEUE_PREFIX)
    await closeDb()
  })
  const shared = {
    NODE_ENV: 'production' as const,
    LOG_LEVEL,
    SIGNING_SECRET: e.SIGNING_SECRET,
    MAX_OUTPUT_EDGE: String(e.MAX_OUTPUT_EDGE),
  }

  const worker = spawnWorkerProcess(shared, 'test/bench/load-worker.ts')
  cleanup.add(killWorkerProcesses)
  await worker.ready
  const port = await freePort()
  const logFile = path.join(storageDir, 'server.log')
  const server = await startServerProcess(localServerEnv(e, port, shared), logFile)
  cleanup.add(() => server.stop())
  const origin = `http://127.0.0.1:${port}`

  // The tenant the server serves, and the catalog's smallest photo: the studio page's product and what the renders start from.
  const tenant = await localTenant()
  const [image] = await catalogImages(tenant)
  const look = productSceneLook()
  let nextSeed = 1
  const seeds = (n: number) => Array.from({ length: n }, () => nextSeed++)

  async function openRenders(): Promise<number> {
    const [{ n }] = await db()
      .select({ n: count() })
      .from(renders)
      .where(and(eq(renders.tenantId, tenant.id), inArray(renders.status, ['queued', 'retrying', 'running'])))
    return n
  }

  async function settled(
    statuses: ('succeeded' | 'failed' | 'canceled')[],
    from = new Date(0),
    to = new Date(),
  ): Promise<number> {
    const [{ n }] = await db()
      .select({ n: count() })
      .from(renders)
      .where(
        and(
          eq(renders.tenantId, tenant.id),
          inArray(renders.status, statuses),
          gte(renders.finishedAt, from),
          lt(renders.finishedAt, to),
        ),
      )
    return n
  }

  // Warm up: renders to show on the studio page and a result to serve from /media.
  const warm = await createRenders(tenant, { productId: image.productId, imageId: image.imageId, look, seeds: seeds(10) })
  for (let deadline = Date.now() + 60_000; (await openRenders()) > 0; await sleep(200)) {
    if (Date.now() > deadline) throw new Error(`warm-up renders did not finish in 60 s:\n${worker.output()}`)
  }
  const [done] = await db()
    .select()
    .from(renders)
    .where(and(eq(renders.id, warm[0].id), eq(renders.status, 'succeeded')))
  if (!done?.resultKey) throw new Error(`the first warm-up render did not succeed:\n${worker.output()}`)

  // Keeps the worker busy for the whole run: a backlog of queued renders, topped up.
  let feeding = true
  const feeder = (async () => {
    while (feeding) {
      if ((await openRenders()) < BACKLOG) {
        await createRenders(tenant, { productId: image.productId, imageId: image.imageId, look, seeds: seeds(BACKLOG) })
      }
      await sleep(250)
    }
  })()
  cleanup.add(async () => {
    feeding = false
    await feeder
  })

  const headers = { origin, 'sec-fetch-site': 'same-origin' }
  const target = (p: string) => ({ url: `${origin}${p}`, connections: CONNECTIONS, duration: SECONDS, headers })
  const studioPath = `/app/products/${encodeURIComponent(image.productId)}`
  const postBody = JSON.stringify({ productIds: [image.productId], look, variants: 2 })

  async function measure(name: string, load: () => Promise<Window['http']>): Promise<Window> {
    const cpu = () => ({
      server: cpuSeconds(server.pid),
      worker: cpuSeconds(worker.child.pid!),
      bench: process.cpuUsage(),
      machine: machineBusySeconds(),
    })
    const before = cpu()
    const from = new Date()
    const http = await load()
    const to = new Date()
    const after = cpu()
    const seconds = (to.getTime() - from.getTime()) / 1000
    const benchCpu = (after.bench.user + after.bench.system - before.bench.user - before.bench.system) / 1e6
    return {
      name,
      seconds,
      rendered: await settled(['succeeded'], from, to),
      cpu: {
        server: after.server - before.server,
        worker: after.worker - before.worker,
        bench: benchCpu,
        machine: after.machine - before.machine,
      },
      http,
    }
  }

  async function hammer(p: string, extra: Partial<Parameters<typeof autocannon>[0]> = {}): Promise<Window['http'][number]> {
    // why a warm-up: the first requests of a route compile its code; a server in production is warm.
    if (!extra.method) await autocannon({ ...target(p), connections: 1, amount: WARMUP_REQUESTS })
    const r = await autocannon({ ...target(p), ...(RATE ? { overallRate: RATE } : {}), ...extra })
    const statuses = Object.entries(r.statusCodeStats)
      .map(([code, s]) => `${code}×${s.count}`)
      .join(' ')
    return {
      path: `${extra.method ?? 'GET'} ${p.replace(/\?.*/, '?…')}`,
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: r.non2xx + r.errors,
      statuses,
      requests: r.requests.total,
    }
  }

  const loads: [string, () => Promise<Window['http']>][] = [
    ['products list', async () => [await hammer('/app')]],
    ['studio page', async () => [await hammer(studioPath)]],
    ['media: render result', async () => [await hammer(signedImageUrl(done.resultKey!))]],
    ['media: list thumbnail', async () => [await hammer(productImageUrl(tenant.id, image.productId, image.imageId, 160))]],
    [
      'api/renders',
      async () =>
        Promise.all([
          hammer('/api/renders'),
          hammer('/api/renders', {
            method: 'POST',
            body: postBody,
            headers: { ...headers, 'content-type': 'application/json' },
            connections: 1,
            overallRate: POSTS_PER_S,
          }),
        ]),
    ],
  ]
  // why a quiet window between every two loads: on shared cores the worker's pace drifts with what
  // others run, and quiet windows spread over the run average that drift out of the comparison.
  const quiet = async () => (await sleep(QUIET_SECONDS * 1000), [])
  const windows: Window[] = [await measure('no HTTP load', quiet)]
  for (const [name, load] of loads) {
    windows.push(await measure(name, load))
    windows.push(await measure('no HTTP load', quiet))
  }
  feeding = false
  await feeder
  const failed = await settled(['failed', 'canceled'])

  // why before the report: the BENCH line is the last line, whatever cleanup prints.
  await cleanup.run()
  report(windows, failed, image)
}

function report(windows: Window[], failedRenders: number, image: { productId: string; imageId: string }): void {
  const rate = (w: Window) => w.rendered / w.seconds
  const quiet = windows.filter((w) => w.http.length === 0)
  const loaded = windows.filter((w) => w.http.length > 0)
  const quietRate = quiet.reduce((s, w) => s + w.rendered, 0) / quiet.reduce((s, w) => s + w.seconds, 0)
  const loadedRate = loaded.reduce((s, w) => s + w.rendered, 0) / loaded.reduce((s, w) => s + w.seconds, 0)
  const pace = RATE ? `${RATE} req/s per target` : 'as fast as answered'
  // why the machine's figure: on shared cores, what others ran (and Postgres, Redis) explains a noisy window.
  console.log(
    `${SECONDS} s per load, ${QUIET_SECONDS} s per quiet window, ${CONNECTIONS} connections, ${pace}, source ${image.productId}/${image.imageId}`,
  )
  console.log('window                     renders/s  cores used: server worker bench machine')
  for (const w of windows) {
    const cores = [w.cpu.server, w.cpu.worker, w.cpu.bench, w.cpu.machine].map((c, i) =>
      (c / w.seconds).toFixed(2).padStart([17, 6, 5, 7][i]),
    )
    // why CPU per request: unlike latency, it hardly moves with what else the machine runs.
    const served = w.http.reduce((n, h) => n + h.requests, 0)
    const perRequest = served > 0 ? `  server ${((w.cpu.server * 1000) / served).toFixed(1)} ms CPU/request` : ''
    console.log(`${w.name.padEnd(26)} ${rate(w).toFixed(1).padStart(9)}${cores.join(' ')}${perRequest}`)
    for (const h of w.http) {
      console.log(
        `  ${h.path.padEnd(32)} ${h.rps.toFixed(1).padStart(7)} req/s  p50 ${h.p50} ms  p99 ${h.p99} ms  errors ${h.errors}  [${h.statuses}]`,
      )
    }
  }
  const http = loaded.flatMap((w) => w.http)
  const errors = http.reduce((s, h) => s + h.errors, 0)
  const list = http.find((h) => h.path === 'GET /app')!
  const media = http.find((h) => h.path.startsWith('GET /media/') && !h.path.startsWith('GET /media/t/'))!
  const slowdown = quietRate / loadedRate
  console.log(
    `renders/s: ${quietRate.toFixed(1)} with no HTTP load, ${loadedRate.toFixed(1)} under load; failed renders ${failedRenders}`,
  )
  const misses = [
    errors > TARGETS.errors && `${errors} HTTP errors (target ${TARGETS.errors})`,
    list.p99 > TARGETS.listP99Ms && `products list p99 ${list.p99} ms (target ≤ ${TARGETS.listP99Ms})`,
    slowdown > TARGETS.renderSlowdown && `renders ${slowdown.toFixed(2)}× slower under load (target ≤ ${TARGETS.renderSlowdown})`,
    failedRenders > 0 && `${failedRenders} renders failed`,
  ].filter(Boolean)
  for (const m of misses) console.log(`MISSED: ${m}`)
  console.log(
    `BENCH load list_p99_ms=${list.p99} media_rps=${media.rps.toFixed(0)} errors=${errors} render_slowdown=${slowdown.toFixed(2)}`,
  )
  if (misses.length > 0) process.exitCode = 1
}

main().then(
  async () => {
    await cleanup.run()
    process.exit(process.exitCode ?? 0)
  },
  async (err: unknown) => {
    console.error(err)
    await cleanup.run()
    process.exit(1)
  },
)
