import { env } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { blockedBy, readLimited, sharedGuard, type OutboundGuard } from '#app/lib/outbound.server.ts'
import { MEDIA_IMAGE_NODE } from '../documents.ts'
import type { ShopifyContext } from './context.ts'
import { checkMedia, checkProduct } from './ids.ts'

// One product image: its media node, and its bytes from Shopify's CDN.

/**
 * The guard for CDN downloads and staged uploads: public addresses only,
 * redirects included. The one origin exempt is the configured Admin API's
 * for this shop (SHOPIFY_ADMIN_ORIGIN), Shopify's own host; pointed at the
 * local Admin fake, that is how its CDN and staged targets on loopback are reached.
 */
export function shopifyGuard(shop: string): OutboundGuard {
  const origin = new URL(env().SHOPIFY_ADMIN_ORIGIN.replaceAll('{shop}', shop)).origin
  // why: the default https://{shop} is public and needs no exemption (nor a guard per shop).
  return sharedGuard(origin.includes(shop) ? [] : [origin])
}

/** A URL from Shopify that leads to a private address is refused for good, not retried. */
export function refuseBlocked(e: unknown, what: string): void {
  const blocked = blockedBy(e)
  if (!blocked) return
  throw new AppError(
    'SHOPIFY_UNAVAILABLE',
    `${what} URL Shopify gave leads to a private or special address (${blocked.range}); nothing was sent.`,
    {
      cause: blocked,
      details: { host: blocked.host },
    },
  )
}

/** The media as a MediaImage, or null when it is gone or is not an image. */
export async function mediaNode(ctx: ShopifyContext, mediaId: string) {
  const data = await ctx.client.request(MEDIA_IMAGE_NODE, { id: mediaId })
  const node = data.node
  if (!node || node.__typename !== 'MediaImage') return null
  return node as Extract<typeof node, { __typename: 'MediaImage' }>
}

export async function readImage(ctx: ShopifyContext, productId: string, imageId: string): Promise<Buffer> {
  checkProduct(productId)
  checkMedia(imageId)
  const node = await mediaNode(ctx, imageId)
  if (!node?.image?.url || node.status !== 'READY') {
    throw new AppError('NOT_FOUND', `Image ${imageId} of product ${productId} is not available`, {
      details: { productId, imageId },
    })
  }
  return download(ctx, node.image.url)
}

/** A CDN file, with no credentials, refused past the upload limit. */
async function download(ctx: ShopifyContext, url: string): Promise<Buffer> {
  const limit = env().MAX_UPLOAD_BYTES
  let response: Response
  try {
    response = await ctx.fetchImpl(url, { redirect: 'follow', signal: AbortSignal.timeout(60_000) })
  } catch (e) {
    refuseBlocked(e, 'The image')
    throw new AppError('SHOPIFY_UNAVAILABLE', `The image could not be downloaded from Shopify's CDN`, {
      cause: e,
      retryable: true,
    })
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel()
    throw new AppError(
      response.status === 404 ? 'NOT_FOUND' : 'SHOPIFY_UNAVAILABLE',
      `Shopify's CDN answered ${response.status} for the image`,
      {
        retryable: response.status >= 500,
      },
    )
  }
  const declared = Number(response.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > limit) {
    await response.body.cancel()
    throw new AppError('IMAGE_TOO_LARGE', `The image is ${declared} bytes; the limit is ${limit}`)
  }
  return readLimited(response.body, limit)
}
