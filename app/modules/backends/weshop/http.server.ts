import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import { z } from 'zod'
import { AppError } from '#app/lib/errors.ts'
import { networkCode, type fetchVia } from '#app/lib/outbound.server.ts'
import { jsonOf, notApiError, quotable } from '../failure.server.ts'
import { errorEnvelopeSchema, successEnvelopeSchema } from './api.ts'
import { backoff, retryAfterMs, sleep, type WeshopPollOptions } from './retry.ts'

// One exchange with WeShop's API and the retries its kind allows. Retries, by
// what a repeat costs:
// - reads (poll, preset list, result download) and uploads are repeated on
//   network errors, timeouts, 5xx, 429 and envelopes that say `retryable`;
// - starting a run is repeated only when WeShop certainly did not start it
//   (429, a `retryable` envelope, a connection that never opened): a
//   5xx or a timeout may have started a billed run, so it surfaces instead,
//   as a retryable error for the render queue to decide about.
// 401/403 are never retried: the key is wrong, and every retry would say so.

/** The tenant's key, or how to get it (e.g. `() => decryptSecret(stored)`), so the plain key lives only as long as a request. */
export type WeshopApiKey = string | (() => string | Promise<string>)

/** One WeShop account as this process reaches it: where, with which key, and how patiently. */
export interface WeshopConnection {
  /** Without a trailing slash. */
  baseUrl: string
  apiKey: WeshopApiKey
  /** API requests (with the key). */
  send: ReturnType<typeof fetchVia>
  /** Result downloads (never with the key). */
  fetchResult: ReturnType<typeof fetchVia>
  requestTimeoutMs: number
  transferTimeoutMs: number
  maxAttempts: number
  retryMinMs: number
  retryMaxMs: number
  maxRetryAfterMs: number
  poll: WeshopPollOptions
  maxDownloadBytes: number
  random: () => number
  log(): Logger
}

export type CallKind = 'read' | 'upload' | 'start'

/** One failed attempt: the error to surface, whether this kind of call may repeat it, and the wait WeShop asked for. */
export interface Failure {
  error: AppError
  repeatable: boolean
  waitMs?: number
}

export type Outcome<T> = { ok: true; data: T; meta: Record<string, unknown> } | { ok: false; failure: Failure }

const VISIBLE_ASCII = /^[\x21-\x7e]+$/

/** The key to send, or why there is none that can be sent. */
export async function readApiKey(source: WeshopApiKey): Promise<string> {
  const key = (typeof source === 'function' ? await source() : source)?.trim()
  if (!key) {
    throw new AppError('BACKEND_AUTH_FAILED', 'No WeShop API key is set. Add it in Settings → GPU backends.', {
      retryable: false,
      details: { backend: 'weshop', reason: 'api_key_missing' },
    })
  }
  // why check here: fetch refuses a header value it can't send with a message that quotes the value.
  if (!VISIBLE_ASCII.test(key)) {
    throw new AppError(
      'BACKEND_FAILED',
      'The WeShop API key has characters an API key cannot have. Paste it again in Settings → GPU backends.',
      {
        retryable: false,
        details: { backend: 'weshop', reason: 'api_key_malformed' },
      },
    )
  }
  return key
}

/** Text from WeShop or the network, with the key cut out should it ever be echoed. */
export function scrub(text: string, key: string | undefined): string {
  return key && key.length >= 4 ? text.split(key).join('[redacted]') : text
}

/** Errors where the request certainly never reached the server. */
function notSent(e: unknown): boolean {
  const code = (e as { cause?: { code?: string } })?.cause?.code
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'UND_ERR_CONNECT_TIMEOUT'
}

function keyRejected(status: number, path: string, code?: string): AppError {
  return new AppError(
    'BACKEND_AUTH_FAILED',
    `WeShop rejected the API key (HTTP ${status}). Check the key in Settings → GPU backends; renders on it fail until it is fixed.`,
    { retryable: false, details: { backend: 'weshop', reason: 'api_key_rejected', status, path, ...(code ? { code } : {}) } },
  )
}

/** A request whose connection failed (not a timeout): whether it may be repeated depends on whether it was sent. */
function unreachable(kind: CallKind, path: string, cause: unknown, key: string): Failure {
  const reason = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause)
  const network = networkCode(cause)
  // why: an address the guard refuses stays refused; retrying only delays the answer.
  const blocked = network === 'ERR_OUTBOUND_BLOCKED'
  // why a code and no cause: the cause is never kept where the key could be quoted.
  const error = new AppError('BACKEND_UNAVAILABLE', `WeShop is unreachable (${scrub(reason, key)}).`, {
    retryable: !blocked,
    details: { backend: 'weshop', path, network },
  })
  return { error, repeatable: !blocked && (kind !== 'start' || notSent(cause)) }
}

/** What WeShop's answer means: the data, or the failure and whether this kind of call may repeat it. */
export function answerOf<S extends z.ZodType>(
  call: { what: string; kind: CallKind; path: string; schema: S; key: string },
  res: Pick<Response, 'ok' | 'status' | 'headers'>,
  text: string,
): Outcome<z.output<S>> {
  const { what, kind, path, key } = call
  const json = jsonOf(text)
  const envelope = errorEnvelopeSchema.safeParse(json)
  if (res.status === 401 || res.status === 403) {
    return { ok: false, failure: { error: keyRejected(res.status, path, envelope.data?.error.code), repeatable: false } }
  }
  if (res.status === 429) {
    const waitMs = retryAfterMs(res.headers.get('retry-after'))
    const after = waitMs === undefined ? '' : `; WeShop asks to wait ${Math.ceil(waitMs / 1000)} s`
    const error = new AppError('BACKEND_UNAVAILABLE', `WeShop is rate-limiting this API key (HTTP 429)${after}.`, {
      retryable: true,
      details: { backend: 'weshop', path, status: 429, ...(waitMs !== undefined ? { retryAfterMs: waitMs } : {}) },
    })
    return { ok: false, failure: { error, repeatable: true, waitMs } }
  }
  if (envelope.success) {
    const { code, message, retryable } = envelope.data.error
    const error = new AppError(
      'BACKEND_FAILED',
      `WeShop refused ${what}: ${scrub(code, key)}: ${scrub(message, key) || 'no message'}`,
      {
        retryable,
        details: { backend: 'weshop', path, status: res.status, code: scrub(code, key), weshopRetryable: retryable },
      },
    )
    // why a retryable envelope may be repeated even for a run start: WeShop
    // answered and said nothing was done that trying again would double.
    return { ok: false, failure: { error, repeatable: retryable } }
  }
  if (res.status >= 500) {
    const error = new AppError('BACKEND_UNAVAILABLE', `WeShop answered ${what} with HTTP ${res.status}.`, {
      retryable: true,
      details: { backend: 'weshop', path, status: res.status, outcomeUnknown: kind === 'start' },
    })
    return { ok: false, failure: { error, repeatable: kind !== 'start', waitMs: retryAfterMs(res.headers.get('retry-after')) } }
  }
  if (!res.ok) {
    const snippet = scrub(quotable(text).slice(0, 200), key)
    const error = new AppError(
      'BACKEND_FAILED',
      `WeShop answered ${what} with HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`,
      {
        retryable: false,
        details: { backend: 'weshop', path, status: res.status, body: scrub(text.slice(0, 300), key) },
      },
    )
    return { ok: false, failure: { error, repeatable: false } }
  }
  const parsed = successEnvelopeSchema(call.schema).safeParse(json)
  if (!parsed.success) {
    const error = notApiError('WeShop', { path, status: res.status }, scrub(z.prettifyError(parsed.error), key), scrub(text, key))
    // why not repeated here: a run start may have been taken; the scheduler decides where it goes next.
    return { ok: false, failure: { error, repeatable: false } }
  }
  const ok = parsed.data as { data: z.output<S>; meta?: Record<string, unknown> }
  return { ok: true, data: ok.data, meta: ok.meta ?? {} }
}

export interface CallInit {
  method: string
  body?: () => BodyInit
  json?: unknown
  timeoutMs?: number
}

/** One HTTP exchange, turned into data or a Failure. */
async function attempt<S extends z.ZodType>(
  conn: WeshopConnection,
  call: { what: string; kind: CallKind; path: string; schema: S },
  init: CallInit & { timeoutMs: number },
  signal: AbortSignal | undefined,
): Promise<Outcome<z.output<S>>> {
  const { what, kind, path } = call
  const key = await readApiKey(conn.apiKey)
  const timeout = AbortSignal.timeout(init.timeoutMs)
  const started = performance.now()
  const headers: Record<string, string> = { Authorization: key, Accept: 'application/json' }
  let body: BodyInit | undefined
  if (init.json !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(init.json)
  } else if (init.body) body = init.body()
  let res: Response
  try {
    res = await conn.send(`${conn.baseUrl}${path}`, {
      method: init.method,
      headers,
      body,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    })
  } catch (cause) {
    if (signal?.aborted) throw signal.reason
    if (timeout.aborted) {
      const error = new AppError('BACKEND_TIMEOUT', `WeShop did not answer ${what} within ${init.timeoutMs} ms.`, {
        retryable: true,
        details: { backend: 'weshop', path, network: 'timeout' },
      })
      return { ok: false, failure: { error, repeatable: kind !== 'start' } }
    }
    return { ok: false, failure: unreachable(kind, path, cause, key) }
  }
  const text = await res.text().catch(() => '')
  conn
    .log()
    .debug(
      { what, method: init.method, path, status: res.status, ms: Math.round(performance.now() - started) },
      'WeShop response',
    )
  return answerOf({ ...call, key }, res, text)
}

/** An exchange with the retries its kind allows. */
export async function call<S extends z.ZodType>(
  conn: WeshopConnection,
  what: string,
  kind: CallKind,
  path: string,
  schema: S,
  init: CallInit,
  signal?: AbortSignal,
  attempts = conn.maxAttempts,
): Promise<{ data: z.output<S>; meta: Record<string, unknown> }> {
  for (let n = 1; ; n++) {
    const outcome = await attempt(
      conn,
      { what, kind, path, schema },
      { ...init, timeoutMs: init.timeoutMs ?? conn.requestTimeoutMs },
      signal,
    )
    if (outcome.ok) return outcome
    const { error, repeatable, waitMs } = outcome.failure
    if (!repeatable || n >= attempts || (waitMs !== undefined && waitMs > conn.maxRetryAfterMs)) throw error
    const delay = Math.max(waitMs ?? 0, backoff(n, conn, conn.random))
    conn
      .log()
      .info(
        { what, path, attempt: n, delayMs: delay, code: error.code, status: error.details?.status },
        'retrying a WeShop request',
      )
    await sleep(delay, signal)
  }
}
