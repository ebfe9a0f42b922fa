// One HTTP request to a GPU server with its own time limit: what ComfyUI and
// SD WebUI share. A caller's abort wins; a timeout and a refused connection
// become retryable AppErrors that name the server and the path.
import { AppError } from '#app/lib/errors.ts'

export interface TimedRequest {
  /** The server's name in messages ("ComfyUI", "SD WebUI"). */
  server: string
  baseUrl: string
  path: string
  init: RequestInit
  timeoutMs: number
  send: (url: string, init: RequestInit) => Promise<Response>
}

export async function timedRequest({ server, baseUrl, path, init, timeoutMs, send }: TimedRequest): Promise<Response> {
  const timeout = AbortSignal.timeout(timeoutMs)
  const caller = init.signal ?? undefined
  try {
    return await send(`${baseUrl}${path}`, { ...init, signal: caller ? AbortSignal.any([caller, timeout]) : timeout })
  } catch (cause) {
    if (caller?.aborted) throw caller.reason
    const details = { backend: baseUrl, path }
    if (timeout.aborted) {
      throw new AppError('BACKEND_TIMEOUT', `${server} at ${baseUrl} did not answer ${path} within ${timeoutMs} ms`, {
        retryable: true,
        cause,
        details,
      })
    }
    // why the cause's cause: undici's "fetch failed" wraps the reason a merchant can act on (ECONNREFUSED, ENOTFOUND).
    const reason = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause)
    throw new AppError('BACKEND_UNAVAILABLE', `${server} at ${baseUrl} is unreachable (${reason})`, {
      retryable: true,
      cause,
      details,
    })
  }
}
