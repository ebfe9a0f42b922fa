import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { messages } from '#app/lib/i18n.ts'
import { checkReasons } from '#app/modules/backends/failure.server.ts'
import { closeHealth } from '#app/modules/backends/health.server.ts'
import { closePool } from '#app/modules/backends/pool.server.ts'
import { action } from '#app/routes/app.settings.backends_.$backendId.tsx'
import { loader as listLoader } from '#app/routes/app.settings.backends.tsx'
import { backendConfigs, type BackendCheck, type Tenant } from '#db/schema.ts'
import { startComfyFake, type ComfyFake } from '#test/fakes/comfyui/index.ts'
import { createLocalTenant } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll } from '#test/support/queue.ts'

// "Test connection" against real failing targets: each failure gets its
// reason (which the page turns into a sentence with the next step), and a
// saved backend keeps the result on its row.

let current: Tenant
vi.mock('#app/modules/tenants/session.server.ts', () => ({
  requireTenant: async () => current,
  requireShop: async () => ({ tenant: current, admin: null }),
}))

let prefix: string
let fake: ComfyFake
const servers: Server[] = []
const sockets: Socket[] = []
let closedPort: number
let hungUrl: string
let tlsUrl: string
let htmlUrl: string
let refusingUrl: string
let certDir: string

const listen = async (server: Server): Promise<number> => {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** A self-signed certificate for localhost, made for this run. */
function selfSigned(): { key: Buffer; cert: Buffer } {
  certDir = mkdtempSync(path.join(tmpdir(), 'atelier-tls-'))
  const [key, cert] = [path.join(certDir, 'key.pem'), path.join(certDir, 'cert.pem')]
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'],
    {
      stdio: 'ignore',
    },
  )
  return { key: readFileSync(key), cert: readFileSync(cert) }
}

beforeAll(async () => {
  prefix = isolateQueue()
  current = await createLocalTenant()
  fake = await startComfyFake()

  const gone = createHttpServer()
  closedPort = await listen(gone)
  await new Promise((resolve) => gone.close(resolve))
  servers.splice(servers.indexOf(gone), 1)

  const hung = createTcpServer((socket) => sockets.push(socket)) as unknown as Server
  hungUrl = `http://127.0.0.1:${await listen(hung)}`

  const tls = createHttpsServer(selfSigned(), (_req, res) => res.end('{}'))
  tlsUrl = `https://127.0.0.1:${await listen(tls)}`

  const html = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end('<!doctype html><title>Router login</title><p>Welcome</p>')
  })
  htmlUrl = `http://127.0.0.1:${await listen(html)}`

  const refusing = createHttpServer((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' })
    res.end('{"error":"unauthorized"}')
  })
  refusingUrl = `http://127.0.0.1:${await listen(refusing)}`
})

afterAll(async () => {
  for (const s of sockets) s.destroy()
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  await fake?.close()
  await closePool()
  await closeHealth()
  if (certDir) rmSync(certDir, { recursive: true, force: true })
  await db().delete(backendConfigs).where(eq(backendConfigs.tenantId, current.id))
  await releaseAll(prefix)
})

function form(overrides: Record<string, string>): URLSearchParams {
  const body = new URLSearchParams({
    intent: 'test',
    type: 'comfyui',
    name: `GPU ${randomUUID().slice(0, 6)}`,
    slots: '1',
    costPerSecond: '0',
    enabled: 'true',
    auth: 'none',
    ...overrides,
  })
  const type = overrides.type ?? 'comfyui'
  body.append('operations', type === 'weshop' ? 'model_swap' : 'scene_swap')
  return body
}

async function test(backendId: string, overrides: Record<string, string>): Promise<{ check: BackendCheck; stored: boolean }> {
  const request = new Request(`http://localhost/app/settings/backends/${backendId}`, { method: 'POST', body: form(overrides) })
  const result = (await action({ request, params: { backendId }, context: {} })) as {
    data: { check: BackendCheck; stored: boolean }
  }
  if (!result.data.check) throw new Error(`no check: ${JSON.stringify(result.data)}`)
  return result.data
}

describe('Test connection says why it failed', () => {
  const targets: Record<string, () => string> = {
    'an unresolvable name': () => 'http://gpu-1.atelier-test.invalid:8188',
    'a closed port': () => `http://127.0.0.1:${closedPort}`,
    'a TLS port with a self-signed certificate': () => tlsUrl,
    'an HTTP server that answers HTML': () => htmlUrl,
    'a server refusing the credentials': () => refusingUrl,
  }
  it.each([
    ['an unresolvable name', 'dns'],
    ['a closed port', 'refused'],
    ['a TLS port with a self-signed certificate', 'tls'],
    ['an HTTP server that answers HTML', 'not_api'],
    ['a server refusing the credentials', 'auth'],
  ])('%s → %s', async (what, reason) => {
    const { check } = await test('new', { url: targets[what]() })
    expect(check).toMatchObject({ ok: false, reason })
    expect(check.detail).toBeTruthy()
  })

  it('a server that accepts and never answers → timeout', async () => {
    const { check } = await test('new', { url: hungUrl })
    expect(check).toMatchObject({ ok: false, reason: 'timeout' })
  }, 20_000)

  it.each(['sdwebui', 'weshop'])('%s: a web page instead of its API → not_api', async (type) => {
    const extra: Record<string, string> = type === 'weshop' ? { apiKey: 'sk-test-123' } : {}
    const { check } = await test('new', { type, url: htmlUrl, ...extra })
    expect(check).toMatchObject({ ok: false, reason: 'not_api' })
  })

  it("a shop's server on a private address in Shopify mode → blocked, nothing sent", async () => {
    const saved = { ...process.env }
    Object.assign(process.env, {
      APP_MODE: 'shopify',
      SHOPIFY_API_KEY: 'k',
      SHOPIFY_API_SECRET: 's',
      SHOPIFY_APP_URL: 'https://atelier.example.com',
    })
    resetEnvCache()
    try {
      const before = fake.requests.length
      const { check } = await test('new', { url: fake.url })
      expect(check).toMatchObject({ ok: false, reason: 'blocked' })
      expect(fake.requests.length).toBe(before)
      // Saving it is refused in the form, with the block named.
      const save = form({ url: fake.url })
      save.set('intent', 'save')
      const refused = (await action({
        request: new Request('http://localhost/app/settings/backends/new', { method: 'POST', body: save }),
        params: { backendId: 'new' },
        context: {},
      })) as {
        data: { fieldErrors: Record<string, string> }
        init: { status: number }
      }
      expect(refused.init.status).toBe(400)
      expect(refused.data.fieldErrors.url).toMatch(/private or local address \(loopback\)/)
    } finally {
      for (const key of ['APP_MODE', 'SHOPIFY_API_KEY', 'SHOPIFY_API_SECRET', 'SHOPIFY_APP_URL']) {
        if (saved[key] === undefined) delete process.env[key]
        else process.env[key] = saved[key]
      }
      resetEnvCache()
    }
  })

  it('keeps the result on a saved row, and the list page shows it', async () => {
    const name = `Kept ${randomUUID().slice(0, 6)}`
    const save = new URLSearchParams(form({ url: htmlUrl, name }))
    save.set('intent', 'save')
    await action({
      request: new Request('http://localhost/app/settings/backends/new', { method: 'POST', body: save }),
      params: { backendId: 'new' },
      context: {},
    })
    const [row] = await db().select().from(backendConfigs).where(eq(backendConfigs.name, name))
    const { stored } = await test(row.id, { url: htmlUrl, name, auth: 'none' })
    expect(stored).toBe(true)
    const list = (await listLoader({
      request: new Request('http://localhost/app/settings/backends'),
      params: {},
      context: {},
    })) as {
      shop: { id: string; lastCheck: BackendCheck | null }[]
    }
    expect(list.shop.find((b) => b.id === row.id)?.lastCheck).toMatchObject({ ok: false, reason: 'not_api' })
  })

  it('has a sentence with the next step for every reason, in both languages', () => {
    for (const reason of checkReasons) {
      for (const lang of ['en', 'zh-CN'] as const) {
        expect(messages[lang][`backends.checkReason.${reason}`], `${lang} ${reason}`).toBeTruthy()
      }
    }
  })
})
