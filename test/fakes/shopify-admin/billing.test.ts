import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShopifyAdminFake } from './index.ts'
import { gql, SHOP, startFake, startWebhookReceiver, waitFor } from './test-helpers.ts'

const CREATE = `mutation Sub($name: String!, $returnUrl: URL!, $test: Boolean, $lineItems: [AppSubscriptionLineItemInput!]!) {
  appSubscriptionCreate(name: $name, returnUrl: $returnUrl, test: $test, lineItems: $lineItems) {
    appSubscription { id status lineItems { id } }
    confirmationUrl
    userErrors { field message }
  }
}`
const USAGE = `mutation Usage($lineItemId: ID!, $price: MoneyInput!, $description: String!, $idempotencyKey: String) {
  appUsageRecordCreate(subscriptionLineItemId: $lineItemId, price: $price, description: $description, idempotencyKey: $idempotencyKey) {
    appUsageRecord { id price { amount currencyCode } }
    userErrors { field message }
  }
}`
const ACTIVE = `query Active { currentAppInstallation { activeSubscriptions { id name status test lineItems { id plan { pricingDetails {
  __typename ... on AppUsagePricing { cappedAmount { amount currencyCode } balanceUsed { amount currencyCode } terms } } } } } } }`

let fake: ShopifyAdminFake
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>

beforeAll(async () => {
  receiver = await startWebhookReceiver()
  fake = await startFake({ appUrl: receiver.url })
})

afterAll(async () => {
  await fake.close()
  await receiver.close()
})

async function subscribe(capped = '1.00'): Promise<{ id: string; lineItemId: string; confirmationUrl: string }> {
  const res = await gql(fake, CREATE, {
    name: 'Atelier renders',
    returnUrl: 'https://atelier.example/app/plan',
    test: true,
    lineItems: [
      {
        plan: { appUsagePricingDetails: { terms: '0.05 USD per render', cappedAmount: { amount: capped, currencyCode: 'USD' } } },
      },
    ],
  })
  const payload = res.body.data!.appSubscriptionCreate
  expect(payload.userErrors).toEqual([])
  expect(payload.appSubscription.status).toBe('PENDING')
  return {
    id: payload.appSubscription.id,
    lineItemId: payload.appSubscription.lineItems[0].id,
    confirmationUrl: payload.confirmationUrl,
  }
}

function charge(lineItemId: string, amount: string, idempotencyKey: string) {
  return gql(fake, USAGE, { lineItemId, price: { amount, currencyCode: 'USD' }, description: 'One render', idempotencyKey })
}

describe('usage billing', () => {
  it('creates a PENDING subscription the merchant approves on its confirmation URL', async () => {
    const sub = await subscribe()
    expect(sub.confirmationUrl).toMatch(new RegExp(`^${fake.origin}/${SHOP}/admin/charges/`))
    const before = await charge(sub.lineItemId, '0.05', 'too-early')
    expect(before.body.data!.appUsageRecordCreate.userErrors).toEqual([
      { field: ['subscriptionLineItemId'], message: 'Subscription is not active' },
    ])

    const page = await fetch(sub.confirmationUrl)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('https://atelier.example/app/plan?charge_id=')
    const active = await gql(fake, ACTIVE)
    expect(active.body.data!.currentAppInstallation.activeSubscriptions).toEqual([
      {
        id: sub.id,
        name: 'Atelier renders',
        status: 'ACTIVE',
        test: true,
        lineItems: [
          {
            id: sub.lineItemId,
            plan: {
              pricingDetails: {
                __typename: 'AppUsagePricing',
                cappedAmount: { amount: '1.0', currencyCode: 'USD' },
                balanceUsed: { amount: '0.0', currencyCode: 'USD' },
                terms: '0.05 USD per render',
              },
            },
          },
        ],
      },
    ])
    await waitFor(() => receiver.received.some((w) => w.headers['x-shopify-topic'] === 'app_subscriptions/update'), Boolean)
  })

  it('charges once per idempotency key and refuses to go over the cap', async () => {
    const sub = await subscribe('0.10')
    await fetch(sub.confirmationUrl)

    const first = await charge(sub.lineItemId, '0.05', 'render-1')
    const record = first.body.data!.appUsageRecordCreate.appUsageRecord
    expect(record.price).toEqual({ amount: '0.05', currencyCode: 'USD' })
    const repeat = await charge(sub.lineItemId, '0.05', 'render-1')
    expect(repeat.body.data!.appUsageRecordCreate).toEqual({
      appUsageRecord: { id: record.id, price: { amount: '0.05', currencyCode: 'USD' } },
      userErrors: [],
    })

    expect((await charge(sub.lineItemId, '0.05', 'render-2')).body.data!.appUsageRecordCreate.userErrors).toEqual([])
    const over = await charge(sub.lineItemId, '0.05', 'render-3')
    expect(over.body.data!.appUsageRecordCreate).toEqual({
      appUsageRecord: null,
      userErrors: [{ field: null, message: 'Total price exceeds balance remaining' }],
    })

    const state = fake.state(SHOP)
    expect(state.usageRecords.filter((r) => r.subscriptionLineItemId === sub.lineItemId).map((r) => r.idempotencyKey)).toEqual([
      'render-1',
      'render-2',
    ])
    expect(state.subscriptions.find((s) => s.id === sub.id)!.lineItems[0].balanceUsed).toBe('0.1')
  })

  it('replaces the previous active subscription when a new one is approved', async () => {
    const active = await gql(fake, ACTIVE)
    expect(active.body.data!.currentAppInstallation.activeSubscriptions).toHaveLength(1)
    expect(fake.state(SHOP).subscriptions.filter((s) => s.status === 'CANCELLED')).toHaveLength(1)
  })
})
