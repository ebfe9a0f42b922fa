// Web vitals benchmark (issue 16): the built app in local mode, its products
// list and a studio showing 12 finished results, loaded cold in Debian's
// Chromium on a slow link (1.6 Mbps down, 750 kbps up, 150 ms RTT) with a 4×
// CPU slowdown, and the same pages unthrottled in the same run as the
// baseline. Per page: LCP and CLS (PerformanceObserver), the bytes that
// crossed the wire (encoded), and on the studio the INP of choosing a scene
// tile (the longest event's duration).
//
//   npm run bench -- webvitals
//
// Targets (Built for Shopify's, met throttled): LCP ≤ 2,500 ms, CLS ≤ 0.1,
// INP ≤ 200 ms; studio bytes ≤ 400 KB. Knobs: WEBVITALS_DATABASE_URL
// (…/atelier_bench_webvitals, dropped and recreated), CHROMIUM_PATH.
import path from 'node:path'
import { freePort, freshDatabase, isolateBench, localServerEnv, startServerProcess } from './load-processes.ts'
import { cleanupList } from './support.ts'

const { storageDir, removeFolders } = isolateBench(
  'webvitals',
  process.env.WEBVITALS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/atelier_bench_webvitals',
)

const TARGETS = { lcpMs: 2500, cls: 0.1, inpMs: 200, studioBytes: 400 * 1024 }
const SLOW = { latency: 150, downloadThroughput: (1.6e6 / 8) * 1, uploadThroughput: 750e3 / 8, cpu: 4 }
const RESULTS = 12

const cleanup = cleanupList(removeFolders)

interface Vitals {
  lcpMs: number
  cls: number
  bytes: number
  inpMs?: number
}

// Collected in the page from its first byte: the largest contentful paint and the layout shifts not caused by input.
const OBSERVE = `
  window.__vitals = { lcp: 0, cls: 0, inp: 0 };
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__vitals.lcp = e.startTime }).observe({ type: 'largest-contentful-paint', buffered: true });
  new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) window.__vitals.cls += e.value }).observe({ type: 'layout-shift', buffered: true });
  new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.interactionId) window.__vitals.inp = Math.max(window.__vitals.inp, e.duration) }).observe({ type: 'event', durationThreshold: 16, buffered: true });
`

async function main(): Promise<void> {
  await freshDatabase(process.env.DATABASE_URL!, 'webvitals')
  const { launchBrowser } = await import('#test/support/chromium.ts')
  const sharp = (await import('sharp')).default
  const { db, closeDb } = await import('#app/lib/db.server.ts')
  const { env } = await import('#app/lib/env.server.ts')
  const { imageStore } = await import('#app/lib/storage.server.ts')
  const { localTenant } = await import('#app/modules/tenants/service.server.ts')
  const { platformFor } = await import('#app/modules/platforms/index.server.ts')
  const { renders } = await import('#db/schema.ts')
  const { eq } = await import('drizzle-orm')
  const { catalogImages, insertRender } = await import('#test/support/fixtures.ts')
  cleanup.add(closeDb)

  const e = env()
  const port = await freePort()
  const server = await startServerProcess(
    localServerEnv(e, port, { NODE_ENV: 'production', LOG_LEVEL: 'warn', SIGNING_SECRET: e.SIGNING_SECRET }),
    path.join(storageDir, 'server.log'),
  )
  cleanup.add(() => server.stop())

  // Twelve finished results of one product, each a full-size 1536×2048 JPEG as renders are.
  const tenant = await localTenant()
  const [image] = await catalogImages(tenant)
  const photo = await platformFor(tenant).readImage(image.productId, image.imageId)
  for (let i = 0; i < RESULTS; i++) {
    const result = await sharp(photo)
      .resize(1536, 2048, { fit: 'contain', background: { r: 240 - i, g: 238, b: 235 } })
      .jpeg({ quality: 88 })
      .toBuffer()
    const row = await insertRender(tenant, { backend: 'cpu-studio', enqueue: false, productRef: image.productId })
    const resultKey = await imageStore().put(result)
    await db()
      .update(renders)
      .set({
        status: 'succeeded',
        progress: 100,
        resultKey,
        fidelityScore: 96,
        outputWidth: 1536,
        outputHeight: 2048,
        fidelity: { version: 8, ssim: 0.99, deltaEMean: 0.4, deltaEP95: 1, maskCoverage: 0.3 },
        finishedAt: new Date(),
      })
      .where(eq(renders.id, row.id))
  }

  const browser = await launchBrowser()
  cleanup.add(() => browser.close())

  async function measure(url: string, throttled: boolean, interact: boolean): Promise<Vitals> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } })
    const page = await context.newPage()
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true })
    if (throttled) {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: SLOW.latency,
        downloadThroughput: SLOW.downloadThroughput,
        uploadThroughput: SLOW.uploadThroughput,
      })
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: SLOW.cpu })
    }
    let bytes = 0
    cdp.on('Network.loadingFinished', (ev: { encodedDataLength: number }) => (bytes += ev.encodedDataLength))
    await page.addInitScript(OBSERVE)
    await page.goto(url, { waitUntil: 'load', timeout: 120_000 })
    await page.waitForLoadState('networkidle', { timeout: 120_000 })
    // Scroll the results into view, as a merchant looking at them would (lazy images load then).
    await page.mouse.wheel(0, 3000)
    await page.waitForTimeout(throttled ? 3000 : 500)
    await page.waitForLoadState('networkidle', { timeout: 120_000 })
    let inpMs: number | undefined
    if (interact) {
      await page.getByTestId('scene-beach').click()
      await page.waitForTimeout(500)
    }
    const v = (await page.evaluate('window.__vitals')) as { lcp: number; cls: number; inp: number }
    if (interact) inpMs = v.inp
    await context.close()
    return { lcpMs: v.lcp, cls: v.cls, bytes, inpMs }
  }

  const origin = server.url
  const list = `${origin}/app?lang=en`
  const studio = `${origin}/app/products/${encodeURIComponent(image.productId)}?lang=en`
  // Warm the server (first renders of each page compile nothing, but fill the thumbnail cache as a running app has).
  await measure(list, false, false)
  await measure(studio, false, false)
  const fast = { list: await measure(list, false, false), studio: await measure(studio, false, true) }
  const slow = { list: await measure(list, true, false), studio: await measure(studio, true, true) }
  const row = (name: string, v: Vitals) =>
    `${name.padEnd(22)} LCP ${Math.round(v.lcpMs).toString().padStart(6)} ms  CLS ${v.cls.toFixed(3)}  ${(v.bytes / 1024).toFixed(0).padStart(5)} KB${v.inpMs !== undefined ? `  INP ${Math.round(v.inpMs)} ms` : ''}`
  console.log(row('list, unthrottled', fast.list))
  console.log(row('studio, unthrottled', fast.studio))
  console.log(row('list, slow link + 4x', slow.list))
  console.log(row('studio, slow link + 4x', slow.studio))
  console.log(
    `throttled / unthrottled LCP: list ${(slow.list.lcpMs / fast.list.lcpMs).toFixed(1)}x, studio ${(slow.studio.lcpMs / fast.studio.lcpMs).toFixed(1)}x`,
  )
  const misses = [
    slow.list.lcpMs > TARGETS.lcpMs && `list LCP ${Math.round(slow.list.lcpMs)} ms (target ≤ ${TARGETS.lcpMs})`,
    slow.studio.lcpMs > TARGETS.lcpMs && `studio LCP ${Math.round(slow.studio.lcpMs)} ms (target ≤ ${TARGETS.lcpMs})`,
    Math.max(slow.list.cls, slow.studio.cls) > TARGETS.cls &&
      `CLS ${Math.max(slow.list.cls, slow.studio.cls).toFixed(3)} (target ≤ ${TARGETS.cls})`,
    (slow.studio.inpMs ?? 0) > TARGETS.inpMs && `INP ${Math.round(slow.studio.inpMs!)} ms (target ≤ ${TARGETS.inpMs})`,
    slow.studio.bytes > TARGETS.studioBytes &&
      `studio ${(slow.studio.bytes / 1024).toFixed(0)} KB (target ≤ ${TARGETS.studioBytes / 1024})`,
  ].filter(Boolean)
  for (const m of misses) console.log(`MISSED: ${m}`)
  await cleanup.run()
  console.log(
    `BENCH webvitals lcp_list_ms=${Math.round(slow.list.lcpMs)} lcp_studio_ms=${Math.round(slow.studio.lcpMs)} cls=${Math.max(slow.list.cls, slow.studio.cls).toFixed(3)} inp_ms=${Math.round(slow.studio.inpMs ?? 0)} bytes_studio=${Math.round(slow.studio.bytes / 1024)}KB`,
  )
  if (misses.length > 0) process.exitCode = 1
}

main().catch(async (e: unknown) => {
  console.error(e)
  await cleanup.run().catch(() => {})
  process.exit(1)
})
