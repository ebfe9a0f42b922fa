import type { LoaderFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import { throwAsResponse } from '#app/lib/http.server.ts'
import { imageResponse } from '#app/lib/media.server.ts'
import { imageStore, verifySignedUrl } from '#app/lib/storage.server.ts'
import { thumbnail } from '#app/modules/imaging/thumbnail.server.ts'

const widthSchema = z.coerce.number().int().min(32).max(2048)

export async function loader({ request, params }: LoaderFunctionArgs) {
  try {
    const url = new URL(request.url)
    verifySignedUrl(url)
    const key = params.key ?? ''
    const w = url.searchParams.get('w')
    // why previews: a result card is ~300 px wide; the 1536×2048 JPEG is 200+ KB a card on a slow link.
    if (w !== null) return imageResponse(await thumbnail(`media/${key}`, () => imageStore().get(key), widthSchema.parse(w)), 'image/webp')
    return imageResponse(await imageStore().get(key))
  } catch (e) {
    throwAsResponse(e)
  }
}
