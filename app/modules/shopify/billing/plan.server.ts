import { and, desc, eq } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { subscriptions, type Subscription, type Tenant } from '#db/schema.ts'
import type { AdminGraphql } from '../admin.server.ts'

// The shop's usage plan (Shopify app subscription): started by the merchant
// on Shopify's confirmation page, read back from Shopify, recorded here.

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

export interface UserError {
  field?: string[] | null
  message: string
}

export function assertOk(userErrors: UserError[] | undefined, what: string): void {
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
