import { env } from '#app/lib/env.server.ts'
import type { Tenant } from '#db/schema.ts'
import { localTenant, upsertTenant } from './service.server.ts'

/**
 * The tenant a request acts for. Local mode serves one catalog on localhost
 * (the server refuses other interfaces); Shopify mode authenticates the
 * embedded admin's session token (token exchange on first use) and maps the
 * shop to its tenant. Every query after this is scoped by the tenant id.
 */
export async function requireTenant(request: Request): Promise<Tenant> {
  return (await requireShop(request)).tenant
}

export async function requireShop(request: Request) {
  if (env().APP_MODE === 'local') return { tenant: await localTenant(), admin: null }
  const { authenticate } = await import('#app/shopify.server.ts')
  const admin = await authenticate.admin(request)
  const tenant = await upsertTenant('shopify', admin.session.shop, admin.session.shop.replace(/\.myshopify\.com$/, ''))
  return { tenant, admin }
}
