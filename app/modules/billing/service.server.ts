import { env } from '#app/lib/env.server.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import { usageBiller } from '#app/modules/shopify/billing/usage.server.ts'
import type { Tenant } from '#db/schema.ts'
import type { Biller, Tx } from './types.ts'

// Who pays for renders, asked without naming a platform: billingFor(tenant).
// The usage plan itself is Shopify's (modules/shopify/billing).

export type { Biller, RenderPrice, Tx } from './types.ts'

/** The tenant's billing: the usage plan where its platform charges app usage, free otherwise. */
export function billingFor(tenant: Tenant): Biller {
  return platformFor(tenant).chargesAppUsage ? usageBiller(tenant) : FREE
}

const FREE: Biller = {
  billed: false,
  assertCanRender: async () => {},
  reserveRenders: async () => {},
  pricePerRender: async () => ({ amount: 0, currency: env().BILLING_CURRENCY }),
  capLeft: async () => null,
  chargeRender: async () => null,
  chargeOutstanding: async () => 0,
}

/**
 * Refuses renders before any GPU time is spent when the shop has no active
 * plan or the renders would pass the cap. Free where the platform charges no usage.
 * This is the early, advisory check; reserveRenders is the binding one.
 */
export async function assertCanRender(tenant: Tenant, count: number): Promise<void> {
  await billingFor(tenant).assertCanRender(count)
}

/**
 * The binding cap check, in the transaction that inserts the renders, for
 * `count()` new renders. A per-shop transaction lock comes first, so two
 * requests of one shop (a double submit, a bulk run's parallel feeders)
 * can't both pass the cap on the same reading. The lock is released when
 * the inserting transaction commits, and the next request then counts the
 * renders it added.
 */
export async function reserveRenders(tx: Tx, tenant: Tenant, count: () => Promise<number>): Promise<void> {
  await billingFor(tenant).reserveRenders(tx, count)
}
