import type { LoaderFunctionArgs } from '@remix-run/node'
import { eq } from 'drizzle-orm'
import { z } from 'zod'
import { heatPng } from '#app/components/heat-view.server.ts'
import { db } from '#app/lib/db.server.ts'
import { notFound } from '#app/lib/errors.ts'
import { throwAsResponse } from '#app/lib/http.server.ts'
import { imageResponse } from '#app/lib/media.server.ts'
import { verifySignedUrl } from '#app/lib/storage.server.ts'
import { renders } from '#db/schema.ts'

// A render's heat map, behind a signed, expiring link like every image we
// serve: the overlay loads it only when shown, and inside the admin's iframe
// an <image> request carries no session token.
export async function loader({ request, params }: LoaderFunctionArgs) {
  try {
    verifySignedUrl(new URL(request.url))
    const id = params.renderId ?? ''
    if (!z.uuid().safeParse(id).success) throw notFound('Heat map')
    const [row] = await db().select({ fidelity: renders.fidelity }).from(renders).where(eq(renders.id, id))
    const png = row ? heatPng(row.fidelity as Record<string, unknown> | null) : null
    if (!png) throw notFound('Heat map')
    return imageResponse(png, 'image/png')
  } catch (e) {
    throwAsResponse(e)
  }
}
