import type { LoaderFunctionArgs } from '@remix-run/node'
import { throwAsResponse } from '#app/lib/http.server.ts'
import { imageResponse } from '#app/lib/media.server.ts'
import { verifySignedUrl } from '#app/lib/storage.server.ts'
import { previewWidth, thumbnail } from '#app/modules/imaging/thumbnail.server.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import { getTenant } from '#app/modules/tenants/service.server.ts'


export async function loader({ request, params }: LoaderFunctionArgs) {
  try {
    const url = new URL(request.url)
    verifySignedUrl(url)
    const tenant = await getTenant(params.tenantId ?? '')
    const productId = params.productId ?? ''
    const imageId = params.imageId ?? ''
    const width = previewWidth.default(480).parse(url.searchParams.get('w') ?? undefined)
    const bytes = await thumbnail(`${tenant.id}/${productId}/${imageId}`, () => platformFor(tenant).readImage(productId, imageId), width)
    return imageResponse(bytes, 'image/webp')
  } catch (e) {
    throwAsResponse(e)
  }
}
