import { describe, expect, it } from 'vitest'
import type { Tenant } from '#db/schema.ts'
import { billingFor } from './service.server.ts'

// Charging asked through billingFor(tenant) alone: a tenant whose platform
// charges no usage is never charged, without an Admin client or a database.

const localTenant: Tenant = {
  id: '00000000-0000-4000-8000-000000000001',
  platform: 'local',
  externalId: 'local',
  displayName: 'Local catalog',
  settings: { catalogDir: 'catalog' },
  createdAt: new Date(0),
  uninstalledAt: null,
}

describe('billingFor', () => {
  it('renders free and charges nothing where the platform charges no usage', async () => {
    const biller = billingFor(localTenant)
    expect(biller.billed).toBe(false)
    await expect(biller.chargeRender('00000000-0000-4000-8000-000000000002')).resolves.toBeNull()
    await expect(biller.chargeOutstanding()).resolves.toBe(0)
    await expect(biller.capLeft()).resolves.toBeNull()
    await expect(biller.assertCanRender(1_000)).resolves.toBeUndefined()
  })
})
