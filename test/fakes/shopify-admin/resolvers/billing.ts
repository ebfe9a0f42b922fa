// App billing: a usage-based subscription the merchant approves on its
// confirmationUrl, then usage records charged against its capped amount.
// Like Shopify, a repeated idempotencyKey returns the record it created the
// first time instead of charging again.
import { createHmac } from 'node:crypto'
import { gid, toMicros } from '../ids.ts'
import type { Runtime } from '../runtime.ts'
import type { LineItemRecord, ShopRecord, SubscriptionRecord } from '../store.ts'
import { subscriptionPayload } from '../webhooks.ts'
import type { Ctx, UserError } from './context.ts'
import { subscriptionView, usageRecordView } from './views.ts'

const MAX_IDEMPOTENCY_KEY = 255
const APP_LEGACY_ID = 1

interface MoneyInput {
  amount: string | number
  currencyCode: string
}

interface LineItemInput {
  plan: {
    appUsagePricingDetails?: { cappedAmount: MoneyInput; terms: string } | null
    appRecurringPricingDetails?: { price: MoneyInput; interval?: string | null } | null
  }
}

export function appSubscriptionCreate(
  ctx: Ctx,
  args: { name: string; returnUrl: string; test?: boolean | null; trialDays?: number | null; lineItems: LineItemInput[] },
) {
  const { shop, rt } = ctx
  const fail = (errors: UserError[]) => ({ appSubscription: null, confirmationUrl: null, userErrors: errors })
  if (!args.name.trim()) return fail([{ field: ['name'], message: "Name can't be blank" }])
  if (args.lineItems.length === 0) return fail([{ field: ['lineItems'], message: 'Line items must have at least one line item' }])

  const legacyId = shop.nextId()
  const lineItems: LineItemRecord[] = []
  for (const [index, item] of args.lineItems.entries()) {
    const usage = item.plan.appUsagePricingDetails
    const recurring = item.plan.appRecurringPricingDetails
    const id = gid('AppSubscriptionLineItem', `${legacyId}?v=1&index=${index}`)
    if (usage) {
      const capped = toMicros(usage.cappedAmount.amount)
      if (capped === null || capped <= 0)
        return fail([
          {
            field: ['lineItems', String(index), 'plan', 'appUsagePricingDetails', 'cappedAmount'],
            message: 'Capped amount must be greater than 0',
          },
        ])
      lineItems.push({
        id,
        pricing: { kind: 'usage', cappedMicros: capped, currencyCode: usage.cappedAmount.currencyCode, terms: usage.terms },
        balanceUsedMicros: 0,
      })
    } else if (recurring) {
      const price = toMicros(recurring.price.amount)
      if (price === null || price < 0)
        return fail([
          {
            field: ['lineItems', String(index), 'plan', 'appRecurringPricingDetails', 'price'],
            message: 'Price must be greater than or equal to 0',
          },
        ])
      lineItems.push({
        id,
        pricing: {
          kind: 'recurring',
          priceMicros: price,
          currencyCode: recurring.price.currencyCode,
          interval: recurring.interval ?? 'EVERY_30_DAYS',
        },
        balanceUsedMicros: 0,
      })
    } else {
      return fail([{ field: ['lineItems', String(index), 'plan'], message: 'Plan must specify exactly one pricing details' }])
    }
  }
  const signature = createHmac('sha256', rt.apiSecret).update(String(legacyId)).digest('hex').slice(0, 32)
  const subscription: SubscriptionRecord = {
    id: gid('AppSubscription', legacyId),
    legacyId,
    name: args.name,
    returnUrl: args.returnUrl,
    test: args.test ?? false,
    trialDays: args.trialDays ?? 0,
    status: 'PENDING',
    createdAt: new Date(rt.now()),
    confirmationUrl: `${rt.shopBase(shop)}/admin/charges/${APP_LEGACY_ID}/${legacyId}/RecurringApplicationCharge/confirm_recurring_application_charge?signature=${signature}`,
    lineItems,
  }
  shop.subscriptions.set(subscription.id, subscription)
  return { appSubscription: subscriptionView(ctx, subscription), confirmationUrl: subscription.confirmationUrl, userErrors: [] }
}

/**
 * The merchant's answer on the confirmation page: a GET on confirmationUrl
 * approves (add `&decision=decline` to decline). Returns the url Shopify then
 * sends the merchant to: returnUrl with ?charge_id=.
 */
export function answerConfirmation(rt: Runtime, shop: ShopRecord, legacyId: number, decline: boolean): string | null {
  const subscription = [...shop.subscriptions.values()].find((s) => s.legacyId === legacyId)
  if (!subscription) return null
  if (subscription.status === 'PENDING') {
    if (decline) {
      subscription.status = 'DECLINED'
    } else {
      // why: a newly approved subscription replaces the app's current one (replacementBehavior STANDARD).
      for (const other of shop.subscriptions.values())
        if (other !== subscription && other.status === 'ACTIVE') other.status = 'CANCELLED'
      subscription.status = 'ACTIVE'
    }
    rt.emitWebhook(shop, 'app_subscriptions/update', subscriptionPayload(shop, subscription))
  }
  const target = new URL(subscription.returnUrl)
  target.searchParams.set('charge_id', String(subscription.legacyId))
  return target.toString()
}

export function appUsageRecordCreate(
  ctx: Ctx,
  args: { description: string; price: MoneyInput; subscriptionLineItemId: string; idempotencyKey?: string | null },
) {
  const { shop, rt } = ctx
  const fail = (error: UserError) => ({ appUsageRecord: null, userErrors: [error] })
  if (args.idempotencyKey && args.idempotencyKey.length > MAX_IDEMPOTENCY_KEY) {
    return fail({ field: ['idempotencyKey'], message: `Idempotency key must be at most ${MAX_IDEMPOTENCY_KEY} characters` })
  }
  let subscription: SubscriptionRecord | undefined
  let item: LineItemRecord | undefined
  for (const s of shop.subscriptions.values()) {
    item = s.lineItems.find((i) => i.id === args.subscriptionLineItemId)
    if (item) {
      subscription = s
      break
    }
  }
  if (!subscription || !item) return fail({ field: ['subscriptionLineItemId'], message: 'Subscription line item not found' })
  if (args.idempotencyKey) {
    const existing = [...shop.usageRecords.values()].find(
      (r) => r.lineItemId === item.id && r.idempotencyKey === args.idempotencyKey,
    )
    if (existing) return { appUsageRecord: usageRecordView(ctx, existing), userErrors: [] }
  }
  if (subscription.status !== 'ACTIVE') return fail({ field: ['subscriptionLineItemId'], message: 'Subscription is not active' })
  if (item.pricing.kind !== 'usage')
    return fail({ field: ['subscriptionLineItemId'], message: 'Subscription line item must have usage pricing' })
  const amount = toMicros(args.price.amount)
  if (amount === null || amount <= 0) return fail({ field: ['price'], message: 'Price must be greater than 0' })
  if (args.price.currencyCode !== item.pricing.currencyCode) {
    return fail({
      field: ['price', 'currencyCode'],
      message: `Currency must match the subscription line item currency (${item.pricing.currencyCode})`,
    })
  }
  if (item.balanceUsedMicros + amount > item.pricing.cappedMicros)
    return fail({ field: null, message: 'Total price exceeds balance remaining' })

  item.balanceUsedMicros += amount
  const legacyId = shop.nextId()
  const record = {
    id: gid('AppUsageRecord', legacyId),
    lineItemId: item.id,
    description: args.description,
    amountMicros: amount,
    currencyCode: args.price.currencyCode,
    idempotencyKey: args.idempotencyKey ?? null,
    createdAt: new Date(rt.now()),
  }
  shop.usageRecords.set(record.id, record)
  return { appUsageRecord: usageRecordView(ctx, record), userErrors: [] }
}
