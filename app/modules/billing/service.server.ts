import { and, desc, eq, gte, inArray, isNull, sql } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import type { AdminGraphql } from '#app/modules/shopify/admin.server.ts'
import { renders, subscriptions, usageLedger, type Subscription, type Tenant } from '#db/schema.ts'

export const PLAN_NAME = 'Atelier usage'

const SUBSCRIPTION_CREATE = `#graphql
  mutation AtelierSubscriptionCreate($name: String!, $returnUrl: URL!, $test: Boolean, $lineItems: [AppSubscriptionLineItemInput!]!) {
    appSubscriptionCreate(name: $name, returnUrl: $returnUrl, test: $test, lineItems: $lineItems) {
      appSubscription { id status lineItems { id } }
      confirmationUrl
      userErrors { field message }
    }
  }`

const ACTIVE_SUBSCRIPTIONS = `#graphql
  query AtelierActiveSubscriptions {
    currentAppInstallation {
      activeSubscriptions {
        id
        name
        status
        test
        lineItems {
          id
          plan {
            pricingDetails {
              __typename
              ... on AppUsagePricing {
                terms
                cappedAmount { amount currencyCode }
                balanceUsed { amount currencyCode }
              }
            }
          }
        }
      }
    }
  }`

// why our own mutation: the library's billing.createUsageRecord drops
// idempotencyKey, and a retried charge must never bill twice.
const USAGE_RECORD_CREATE = `#graphql
  mutation AtelierUsageRecordCreate($lineItemId: ID!, $price: MoneyInput!, $description: String!, $idempotencyKey: String) {
    appUsageRecordCreate(subscriptionLineItemId: $lineItemId, price: $price, description: $description, idempotencyKey: $idempotencyKey) {
      appUsageRecord { id }
      userErrors { field message }
    }
  }`

interface UserError {
  field?: string[] | null
  message: string
}

function assertOk(userErrors: UserError[] | undefined, what: string): void {
  if (userErrors && userErrors.length > 0) {
    throw new AppError('SHOPIFY_USER_ERROR', `${what}: ${userErrors.map((e) => e.message).join('; ')}`, { details: { userErrors } })
  }
}

function billingTest(): boolean {
  return env().BILLING_TEST ?? env().NODE_ENV !== 'production'
}

export async function currentPlan(tenantId: string): Promise<Subscription | undefined> {
  return db().query.subscriptions.findFirst({ where: eq(subscriptions.tenantId, tenantId), orderBy: desc(subscriptions.createdAt) })
}

/** Starts the usage plan; the merchant approves it on Shopify's confirmation page. */
export async function startPlan(tenant: Tenant, admin: AdminGraphql, returnUrl: string): Promise<{ confirmationUrl: string }> {
  const e = env()
  const data = await admin<{
    appSubscriptionCreate: {
      appSubscription: { id: string; status: string; lineItems: { id: string }[] } | null
      confirmationUrl: string | null
      userErrors: UserError[]
    }
  }>(SUBSCRIPTION_CREATE, {
    name: PLAN_NAME,
    returnUrl,
    test: billingTest(),
    lineItems: [
      {
        plan: {
          appUsagePricingDetails: {
            terms: `${e.BILLING_PRICE_PER_RENDER} ${e.BILLING_CURRENCY} per finished render; renders that fail are free`,
            cappedAmount: { amount: e.BILLING_CAPPED_AMOUNT, currencyCode: e.BILLING_CURRENCY },
          },
        },
      },
    ],
  })
  const result = data.appSubscriptionCreate
  assertOk(result.userErrors, 'Creating the plan failed')
  if (!result.appSubscription || !result.confirmationUrl) throw new AppError('SHOPIFY_USER_ERROR', 'Shopify returned no subscription')
  await db()
    .insert(subscriptions)
    .values({
      tenantId: tenant.id,
      externalId: result.appSubscription.id,
      usageLineItemId: result.appSubscription.lineItems[0]?.id ?? null,
      status: result.appSubscription.status,
      cappedAmount: e.BILLING_CAPPED_AMOUNT,
      pricePerRender: e.BILLING_PRICE_PER_RENDER,
      currency: e.BILLING_CURRENCY,
      test: billingTest(),
    })
    .onConflictDoNothing()
  return { confirmationUrl: result.confirmationUrl }
}

interface ActiveSubscription {
  id: string
  name: string
  status: string
  test: boolean
  lineItems: {
    id: string
    plan: { pricingDetails: { __typename: string; cappedAmount?: { amount: string }; balanceUsed?: { amount: string } } }
  }[]
}

/** Reads the shop's active subscriptions from Shopify and records ours. */
export async function syncPlan(tenant: Tenant, admin: AdminGraphql): Promise<Subscription | undefined> {
  const data = await admin<{ currentAppInstallation: { activeSubscriptions: ActiveSubscription[] } }>(ACTIVE_SUBSCRIPTIONS)
  const active = data.currentAppInstallation.activeSubscriptions.find((s) => s.name === PLAN_NAME)
  if (!active) {
    await db()
      .update(subscriptions)
      .set({ status: 'INACTIVE', updatedAt: new Date() })
      .where(and(eq(subscriptions.tenantId, tenant.id), eq(subscriptions.status, 'ACTIVE')))
    return currentPlan(tenant.id)
  }
  const usage = active.lineItems.find((l) => l.plan.pricingDetails.__typename === 'AppUsagePricing')
  const capped = Number(usage?.plan.pricingDetails.cappedAmount?.amount ?? env().BILLING_CAPPED_AMOUNT)
  await db()
    .insert(subscriptions)
    .values({
      tenantId: tenant.id,
      externalId: active.id,
      usageLineItemId: usage?.id ?? null,
      status: active.status,
      cappedAmount: capped,
      pricePerRender: env().BILLING_PRICE_PER_RENDER,
      currency: env().BILLING_CURRENCY,
      test: active.test,
    })
    .onConflictDoUpdate({
      target: [subscriptions.tenantId, subscriptions.externalId],
      set: { status: active.status, usageLineItemId: usage?.id ?? null, cappedAmount: capped, updatedAt: new Date() },
    })
  return currentPlan(tenant.id)
}

function periodStart(now = new Date()): Date {
  // why calendar month: Shopify's usage cap resets every 30-day billing
  // cycle; a calendar month is a conservative stand-in we can compute locally.
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))
}

export interface Usage {
  renders: number
  amount: number
  cap: number
  currency: string
}

export async function usageThisPeriod(tenantId: string, plan?: Subscription): Promise<Usage> {
  const [row] = await db()
    .select({ n: sql<number>`count(*)::int` })
    .from(usageLedger)
    .where(and(eq(usageLedger.tenantId, tenantId), eq(usageLedger.kind, 'render'), gte(usageLedger.createdAt, periodStart())))
  const price = plan?.pricePerRender ?? env().BILLING_PRICE_PER_RENDER
  return {
    renders: row.n,
    amount: Math.round(row.n * price * 100) / 100,
    cap: plan?.cappedAmount ?? env().BILLING_CAPPED_AMOUNT,
    currency: plan?.currency ?? env().BILLING_CURRENCY,
  }
}

/**
 * Refuses renders before any GPU time is spent when the shop has no active
 * plan or the renders would pass the cap. Free where the platform charges no usage.
 * This is the early, advisory check; reserveRenders is the binding one.
 */
export async function assertCanRender(tenant: Tenant, count: number): Promise<void> {
  await billingFor(tenant).assertCanRender(count)
}

/** A transaction of db() (what reserveRenders runs in). */
export type Tx = Parameters<Parameters<ReturnType<typeof db>['transaction']>[0]>[0]

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

async function reserveUsage(tx: Tx, tenant: Tenant, count: () => Promise<number>): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`atelier:render-cap:${tenant.id}`}, 0))`)
  // why counted under the lock: what is new depends on what the request before this one inserted.
  const n = await count()
  if (n > 0) await checkCap(tx, tenant, n)
}

async function checkCap(executor: ReturnType<typeof db> | Tx, tenant: Tenant, count: number): Promise<void> {
  const plan = await currentPlan(tenant.id)
  if (!plan || plan.status !== 'ACTIVE' || !plan.usageLineItemId) {
    throw new AppError('BILLING_REQUIRED', 'Choose a plan to start rendering: open the Plan page.', { details: { planUrl: '/app/plan' } })
  }
  // why one statement: a render finishing in between moves from open to used in one transaction;
  // two readings could see it in neither and let one render past the cap.
  const [{ used, open }] = await executor
    .select({
      used: sql<number>`(select count(*)::int from ${usageLedger} where ${and(eq(usageLedger.tenantId, tenant.id), eq(usageLedger.kind, 'render'), gte(usageLedger.createdAt, periodStart()))})`,
      // why in-flight too: renders already queued will be charged when they finish.
      open: sql<number>`(select count(*)::int from ${renders} where ${and(eq(renders.tenantId, tenant.id), inArray(renders.status, ['queued', 'running', 'retrying']))})`,
    })
    .from(sql`(select 1) as one`)
  const usedAmount = Math.round(used * plan.pricePerRender * 100) / 100
  if (usedAmount + (open + count) * plan.pricePerRender > plan.cappedAmount + 1e-9) {
    throw new AppError(
      'BILLING_CAP_REACHED',
      `These ${count} renders would pass this month's cap of ${plan.cappedAmount} ${plan.currency} (used ${usedAmount.toFixed(2)}). Raise the cap on the Plan page.`,
      { details: { planUrl: '/app/plan' } },
    )
  }
}

/**
 * Charges one finished render exactly once: the ledger row is keyed by the
 * render, and Shopify's usage record by idempotencyKey = render id, so a
 * retried charge returns the first record.
 */
export async function chargeRender(tenant: Tenant, renderId: string, admin: AdminGraphql): Promise<string | null> {
  return billingFor(tenant).billed ? chargeUsage(tenant, renderId, admin) : null
}

async function chargeUsage(tenant: Tenant, renderId: string, admin: AdminGraphql): Promise<string | null> {
  const entry = await db().query.usageLedger.findFirst({
    where: and(eq(usageLedger.tenantId, tenant.id), eq(usageLedger.idempotencyKey, `render:${renderId}`)),
  })
  if (!entry) throw new AppError('NOT_FOUND', `No usage recorded for render ${renderId}`)
  if (entry.chargeExternalId) return entry.chargeExternalId
  const plan = await currentPlan(tenant.id)
  if (!plan?.usageLineItemId) throw new AppError('BILLING_REQUIRED', 'No active plan to charge the render to')
  const data = await admin<{ appUsageRecordCreate: { appUsageRecord: { id: string } | null; userErrors: UserError[] } }>(USAGE_RECORD_CREATE, {
    lineItemId: plan.usageLineItemId,
    price: { amount: plan.pricePerRender, currencyCode: plan.currency },
    description: `Atelier render ${renderId}`,
    idempotencyKey: renderId,
  })
  assertOk(data.appUsageRecordCreate.userErrors, 'Charging the render failed')
  const id = data.appUsageRecordCreate.appUsageRecord?.id ?? null
  await db()
    .update(usageLedger)
    .set({ chargeExternalId: id, chargedAt: new Date(), amount: plan.pricePerRender })
    .where(and(eq(usageLedger.id, entry.id), isNull(usageLedger.chargeExternalId)))
  logger().info({ renderId, usageRecord: id }, 'render charged')
  return id
}

/** Charges finished renders not charged yet (a charge that failed earlier), oldest first. */
export async function chargeOutstanding(tenant: Tenant, admin: AdminGraphql, limit = 25): Promise<number> {
  return billingFor(tenant).billed ? chargeOutstandingUsage(tenant, admin, limit) : 0
}

async function chargeOutstandingUsage(tenant: Tenant, admin: AdminGraphql, limit: number): Promise<number> {
  const pending = await db()
    .select({ renderId: usageLedger.renderId })
    .from(usageLedger)
    .where(and(eq(usageLedger.tenantId, tenant.id), eq(usageLedger.kind, 'render'), isNull(usageLedger.chargeExternalId)))
    .orderBy(usageLedger.createdAt)
    .limit(limit)
  let charged = 0
  for (const { renderId } of pending) {
    if (!renderId) continue
    await chargeUsage(tenant, renderId, admin)
    charged++
  }
  return charged
}

// ---------------------------------------------------------------------------
// Who pays: the platform says whether its renders are charged as app usage.

export interface RenderPrice {
  amount: number
  currency: string
}

/** Billing for one tenant: the usage plan where the platform charges app usage, free otherwise. */
export interface Biller {
  readonly billed: boolean
  /** The early, advisory cap check, before any GPU time is spent. */
  assertCanRender(count: number): Promise<void>
  /** The binding cap check, in the transaction that inserts the renders. */
  reserveRenders(tx: Tx, count: () => Promise<number>): Promise<void>
  pricePerRender(): Promise<RenderPrice>
}

export function billingFor(tenant: Tenant): Biller {
  if (!platformFor(tenant).chargesAppUsage) return FREE
  return {
    billed: true,
    assertCanRender: (count) => checkCap(db(), tenant, count),
    reserveRenders: (tx, count) => reserveUsage(tx, tenant, count),
    pricePerRender: async () => {
      const plan = await currentPlan(tenant.id)
      return { amount: plan?.pricePerRender ?? env().BILLING_PRICE_PER_RENDER, currency: plan?.currency ?? env().BILLING_CURRENCY }
    },
  }
}

const FREE: Biller = {
  billed: false,
  assertCanRender: async () => {},
  reserveRenders: async () => {},
  pricePerRender: async () => ({ amount: 0, currency: env().BILLING_CURRENCY }),
}
