import { and, eq } from 'drizzle-orm'
import { z } from 'zod'
import { db } from '#app/lib/db.server.ts'
import { notFound } from '#app/lib/errors.ts'
import { tenants, type Tenant } from '#db/schema.ts'
import type { PlatformName } from '#app/modules/platforms/types.ts'

/** Finds or creates the tenant for a platform account (idempotent). */
export async function upsertTenant(platform: PlatformName, externalId: string, displayName: string): Promise<Tenant> {
  // why read first: every request of a shop lands here, and an upsert always writes the row (WAL, a row lock all of the shop's requests queue on).
  const found = await findTenant(platform, externalId)
  if (found && found.uninstalledAt === null) return found
  const [row] = await db()
    .insert(tenants)
    .values({ platform, externalId, displayName })
    .onConflictDoUpdate({ target: [tenants.platform, tenants.externalId], set: { uninstalledAt: null } })
    .returning()
  return row
}

export function localTenant(): Promise<Tenant> {
  return upsertTenant('local', 'local', 'Local catalog')
}

export async function getTenant(id: string): Promise<Tenant> {
  if (!z.uuid().safeParse(id).success) throw notFound('Shop')
  const row = await db().query.tenants.findFirst({ where: eq(tenants.id, id) })
  if (!row) throw notFound('Shop')
  return row
}

export async function findTenant(platform: PlatformName, externalId: string): Promise<Tenant | undefined> {
  return db().query.tenants.findFirst({ where: and(eq(tenants.platform, platform), eq(tenants.externalId, externalId)) })
}
