import type { ActionFunctionArgs } from '@remix-run/node'
import { isAppError } from '#app/lib/errors.ts'
import { authenticate } from '#app/shopify.server.ts'
import { isShopDomain } from '#app/modules/shopify/webhooks/delivery.ts'
import { handleWebhook } from '#app/modules/shopify/webhooks/service.server.ts'

// Every topic in shopify.app.toml is delivered here. The library verifies the
// HMAC (401 on a bad one, before we read anything); the service then checks the
// unsigned headers against the signed body (400 when they disagree). Handlers
// are idempotent by webhook and event id, and fast: they change rows and cancel jobs.
export async function action({ request }: ActionFunctionArgs) {
  // why first: the library loads a session by this name and throws (500) on one it cannot parse.
  if (!isShopDomain(request.headers.get('x-shopify-shop-domain'))) return badRequest()
  const webhook = await authenticate.webhook(request)
  try {
    await handleWebhook({
      topic: webhook.topic,
      shop: webhook.shop,
      webhookId: webhook.webhookId,
      eventId: 'eventId' in webhook ? webhook.eventId : undefined,
      triggeredAt: webhook.triggeredAt,
      payload: webhook.payload,
    })
  } catch (e) {
    if (isAppError(e) && e.code === 'INVALID_INPUT') return badRequest()
    throw e
  }
  return new Response(null, { status: 200 })
}

function badRequest() {
  return new Response('Bad Request', { status: 400 })
}

export function loader() {
  return new Response('Method Not Allowed', { status: 405, headers: { allow: 'POST' } })
}
