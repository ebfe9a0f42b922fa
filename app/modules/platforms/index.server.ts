import path from 'node:path'
import { and, eq, inArray, or, sql } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { adminFor } from '#app/modules/shopify/admin.server.ts'
import { createShopifyPlatform } from '#app/modules/shopify/platform/index.server.ts'
import { publications, type Tenant } from '#db/schema.ts'
import { createTaobaoPlatform } from '#app/modules/taobao/platform/index.server.ts'
import { createLocalPlatform } from './local.server.ts'
import type { PlatformCapabilities, StorePlatform } from './types.ts'

const cache = new Map<string, StorePlatform>()

/** The platform a tenant's products live on. */
export function platformFor(tenant: Tenant): StorePlatform {
  const platform = connectedPlatform(tenant)
  if (!platform) throw new AppError('INVALID_INPUT', `The ${tenant.platform} platform is not connected yet`)
  return platform
}

// why a default: a page must still render for a tenant whose platform is not connected yet.
const NOT_CONNECTED: PlatformCapabilities = { embedded: false, featuredImage: false, colourImages: false, mainImageSlots: 0 }

/** What the tenant's platform lets its pages offer; never throws (nothing extra where it is not connected). */
export function capabilitiesFor(tenant: Tenant): PlatformCapabilities {
  return connectedPlatform(tenant)?.capabilities ?? NOT_CONNECTED
}

function connectedPlatform(tenant: Tenant): StorePlatform | undefined {
  if (tenant.platform === 'local') {
    const dir = path.resolve(tenant.settings.catalogDir ?? env().CATALOG_DIR)
    let p = cache.get(dir)
    if (!p) {
      p = createLocalPlatform(dir)
      cache.set(dir, p)
    }
    return p
  }
  if (tenant.platform === 'shopify') {
    // why keyed by tenant and shop: the ours-lookup is the tenant's, the client the shop's.
    const key = `shopify:${tenant.id}:${tenant.externalId}`
    let p = cache.get(key)
    if (!p) {
      const shop = tenant.externalId
      p = createShopifyPlatform({ shop, client: adminFor(shop), isOurs: (ids) => publishedMediaIds(tenant.id, ids) })
      cache.set(key, p)
    }
    return p
  }
  if (tenant.platform === 'taobao') {
    const key = `taobao:${tenant.id}`
    let p = cache.get(key)
    if (!p) {
      p = createTaobaoPlatform(tenant)
      cache.set(key, p)
    }
    return p
  }
  return undefined
}

/**
 * Which of these platform ids Atelier published for the tenant, live or
 * undone. why steps too: a publish that died after the platform created the
 * image has its id only in the recorded steps.
 */
export async function publishedMediaIds(tenantId: string, ids: readonly string[]): Promise<ReadonlySet<string>> {
  if (ids.length === 0) return new Set()
  const stepId = sql<string | null>`${publications.steps}->>'externalId'`
  const rows = await db()
    .select({ externalId: publications.externalId, stepId })
    .from(publications)
    .where(and(eq(publications.tenantId, tenantId), or(inArray(publications.externalId, [...ids]), inArray(stepId, [...ids]))))
  const found = new Set<string>()
  for (const r of rows) {
    if (r.externalId && ids.includes(r.externalId)) found.add(r.externalId)
    if (r.stepId && ids.includes(r.stepId)) found.add(r.stepId)
  }
  return found
}
