import { describe, expect, it } from 'vitest'
import type { Tenant } from '#db/schema.ts'
import { capabilitiesFor, platformFor } from './index.server.ts'

// What pages may offer is asked of the tenant's platform; a platform not
// connected still answers (nothing extra) so its pages render.

function tenantOn(platform: Tenant['platform']): Tenant {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    platform,
    externalId: `${platform}-shop`,
    displayName: 'A shop',
    settings: { catalogDir: 'catalog' },
    createdAt: new Date(0),
    uninstalledAt: null,
  }
}

describe('capabilitiesFor', () => {
  it('answers what the connected platform reports', () => {
    const tenant = tenantOn('local')
    expect(capabilitiesFor(tenant)).toEqual(platformFor(tenant).capabilities)
    expect(capabilitiesFor(tenant)).toEqual({ embedded: false, featuredImage: false, colourImages: false, mainImageSlots: 0 })
  })

  it('answers for a Taobao shop: a standalone app whose main image slot 0 is the featured one', () => {
    const tenant = tenantOn('taobao')
    expect(platformFor(tenant).name).toBe('taobao')
    expect(capabilitiesFor(tenant)).toEqual({ embedded: false, featuredImage: true, colourImages: true, mainImageSlots: 5 })
  })

  it('never throws for a platform it does not know, and offers nothing extra', () => {
    const tenant = tenantOn('elsewhere' as Tenant['platform'])
    expect(() => platformFor(tenant)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
    expect(capabilitiesFor(tenant)).toEqual({ embedded: false, featuredImage: false, colourImages: false, mainImageSlots: 0 })
  })
})
