import http from 'node:http'
import net from 'node:net'
import { and, eq } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { isAppError } from '#app/lib/errors.ts'
import { createBackendConfig } from '#app/modules/backends/rows.server.ts'
import { createRenders } from '#app/modules/renders/service.server.ts'
import { backendConfigs, renders, type Render, type Tenant } from '#db/schema.ts'
import { catalogImages, createLocalTenant, productSceneLook } from '#test/support/fixtures.ts'
import { spawnWorkerProcess } from '#test/support/worker-process.ts'
import { auditRenders, knobs, runScript, until, type Tally } from '../harness.ts'

// A shop's GPU backend (ComfyUI) goes wrong: killed mid-render, hung (accepts
// and never answers), answering garbage, answering 500s. Every render must
// end within the bound: failed with an error that names the backend's
// trouble, or succeeded on another backend. RENDER_WAIT_TIMEOUT and
// RENDER_TIMEOUT_MS (set short by run.ts) are what bound it.

const GPU_ERRORS = ['BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT']
/** A server that answers, just not as ComfyUI, may also be called a failed backend. */
const ANSWERING_ERRORS = [...GPU_ERRORS, 'BACKEND_FAILED']

function boundMs(): number {
  const wait = Number(process.env.RENDER_WAIT_TIMEOUT ?? 20_000)
  const attempt = Number(process.env.RENDER_TIMEOUT_MS ?? 8_000)
  return wait + attempt * Number(process.env.RENDER_ATTEMPTS ?? 2) + 20_000
}

async function shopWithGpu(url: string): Promise<Tenant> {
  const tenant = await createLocalTenant()
  await createBackendConfig(tenant.id, {
    type: 'comfyui',
    name: 'chaos-gpu',
    url,
    slots: 1,
    operations: ['scene_swap'],
    costPerSecond: 0.001,
    enabled: true,
    credentials: { action: 'clear' },
  })
  return tenant
}

/** Asks for scene swaps; a refusal up front with a clear code is a fine answer too. */
async function askForRenders(tally: Tally, tenant: Tenant, seeds: number[], allowed: string[]): Promise<Render[]> {
  const [image] = await catalogImages(tenant)
  try {
    return await createRenders(tenant, { productId: image.productId, imageId: image.imageId, look: productSceneLook(), seeds, operation: 'scene_swap' })
  } catch (e) {
    if (isAppError(e) && allowed.includes(e.code)) {
      tally.note(`refused at once: ${e.code}: ${e.message}`)
      return []
    }
    throw e
  }
}

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
}

async function faultyServer(tally: Tally, server: net.Server, allowed: string[]): Promise<void> {
  const sockets = new Set<net.Socket>()
  server.on('connection', (s: net.Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const url = await listen(server)
  try {
    const tenant = await shopWithGpu(url)
    spawnWorkerProcess(knobs())
    const made = await askForRenders(tally, tenant, [21, 22], allowed)
    await auditRenders(tally, made.map((r) => r.id), { boundMs: boundMs(), allowedErrors: allowed })
  } finally {
    for (const s of sockets) s.destroy()
    server.close()
  }
}

export async function gpuKilled(tally: Tally): Promise<void> {
  // why slow steps: the render must still be on the server when it dies.
  const gpu = runScript('./comfy-server.ts', ['--step-ms', '500'])
  const { url } = (await gpu.firstJson) as { url?: string }
  if (!url) throw new Error(`the ComfyUI fake did not start:\n${gpu.output()}`)
  try {
    const tenant = await shopWithGpu(url)
    // why the default attempts and a queue: failed attempts open the backend's circuit, the state the issue saw renders wait in.
    spawnWorkerProcess({ ...knobs(), RENDER_ATTEMPTS: '3' })
    const before = await askForRenders(tally, tenant, [31, 33, 35, 37], GPU_ERRORS)
    const running = await until(
      async () => (await db().select().from(renders).where(and(eq(renders.tenantId, tenant.id), eq(renders.status, 'running')))).length > 0,
      60_000,
      20,
    )
    tally.expect(!!running, 'the render never started on the GPU server')
    const killedAt = Date.now()
    gpu.child.kill('SIGKILL')
    await gpu.exited
    // A render asked for once a health check has seen the server down (its
    // circuit open) must not wait for ever either.
    const seen = await until(async () => {
      const row = await db().query.backendConfigs.findFirst({ where: eq(backendConfigs.tenantId, tenant.id) })
      return row?.lastCheck && !row.lastCheck.ok && Date.parse(row.lastCheck.checkedAt) > killedAt ? row.lastCheck : undefined
    }, 30_000, 200)
    tally.note(seen ? `health check saw it down: ${seen.detail}` : 'no health check saw the server down within 30 s')
    const after = await askForRenders(tally, tenant, [32, 34], GPU_ERRORS)
    await auditRenders(tally, [...before, ...after].map((r) => r.id), { boundMs: boundMs(), allowedErrors: GPU_ERRORS })
  } finally {
    if (gpu.child.exitCode === null && gpu.child.signalCode === null) gpu.child.kill('SIGKILL')
  }
}

export async function gpuHung(tally: Tally): Promise<void> {
  // Accepts every connection and never says a word.
  await faultyServer(tally, net.createServer(() => {}), GPU_ERRORS)
}

export async function gpuGarbage(tally: Tally): Promise<void> {
  const server = http.createServer((req, res) => {
    req.resume()
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end('\u0000{"prompt_id": <<garbage>> \ufffd')
  })
  await faultyServer(tally, server, ANSWERING_ERRORS)
}

export async function gpu500s(tally: Tally): Promise<void> {
  // aiohttp's answer when a handler raises.
  const server = http.createServer((req, res) => {
    req.resume()
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' })
    res.end('500 Internal Server Error\n\nServer got itself in trouble')
  })
  await faultyServer(tally, server, ANSWERING_ERRORS)
}
