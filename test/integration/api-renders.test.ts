import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { action } from '#app/routes/api.renders.tsx'
import { copyCatalog, isolateQueue } from '#test/support/isolation.ts'
import { releaseAll } from '#test/support/queue.ts'

// A client that retries POST /api/renders (a timeout, a lost answer) with the
// same Idempotency-Key gets the renders it started, not a second billed set.

let prefix: string

beforeAll(() => {
  prefix = isolateQueue()
  process.env.APP_MODE = 'local'
  process.env.CATALOG_DIR = copyCatalog()
  resetEnvCache()
})

afterAll(async () => {
  await releaseAll(prefix)
  delete process.env.APP_MODE
  delete process.env.CATALOG_DIR
  resetEnvCache()
})

async function start(headers: Record<string, string> = {}) {
  const request = new Request('http://127.0.0.1/api/renders', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      productIds: ['classic-graphic-tee'],
      look: { marketId: 'us', sceneId: 'studio-white', personaId: null },
      variants: 2,
    }),
  })
  const response = await action({ request, params: {}, context: {} })
  return {
    status: response.status,
    body: (await response.json()) as { started: number; results: { renderIds?: string[]; error?: { message: string } }[] },
  }
}

describe('POST /api/renders', () => {
  it('returns the same renders for a repeated Idempotency-Key', async () => {
    const key = `retry-${Date.now()}`
    const first = await start({ 'idempotency-key': key })
    const again = await start({ 'idempotency-key': key })
    expect(first.status).toBe(200)
    expect(first.body.results[0].renderIds).toHaveLength(2)
    expect(again.body.results[0].renderIds).toEqual(first.body.results[0].renderIds)
  })

  it('starts new renders for another key, or for none', async () => {
    const a = await start({ 'idempotency-key': `key-a-${Date.now()}` })
    const b = await start({ 'idempotency-key': `key-b-${Date.now()}` })
    const none = await start()
    const ids = [a, b, none].flatMap((r) => r.body.results[0].renderIds ?? [])
    expect(new Set(ids).size).toBe(6)
  })

  it('refuses a malformed key in words', async () => {
    const bad = await start({ 'idempotency-key': 'no spaces allowed here' })
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ error: { code: 'INVALID_INPUT' } })
  })
})
