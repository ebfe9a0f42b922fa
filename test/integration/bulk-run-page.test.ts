import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { requireTenant } from '#app/modules/tenants/session.server.ts'
import { loader } from '#app/routes/app.bulk.$runId.tsx'
import { bulkRuns, tenants, type BulkRun, type Tenant } from '#db/schema.ts'

// The bulk run page of a tenant whose platform is not connected yet (a
// 'taobao' row): it still renders, not embedded, naming the collection by id.

vi.mock('#app/modules/tenants/session.server.ts', () => ({ requireTenant: vi.fn() }))

let tenant: Tenant
let run: BulkRun

beforeAll(async () => {
  ;[tenant] = await db()
    .insert(tenants)
    .values({ platform: 'taobao', externalId: `taobao-${randomUUID().slice(0, 8)}`, displayName: 'Taobao shop' })
    .returning()
  vi.mocked(requireTenant).mockResolvedValue(tenant)
  ;[run] = await db()
    .insert(bulkRuns)
    .values({
      tenantId: tenant.id,
      idempotencyKey: randomUUID(),
      status: 'completed',
      selection: { kind: 'collection', collectionId: 'summer' },
      looks: [],
      images: { kind: 'all' },
      finishedAt: new Date(),
    })
    .returning()
})

afterAll(async () => {
  if (tenant) await db().delete(tenants).where(eq(tenants.id, tenant.id))
})

describe('the bulk run page', () => {
  it('renders for a tenant whose platform is not connected yet', async () => {
    const request = new Request(`http://127.0.0.1/app/bulk/${run.id}`)
    const data = await loader({ request, params: { runId: run.id }, context: {} })
    expect(data.embedded).toBe(false)
    expect(data.collectionTitle).toBeUndefined()
    expect(data.run.id).toBe(run.id)
  })
})
