import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeDb, db } from '#app/lib/db.server.ts'
import { subscriptions, tenants, usageLedger, type Tenant } from '#db/schema.ts'
import type { AdminGraphql } from '../admin.server.ts'
import { usageBiller } from './usage.server.ts'

// The usage plan's Biller charges a finished render through the Admin client
// it is given (the shop's own by default), once per render.

let tenant: Tenant
const renderId = randomUUID()
const sent: Record<string, unknown>[] = []
const admin: AdminGraphql = async <T,>(_query: string, variables?: Record<string, unknown>) => {
  sent.push(variables ?? {})
  return { appUsageRecordCreate: { appUsageRecord: { id: 'gid://shopify/AppUsageRecord/1' }, userErrors: [] } } as T
}

beforeAll(async () => {
  ;[tenant] = await db()
    .insert(tenants)
    .values({ platform: 'shopify', externalId: `usage-${randomUUID().slice(0, 8)}.myshopify.com`, displayName: 'Usage shop' })
    .returning()
  await db().insert(subscriptions).values({
    tenantId: tenant.id,
    externalId: 'gid://shopify/AppSubscription/1',
    usageLineItemId: 'gid://shopify/AppSubscriptionLineItem/1',
    status: 'ACTIVE',
    cappedAmount: 10,
    pricePerRender: 0.5,
    currency: 'USD',
  })
  await db().insert(usageLedger).values({ tenantId: tenant.id, kind: 'render', backend: 'cpu-studio', idempotencyKey: `render:${renderId}` })
})

afterAll(async () => {
  if (tenant) await db().delete(tenants).where(eq(tenants.id, tenant.id))
  await closeDb()
})

describe('usageBiller', () => {
  it('charges a render through the injected Admin client, once', async () => {
    const biller = usageBiller(tenant, admin)
    expect(biller.billed).toBe(true)
    await expect(biller.chargeRender(renderId)).resolves.toBe('gid://shopify/AppUsageRecord/1')
    expect(sent).toEqual([
      expect.objectContaining({ lineItemId: 'gid://shopify/AppSubscriptionLineItem/1', idempotencyKey: renderId, price: { amount: 0.5, currencyCode: 'USD' } }),
    ])
    // A second charge finds the ledger row charged and sends nothing.
    await expect(biller.chargeRender(renderId)).resolves.toBe('gid://shopify/AppUsageRecord/1')
    expect(sent).toHaveLength(1)
    await expect(biller.chargeOutstanding()).resolves.toBe(0)
    expect(sent).toHaveLength(1)
  })
})
