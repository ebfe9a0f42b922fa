import { AppError, isAppError } from '#app/lib/errors.ts'
import { blockedBy } from '#app/lib/outbound.server.ts'
import type { WeshopConnection } from './http.server.ts'
import { backoff, retryAfterMs, sleep } from './retry.ts'

// A result image from the URL WeShop names: never with the key, through the
// results guard, size-capped, with the retries a read allows.

function checkedUrl(url: string): URL {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    throw new AppError('BACKEND_FAILED', 'WeShop named a result that is not a URL.', { details: { backend: 'weshop' } })
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    throw new AppError('BACKEND_FAILED', `WeShop named a result at a ${target.protocol} URL.`, {
      details: { backend: 'weshop' },
    })
  }
  return target
}

/** The body of a successful answer, refused when larger than `maxBytes` (declared or read). */
async function cappedBody(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? '0')
  if (declared > maxBytes) {
    throw new AppError('BACKEND_FAILED', `WeShop's result is ${declared} bytes, more than the ${maxBytes} allowed.`, {
      details: { backend: 'weshop' },
    })
  }
  const bytes = Buffer.from(await res.arrayBuffer())
  if (bytes.length > maxBytes) {
    throw new AppError('BACKEND_FAILED', `WeShop's result is larger than the ${maxBytes} bytes allowed.`, {
      details: { backend: 'weshop' },
    })
  }
  return bytes
}

/** Fetches a result from WeShop's CDN (without the key). */
export async function download(conn: WeshopConnection, url: string, signal?: AbortSignal): Promise<Buffer> {
  const { transferTimeoutMs } = conn
  const target = checkedUrl(url)
  for (let n = 1; ; n++) {
    const timeout = AbortSignal.timeout(transferTimeoutMs)
    let failure: AppError
    let waitMs: number | undefined
    try {
      // why no Authorization: results live on WeShop's CDN, and the key goes to the API host only.
      const res = await conn.fetchResult(target, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout })
      if (res.ok) return await cappedBody(res, conn.maxDownloadBytes)
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408
      waitMs = retryAfterMs(res.headers.get('retry-after'))
      failure = new AppError('BACKEND_FAILED', `Downloading WeShop's result failed with HTTP ${res.status}.`, {
        retryable,
        details: { backend: 'weshop', status: res.status, host: target.host },
      })
      if (!retryable) throw failure
    } catch (e) {
      if (signal?.aborted) throw signal.reason
      if (isAppError(e)) throw e
      const blocked = blockedBy(e)
      if (blocked) {
        throw new AppError(
          'BACKEND_FAILED',
          `WeShop named a result on a private or special address (${blocked.range}); it was not downloaded.`,
          {
            cause: blocked,
            details: { backend: 'weshop', host: target.host, blocked: true },
          },
        )
      }
      failure = new AppError(
        timeout.aborted ? 'BACKEND_TIMEOUT' : 'BACKEND_UNAVAILABLE',
        timeout.aborted
          ? `Downloading WeShop's result took longer than ${transferTimeoutMs} ms.`
          : `WeShop's result host ${target.host} is unreachable.`,
        { retryable: true, details: { backend: 'weshop', host: target.host } },
      )
    }
    if (n >= conn.maxAttempts || (waitMs ?? 0) > conn.maxRetryAfterMs) throw failure
    await sleep(Math.max(waitMs ?? 0, backoff(n, conn, conn.random)), signal)
  }
}
