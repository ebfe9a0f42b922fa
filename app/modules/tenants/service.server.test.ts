import { randomUUID } from 'node:crypto'
import { eq, sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { closeDb, db } from '#app/lib/db.server.ts'
import { tenants } from '#db/schema.ts'
import { upsertTenant } from './service.server.ts'

const created: string[] = []

afterAll(async () => {
  if (created.length > 0)
    await db()
      .delete(tenants)
      .where(sql`${tenants.id} in ${created}`)
  await closeDb()
})

/** The row version: PostgreSQL gives an updated row a new xmin even when no value changed. */
async function rowVersion(id: string): Promise<string> {
  const result = await db().execute<{ version: string }>(sql`select xmin::text as version from tenants where id = ${id}`)
  return result.rows[0].version
}

describe('upsertTenant', () => {
  it('reads an active tenant without writing its row (every request of a shop calls it)', async () => {
    const first = await upsertTenant('local', `test-${randomUUID()}`, 'Test shop')
    created.push(first.id)
    const version = await rowVersion(first.id)
    const again = await upsertTenant('local', first.externalId, 'Test shop')
    expect(again).toEqual(first)
    expect(await rowVersion(first.id)).toBe(version)
  })

  it('brings an uninstalled tenant back', async () => {
    const first = await upsertTenant('shopify', `test-${randomUUID()}.myshopify.com`, 'Test shop')
    created.push(first.id)
    await db().update(tenants).set({ uninstalledAt: new Date() }).where(eq(tenants.id, first.id))
    const again = await upsertTenant('shopify', first.externalId, 'Test shop')
    expect(again.id).toBe(first.id)
    expect(again.uninstalledAt).toBeNull()
  })
})
