import type { LoaderFunctionArgs } from '@remix-run/node'
import { throwAsResponse } from '#app/lib/http.server.ts'
import { imageResponse } from '#app/lib/media.server.ts'
import { imageStore, verifySignedUrl } from '#app/lib/storage.server.ts'
import { previewWidth, thumbnail } from '#app/modules/imaging/thumbnail.server.ts'

export async function loader({ request, params }: LoaderFunctionArgs) {
  try {
    const url = new URL(request.url)
    verifySignedUrl(url)
    const key = params.key ?? ''
    const w = url.searchParams.get('w')
    // why previews: a result card is ~300 px wide; the 1536×2048 JPEG is 200+ KB a card on a slow link.
    if (w !== null) return imageResponse(await thumbnail(`media/${key}`, () => imageStore().get(key), previewWidth.parse(w)), 'image/webp')
    return imageResponse(await imageStore().get(key))
  } catch (e) {
    throwAsResponse(e)
  }
}
