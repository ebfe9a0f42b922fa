import { isAppError } from '#app/lib/errors.ts'
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
  const status = typeof details.status === 'number' ? details.status : undefined
  if (error.code === 'BACKEND_TIMEOUT') return 'timeout'
  if (error.code === 'BACKEND_AUTH_FAILED' || status === 401 || status === 403) return 'auth'
  if (status !== undefined && status >= 500) return 'server_error'
  // why: an answer that is not the API's shape, or a 4xx on its own paths, is another server.
  if (error.code === 'BACKEND_FAILED') return 'not_api'
  return 'unknown'
}
