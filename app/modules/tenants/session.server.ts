import { env } from '#app/lib/env.server.ts'
import type { Tenant } from '#db/schema.ts'
import { redirect } from '@remix-run/node'
import { isAppError } from '#app/lib/errors.ts'
import { sessionFor } from '#app/modules/taobao/auth/grants.server.ts'
import { loggedInTenant } from './login.server.ts'
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
  if (env().APP_MODE === 'taobao') return { tenant: await requireTaobaoSeller(request), admin: null }
  const { authenticate } = await import('#app/shopify.server.ts')
  const admin = await authenticate.admin(request)
  const tenant = await upsertTenant('shopify', admin.session.shop, admin.session.shop.replace(/\.myshopify\.com$/, ''))
  return { tenant, admin }
}

/** The page a request was for, to come back to after logging in (Remix's data parameters left out). */
function pageOf(request: Request): string {
  const url = new URL(request.url)
  url.searchParams.delete('_data')
  url.searchParams.delete('index')
  return `${url.pathname}${url.search}`
}

/**
 * Taobao mode: the browser's login, and a seller grant that still works
 * (refreshed here when it lapses soon). Otherwise off to the login page,
 * which brings the seller back to this page afterwards.
 */
async function requireTaobaoSeller(request: Request): Promise<Tenant> {
  const returnTo = encodeURIComponent(pageOf(request))
  const tenant = await loggedInTenant(request)
  if (!tenant) throw redirect(`/login?returnTo=${returnTo}`)
  try {
    await sessionFor(tenant.id)
  } catch (e) {
    if (isAppError(e) && e.code === 'LOGIN_REQUIRED') throw redirect(`/login?error=expired&returnTo=${returnTo}`)
    throw e
  }
  return tenant
}
