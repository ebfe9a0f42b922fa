import { describe, expect, it } from 'vitest'
import { weshopConfig } from './env.server.ts'

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
