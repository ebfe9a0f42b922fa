import { encryptSecret } from '#app/lib/crypto.server.ts'
import { db } from '#app/lib/db.server.ts'
import { offlineSessionId } from '#app/modules/shopify/tokens.server.ts'
import { upsertTenant } from '#app/modules/tenants/service.server.ts'
import { sessionTable, type Tenant } from '#db/schema.ts'
import type { ShopifyAdminFake } from '#test/fakes/shopify-admin/index.ts'

/**
 * A shop of the Admin API fake as installed: its tenant, and the offline
 * session (access token encrypted, as token exchange stores it) the app's
 * Admin client reads.
 */
export async function installFakeShop(
  fake: ShopifyAdminFake,
  domain: string,
  opts: { name?: string; scope?: string } = {},
): Promise<Tenant> {
  const tenant = await upsertTenant('shopify', domain, opts.name ?? domain)
  await db()
    .insert(sessionTable)
    .values({
      id: offlineSessionId(domain),
      shop: domain,
      state: 'offline',
      isOnline: false,
      scope: opts.scope ?? 'read_products,write_products,write_files',
      accessToken: encryptSecret(fake.accessToken(domain)),
    })
  return tenant
}
