import { inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { decryptSecret, isEncrypted } from '#app/lib/crypto.server.ts'
import { FAKE_WESHOP_KEY, startWeshopFake, type WeshopFake } from '#test/fakes/weshop/index.ts'
import { storeWeshopApiKey, weshopBackendForStoredKey, weshopConfig } from './env.server.ts'

let fake: WeshopFake | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

describe('WeShop configuration', () => {
  it('defaults to WeShop’s own host and no preset ids', () => {
    expect(weshopConfig({})).toEqual({
      baseUrl: 'https://openapi.weshop.ai',
      presets: { aimodel: { locations: {}, fashionModels: {} }, aiproduct: { locations: {} } },
    })
    expect(weshopConfig({ WESHOP_BASE_URL: 'http://127.0.0.1:4010/' }).baseUrl).toBe('http://127.0.0.1:4010')
  })

  it('sends the key nowhere but WeShop (or a loopback fake)', () => {
    expect(() => weshopConfig({ WESHOP_BASE_URL: 'https://weshop-proxy.example.com' })).toThrow(
      /WESHOP_BASE_URL: must be https:\/\/openapi\.weshop\.ai/,
    )
    expect(() => weshopConfig({ WESHOP_BASE_URL: 'ftp://openapi.weshop.ai' })).toThrow(
      /WESHOP_BASE_URL: must be an http\(s\) URL/,
    )
  })

  it('reads preset ids by look id, and names the ones that are no look', () => {
    const presets = JSON.stringify({
      aimodel: { locations: { beach: 12 }, fashionModels: { amara: 34 } },
      aiproduct: { locations: { loft: 5 } },
    })
    expect(weshopConfig({ WESHOP_PRESET_IDS: presets }).presets).toEqual({
      aimodel: { locations: { beach: 12 }, fashionModels: { amara: 34 } },
      aiproduct: { locations: { loft: 5 } },
    })
    expect(() => weshopConfig({ WESHOP_PRESET_IDS: '{"aimodel": {"fashionModels": {"zed": 1}}}' })).toThrow(
      /WESHOP_PRESET_IDS.aimodel.fashionModels: unknown look id "zed"/,
    )
    expect(() => weshopConfig({ WESHOP_PRESET_IDS: '{"aimodel": {"locations": {"beach": "12"}}}' })).toThrow(/WESHOP_PRESET_IDS/)
    expect(() => weshopConfig({ WESHOP_PRESET_IDS: 'beach=12' })).toThrow(/must be JSON/)
  })
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
