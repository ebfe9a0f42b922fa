import { and, eq, gte, inArray, isNull, sql } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import type { Biller, Tx } from '#app/modules/billing/types.ts'
import { renders, usageLedger, type Subscription, type Tenant } from '#db/schema.ts'
import { adminGraphql, type AdminGraphql } from '../admin.server.ts'
import { assertOk, currentPlan, type UserError } from './plan.server.ts'

// Renders on the shop's usage plan: the cap checked before they start, each
// finished one charged once as a Shopify usage record.

// why our own mutation: the library's billing.createUsageRecord drops
// idempotencyKey, and a retried charge must never bill twice.
const USAGE_RECORD_CREATE = `#graphql
  mutation AtelierUsageRecordCreate($lineItemId: ID!, $price: MoneyInput!, $description: String!, $idempotencyKey: String) {
    appUsageRecordCreate(subscriptionLineItemId: $lineItemId, price: $price, description: $description, idempotencyKey: $idempotencyKey) {
      appUsageRecord { id }
      userErrors { field message }
    }
  }`

/**
 * The Biller of a tenant whose platform charges app usage (Shopify's usage
 * plan). Charges go through `admin`, by default the shop's own client on its
 * offline token (tests pass one for the Admin API fake).
 */
export function usageBiller(tenant: Tenant, admin?: AdminGraphql): Biller {
  // why asked only when charging: checking the cap needs no Admin client.
  const shopAdmin = () => admin ?? adminGraphql(tenant.externalId)
  return {
    billed: true,
    assertCanRender: (count) => checkCap(db(), tenant, count),
    reserveRenders: (tx, count) => reserveUsage(tx, tenant, count),
    pricePerRender: async () => {
      const plan = await currentPlan(tenant.id)
      return { amount: plan?.pricePerRender ?? env().BILLING_PRICE_PER_RENDER, currency: plan?.currency ?? env().BILLING_CURRENCY }
    },
    capLeft: async () => {
      const plan = await currentPlan(tenant.id)
      const usage = await usageThisPeriod(tenant.id, plan)
      return { amount: Math.max(0, Math.round((usage.cap - usage.amount) * 100) / 100), currency: usage.currency }
    },
    chargeRender: async (renderId) => chargeUsage(tenant, renderId, shopAdmin()),
    chargeOutstanding: async (limit = 25) => chargeOutstandingUsage(tenant, shopAdmin(), limit),
  }
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

/** The binding cap check, under a per-shop transaction lock (see reserveRenders). */
async function reserveUsage(tx: Tx, tenant: Tenant, count: () => Promise<number>): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`atelier:render-cap:${tenant.id}`}, 0))`)
  // why counted under the lock: what is new depends on what the request before this one inserted.
  const n = await count()
  if (n > 0) await checkCap(tx, tenant, n)
}

/** Refuses renders when the shop has no active plan or they would pass the cap (renders in flight count). */
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
