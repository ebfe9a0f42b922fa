import { env } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import type { Tenant } from '#db/schema.ts'
import { localTenant } from './service.server.ts'

/**
 * The tenant a request acts for. Local mode serves one catalog on localhost
 * (the server refuses other interfaces); Shopify mode authenticates the
 * embedded admin's session token.
 */
export async function requireTenant(_request: Request): Promise<Tenant> {
  if (env().APP_MODE === 'local') return localTenant()
  throw new AppError('INVALID_INPUT', 'Shopify mode is not configured: set APP_MODE=local or connect the Shopify app')
}
