// An item image's bytes from the URL Taobao gave: through the outbound guard
// (public addresses only, the configured gateway's origin excepted: the
// test fake serves images there), without credentials, within the upload limit.
import { env } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { blockedBy, guardedFetch, readLimited, sharedGuard } from '#app/lib/outbound.server.ts'

function guard() {
  return sharedGuard([new URL(env().TAOBAO_GATEWAY_URL).origin])
}

export async function downloadImage(url: string): Promise<Buffer> {
  const limit = env().MAX_UPLOAD_BYTES
  let response: Response
  try {
    response = await guardedFetch(url, { redirect: 'follow', signal: AbortSignal.timeout(60_000) }, guard())
  } catch (e) {
    const blocked = blockedBy(e)
    if (blocked) {
      throw new AppError(
        'TAOBAO_UNAVAILABLE',
        `The image URL Taobao gave leads to a private or special address (${blocked.range}); nothing was sent.`,
        {
          cause: blocked,
        },
      )
    }
    throw new AppError('TAOBAO_UNAVAILABLE', 'The image could not be downloaded from Taobao.', { cause: e, retryable: true })
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel()
    throw new AppError(
      response.status === 404 ? 'NOT_FOUND' : 'TAOBAO_UNAVAILABLE',
      `Taobao's image server answered ${response.status}`,
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
