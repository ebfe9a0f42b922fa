import type { LoaderFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import { throwAsResponse } from '#app/lib/http.server.ts'
import { imageResponse } from '#app/lib/media.server.ts'
import { verifySignedUrl } from '#app/lib/storage.server.ts'
import { thumbnail } from '#app/modules/imaging/thumbnail.server.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import { getTenant } from '#app/modules/tenants/service.server.ts'

const widthSchema = z.coerce.number().int().min(32).max(2048).default(480)

export async function loader({ request, params }: LoaderFunctionArgs) {
  try {
    const url = new URL(request.url)
    verifySignedUrl(url)
    const tenant = await getTenant(params.tenantId ?? '')
    const productId = params.productId ?? ''
    const imageId = params.imageId ?? ''
    const width = widthSchema.parse(url.searchParams.get('w') ?? undefined)
    const bytes = await thumbnail(`${tenant.id}/${productId}/${imageId}`, () => platformFor(tenant).readImage(productId, imageId), width)
    return imageResponse(bytes, 'image/webp')
  } catch (e) {
    throwAsResponse(e)
  }
}
