import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { env } from '#app/lib/env.server.ts'
import { isAppError, toErrorBody } from '#app/lib/errors.ts'
import { detectLocale, translator } from '#app/lib/i18n.ts'
import { logger } from '#app/lib/logger.server.ts'
import { markets, scenes } from '#app/modules/looks/index.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import { createRenders } from '#app/modules/renders/service.server.ts'
import { requireShop } from '#app/modules/tenants/session.server.ts'

// The admin action extensions ("Create model photos" on a product, and on a
// selection of products) call these with the admin's session token.

const startSchema = z.object({
  productIds: z.array(z.string().min(1).max(200)).min(1).max(50),
  look: z.object({ marketId: z.string(), sceneId: z.string(), personaId: z.string().nullable().default(null) }),
  variants: z.number().int().min(1).max(4).default(2),
})

// why a key: a client that retries a POST (a timeout, a lost answer) must get the same renders, not pay twice.
const idempotencyKeySchema = z.string().regex(/^[A-Za-z0-9_.:-]{8,128}$/, 'Idempotency-Key must be 8-128 letters, digits or _.:-')

/** With an Idempotency-Key the seeds derive from it, so a repeated request names the same renders. */
function seedsFor(tenantId: string, key: string, productId: string, variants: number): number[] {
  return Array.from(
    { length: variants },
    (_, i) => createHash('sha256').update(`${tenantId}\0${key}\0${productId}\0${i}`).digest().readUInt32BE(0) & 0x7fffffff,
  )
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

/** GET: the looks an extension offers, named in the admin's language. */
export async function loader({ request }: LoaderFunctionArgs) {
  if (env().APP_MODE === 'shopify') {
    const refused = requireBearer(request)
    if (refused) return refused
  }
  const { admin } = await requireShop(request)
  const t = translator(detectLocale(request))
  const body = {
    markets: markets.map((m) => ({ id: m.id, name: t(m.nameKey), flag: m.flag, defaultScene: m.defaultScenes[0] })),
    scenes: scenes.map((s) => ({ id: s.id, name: t(s.nameKey) })),
  }
  return admin ? admin.cors(json(body)) : json(body)
}

/**
 * Extension calls always carry the admin's session token; without one this is
 * not the admin talking, and an API answers 401 rather than a login redirect.
 */
function requireBearer(request: Request): Response | null {
  if (request.method === 'OPTIONS' || /^Bearer\s+\S+/i.test(request.headers.get('authorization') ?? '')) return null
  return json({ error: { code: 'UNAUTHORIZED', message: 'Open Atelier from your store admin.' } }, 401)
}

/**
 * POST: start renders for each product's featured image; one bad product loses
 * nothing else. The same Idempotency-Key header again returns the same renders.
 */
export async function action({ request }: ActionFunctionArgs) {
  if (env().APP_MODE === 'shopify') {
    const refused = requireBearer(request)
    if (refused) return refused
  }
  const { tenant, admin } = await requireShop(request)
  const reply = (body: unknown, status?: number) => (admin ? admin.cors(json(body, status)) : json(body, status))
  const parsed = startSchema.safeParse(await request.json().catch(() => null))
  if (!parsed.success)
    return reply({ error: { code: 'INVALID_INPUT', message: parsed.error.issues.map((i) => i.message).join('; ') } }, 400)
  const { productIds, look, variants } = parsed.data
  const keyHeader = request.headers.get('idempotency-key')
  const key = keyHeader === null ? null : idempotencyKeySchema.safeParse(keyHeader)
  if (key && !key.success) return reply({ error: { code: 'INVALID_INPUT', message: key.error.issues[0].message } }, 400)
  const results = []
  for (const productId of productIds) {
    try {
      const product = await platformFor(tenant).getProduct(productId)
      const image = product.images.find((i) => !i.ours)
      if (!image) {
        results.push({ productId, error: { code: 'NOT_FOUND', message: 'This product has no image to start from' } })
        continue
      }
      const seeds = key?.success ? seedsFor(tenant.id, key.data, productId, variants) : undefined
      const created = await createRenders(tenant, { productId, imageId: image.id, look, variants, seeds })
      results.push({
        productId,
        renderIds: created.map((r) => r.id),
        studioUrl: `/app/products/${encodeURIComponent(productId)}`,
      })
    } catch (e) {
      if (!isAppError(e)) logger().error({ err: e, productId }, 'starting renders failed')
      results.push({ productId, error: toErrorBody(e) })
      // why stop on billing: every further product would be refused the same way.
      if (isAppError(e) && (e.code === 'BILLING_REQUIRED' || e.code === 'BILLING_CAP_REACHED')) break
    }
  }
  const started = results.filter((r) => 'renderIds' in r).length
  return reply({ started, results }, started > 0 || results.length === 0 ? 200 : 422)
}
