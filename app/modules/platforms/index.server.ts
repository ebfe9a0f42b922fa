import path from 'node:path'
import { env } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import type { Tenant } from '#db/schema.ts'
import { createLocalPlatform } from './local.server.ts'
import type { StorePlatform } from './types.ts'

const cache = new Map<string, StorePlatform>()

/** The platform a tenant's products live on. */
export function platformFor(tenant: Tenant): StorePlatform {
  if (tenant.platform === 'local') {
    const dir = path.resolve(tenant.settings.catalogDir ?? env().CATALOG_DIR)
    let p = cache.get(dir)
    if (!p) {
      p = createLocalPlatform(dir)
      cache.set(dir, p)
    }
    return p
  }
  throw new AppError('INVALID_INPUT', `The ${tenant.platform} platform is not connected yet`)
}
