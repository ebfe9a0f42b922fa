import { AppError, isAppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { networkCode } from '#app/lib/outbound.server.ts'

// Why a connection test or health check failed, in a word the Settings page
// turns into a sentence with the next step (backends.checkReason.* in the locales).

export const checkReasons = [
  'dns',
  'refused',
  'timeout',
  'tls',
  'blocked',
  'auth',
  'not_api',
  'server_error',
  'no_gpu',
  'unknown',
] as const
export type CheckReason = (typeof checkReasons)[number]

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA'])
const REFUSED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'UND_ERR_SOCKET', 'EPIPE'])
const TIMEOUT = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'timeout'])
// why EPROTO: an https:// URL on a plain-HTTP port fails the TLS handshake with it.
const TLS = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME|ALTNAME|^EPROTO$/

function isTimeout(e: unknown): boolean {
  for (let x = e, depth = 0; x && depth < 8; x = (x as Error).cause, depth++) {
    if ((x as Error).name === 'TimeoutError') return true
  }
  return false
}

/** The reason behind an error a backend client threw (or a health check caught). */
export function reasonOf(error: unknown): CheckReason {
  const details = isAppError(error) ? (error.details ?? {}) : {}
  const code = networkCode(error) ?? (typeof details.network === 'string' ? details.network : undefined)
  if (code === 'ERR_OUTBOUND_BLOCKED') return 'blocked'
  if (code && DNS.has(code)) return 'dns'
  if (code && TLS.test(code)) return 'tls'
  if ((code && TIMEOUT.has(code)) || isTimeout(error)) return 'timeout'
  if (code && REFUSED.has(code)) return 'refused'
  if (!isAppError(error)) return 'unknown'
  if ((checkReasons as readonly unknown[]).includes(details.reason)) return details.reason as CheckReason
  const status = typeof details.status === 'number' ? details.status : undefined
  if (error.code === 'BACKEND_TIMEOUT') return 'timeout'
  if (error.code === 'BACKEND_AUTH_FAILED' || status === 401 || status === 403) return 'auth'
  if (status !== undefined && status >= 500) return 'server_error'
  // why: an answer that is not the API's shape, or a 4xx on its own paths, is another server.
  if (error.code === 'BACKEND_FAILED') return 'not_api'
  return 'unknown'
}

/**
 * Why a render failed on its backend, when that is the server's trouble the
 * merchant can fix: said by the error (details.reason) or by the network,
 * never guessed from BACKEND_FAILED alone (that is also a node that crashed).
 */
export function renderFailureReason(error: unknown): CheckReason | undefined {
  if (!isAppError(error) || !error.code.startsWith('BACKEND_')) return undefined
  if ((checkReasons as readonly unknown[]).includes(error.details?.reason)) return error.details!.reason as CheckReason
  if (error.code === 'BACKEND_FAILED') return undefined
  const reason = reasonOf(error)
  return reason === 'unknown' || reason === 'not_api' ? undefined : reason
}

/** The backend did not answer at all (as opposed to failing the render): refused, unresolvable or timed out. */
export function notAnswering(error: unknown): boolean {
  if (isAppError(error) && (error.code === 'BACKEND_UNAVAILABLE' || error.code === 'BACKEND_TIMEOUT')) return true
  const reason = reasonOf(error)
  return reason === 'refused' || reason === 'dns' || reason === 'timeout'
}

/** The names merchants know the backends by. */
export type BackendName = 'ComfyUI' | 'SD WebUI' | 'WeShop'

/**
 * The error for an answer that is not the backend's API (HTML, non-JSON, JSON
 * of another shape): people's words and the next step in the message, what
 * was wrong (zod's text, the start of the body) only in details and the log.
 * Retryable: another backend may well answer, so the scheduler may move the render.
 */
export function notApiError(
  backend: BackendName,
  at: { url?: string; path: string; status?: number },
  problem: string,
  body: string,
): AppError {
  const where = at.url ? `${backend} at ${at.url}` : backend
  const details = {
    backend: at.url ?? backend.toLowerCase(),
    path: at.path,
    ...(at.status !== undefined ? { status: at.status } : {}),
    reason: 'not_api' satisfies CheckReason,
    problem: problem.slice(0, 2000),
    body: body.slice(0, 300),
  }
  logger().warn(details, `${backend} answered in a shape that is not its API`)
  return new AppError(
    'BACKEND_FAILED',
    `${where} answered ${at.path}, but not as ${backend}'s API does. Check that the URL points at ${backend}'s server and port, and that no proxy in front of it answers instead.`,
    { retryable: true, details },
  )
}

/**
 * The part of an error answer's body a message may quote: a server's short
 * plain text, never a web page's markup or bytes that are not text (those
 * go to details only).
 */
export function quotable(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim()
  if (/^</.test(text) || /[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text)) return ''
  return text.slice(0, 300)
}

/** A body read as text, parsed as JSON when it is JSON (undefined otherwise). */
export function jsonOf(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined
  } catch {
    return undefined
  }
}
