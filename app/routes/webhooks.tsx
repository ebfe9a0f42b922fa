import type { ActionFunctionArgs } from '@remix-run/node'
import { authenticate } from '#app/shopify.server.ts'
import { handleWebhook } from '#app/modules/webhooks/service.server.ts'

// Every topic in shopify.app.toml is delivered here. The library verifies the
// HMAC (401 on a bad one, before we read anything); handlers are idempotent by
// webhook id and fast: they change rows and cancel jobs, nothing slower.
export async function action({ request }: ActionFunctionArgs) {
  const { topic, shop, webhookId, payload } = await authenticate.webhook(request)
  await handleWebhook({ topic, shop, webhookId, payload })
  return new Response(null, { status: 200 })
}

export function loader() {
  return new Response('Method Not Allowed', { status: 405, headers: { allow: 'POST' } })
}
