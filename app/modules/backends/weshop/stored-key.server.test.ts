import { inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { decryptSecret, isEncrypted } from '#app/lib/crypto.server.ts'
import { FAKE_WESHOP_KEY, startWeshopFake, type WeshopFake } from '#test/fakes/weshop/index.ts'
import { storeWeshopApiKey, weshopBackendForStoredKey } from './stored-key.server.ts'

let fake: WeshopFake | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

describe('a tenant’s stored WeShop key', () => {
  it('is stored encrypted and decrypted only for each request', async () => {
    const stored = storeWeshopApiKey(`  ${FAKE_WESHOP_KEY}\n`)
    expect(isEncrypted(stored)).toBe(true)
    expect(stored).not.toContain(FAKE_WESHOP_KEY)
    expect(decryptSecret(stored)).toBe(FAKE_WESHOP_KEY)
    expect(() => storeWeshopApiKey('short')).toThrow(/does not look like a WeShop API key/)

    fake = await startWeshopFake()
    const backend = weshopBackendForStoredKey(stored, { id: 'weshop-tenant-1', env: { WESHOP_BASE_URL: fake.url } })
    expect(backend.id).toBe('weshop-tenant-1')
    expect(await backend.health()).toMatchObject({ ok: true })
    expect(fake.requests[0].authorization).toBe(FAKE_WESHOP_KEY)
    expect(inspect(backend, { depth: 10, showHidden: true })).not.toContain(FAKE_WESHOP_KEY)
    expect(JSON.stringify(backend)).not.toContain(FAKE_WESHOP_KEY)
  })
})
