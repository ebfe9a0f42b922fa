import type { LoaderFunctionArgs } from '@remix-run/node'
import { throwAsResponse } from '#app/lib/http.server.ts'
import { imageResponse } from '#app/lib/media.server.ts'
import { imageStore, verifySignedUrl } from '#app/lib/storage.server.ts'

export async function loader({ request, params }: LoaderFunctionArgs) {
  try {
    verifySignedUrl(new URL(request.url))
    return imageResponse(await imageStore().get(params.key ?? ''))
  } catch (e) {
    throwAsResponse(e)
  }
}
