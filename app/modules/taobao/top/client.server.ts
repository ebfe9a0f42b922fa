import type { Redis } from 'ioredis'
import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { topApi, type TopApi } from './api.ts'
import { createCallBudget, type Rate } from './budget.server.ts'
import { isTopErrorBody, mapTopError } from './errors.ts'
import { signTopRequest, type SignMethod } from './sign.ts'
import { backoff, sleep } from '#app/lib/sleep.ts'
import { topTimestamp } from './timestamp.ts'

// One client for the TOP gateway (`/router/rest`): signing, the call budget
// and bans shared by all processes, retries, and errors as AppErrors. why
// plain fetch and not the outbound guard: the gateway URL is operator config,
// never a tenant's, and tests point it at a fake on loopback.

export interface TopClientConfig {
  appKey: string
  appSecret: string
  /** e.g. https://eco.taobao.com/router/rest */
  gatewayUrl: string
  /** Default hmac-sha256. */
  signMethod?: SignMethod
  /** Where budget and bans live for every process; `null`: this process only. */
  redis: Redis | null
  /** Prefix of the Redis keys, e.g. `${QUEUE_PREFIX}:taobao`. */
  keyPrefix: string
  /** Calls per second for the whole app and for one seller (defaults 10/s and 5/s). */
  budget?: { app?: Rate; seller?: Rate; maxWaitMs?: number }
  /** Attempts per call for isp.* faults, bans and network errors (default 5). */
  maxAttempts?: number
  /** Per-attempt timeout (default 30 s). */
  timeoutMs?: number
  /** How long a call may wait out a ban before failing, retryable (default 60 s). */
  maxBanWaitMs?: number
  fetch?: typeof fetch
  onCall?: (event: TopCallEvent) => void
}

/** A seller's access: the OAuth `access_token` and their `taobao_user_id` (budget and ban key). */
export interface TopAuth {
  session: string
  seller: string
}

export interface TopFile {
  bytes: Uint8Array
  filename: string
  contentType?: string
}

export type TopParamValue = string | number | boolean | Date | null | undefined
export type TopParams = Record<string, TopParamValue>

export interface CallOptions {
  auth?: TopAuth
  /** File params: sent as multipart parts, left out of the signature. */
  files?: Record<string, TopFile>
  /** Safe to send again when an attempt's outcome is unknown. Default: methods ending in `.get`. */
  idempotent?: boolean
  maxBanWaitMs?: number
  signal?: AbortSignal
}

/** One HTTP exchange with the gateway, for metrics and benchmarks. */
export interface TopCallEvent {
  method: string
  seller: string | null
  attempt: number
  /** Time spent waiting for the budget or a ban before sending. */
  waitMs: number
  durationMs: number
  status: number | null
  topCode: number | null
  subCode: string | null
}

export interface TopClient extends TopApi {
  readonly appKey: string
  /** Any TOP method; returns the body inside `<name>_response`. */
  call(method: string, params?: TopParams, opts?: CallOptions): Promise<Record<string, unknown>>
  /** Milliseconds left of a ban in force for this seller or the app (0: none). */
  banLeft(seller?: string): Promise<number>
}

const DEFAULT_ATTEMPTS = 5
const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_BAN_WAIT_MS = 60_000
const DEFAULT_BUDGET_WAIT_MS = 5 * 60_000

export function createTopClient(config: TopClientConfig): TopClient {
  const budget = createCallBudget({
    redis: config.redis,
    keyPrefix: config.keyPrefix,
    appKey: config.appKey,
    app: config.budget?.app ?? { perSecond: 10 },
    seller: config.budget?.seller ?? { perSecond: 5 },
    maxWaitMs: config.budget?.maxWaitMs ?? DEFAULT_BUDGET_WAIT_MS,
  })
  const fetchImpl = config.fetch ?? fetch
  const signMethod = config.signMethod ?? 'hmac-sha256'
  const maxAttempts = config.maxAttempts ?? DEFAULT_ATTEMPTS
  const log = logger().child({ module: 'taobao-top', appKey: config.appKey })

  async function call(method: string, params: TopParams = {}, opts: CallOptions = {}) {
    const idempotent = opts.idempotent ?? method.endsWith('.get')
    const seller = opts.auth?.seller
    for (let attempt = 1; ; attempt++) {
      const { waitMs } = await budget.take(seller, {
        maxBanWaitMs: opts.maxBanWaitMs ?? config.maxBanWaitMs ?? DEFAULT_BAN_WAIT_MS,
        signal: opts.signal,
      })
      const signed = signedParams(config, signMethod, method, params, opts.auth?.session)
      const started = performance.now()
      const event = (status: number | null, topCode: number | null = null, subCode: string | null = null) =>
        config.onCall?.({
          method,
          seller: seller ?? null,
          attempt,
          waitMs,
          durationMs: Math.round(performance.now() - started),
          status,
          topCode,
          subCode,
        })
      let status: number
      let text: string
      try {
        const response = await fetchImpl(config.gatewayUrl, {
          method: 'POST',
          body: requestBody(signed, opts.files),
          headers: { accept: 'application/json', 'user-agent': `Atelier/0.1 (TOP; Node ${process.versions.node})` },
          signal: withTimeout(opts.signal, config.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        })
        status = response.status
        text = await response.text()
      } catch (e) {
        opts.signal?.throwIfAborted()
        event(null)
        const error = new AppError('TAOBAO_UNAVAILABLE', `Taobao did not answer ${method}: ${(e as Error).message}`, {
          cause: e,
          retryable: true,
          // why: a write that got no answer may have run; the caller checks before sending it again.
          details: { method, outcomeUnknown: !idempotent },
        })
        if (!idempotent || attempt >= maxAttempts) throw error
        await sleep(backoff(attempt), opts.signal)
        continue
      }
      const payload = parseJson(text)
      const failure = payload?.error_response
      if (isTopErrorBody(failure)) {
        event(status, Number(failure.code), failure.sub_code ?? null)
        const mapped = mapTopError(method, failure, { idempotent })
        log.warn(
          { method, seller, attempt, code: failure.code, subCode: failure.sub_code, requestId: failure.request_id },
          'TOP error',
        )
        // why before giving up: the ban holds every process, whether or not this call tries again.
        if (mapped.ban) await budget.ban(mapped.ban.scope, seller, mapped.ban.ms)
        if (mapped.kind === 'fatal' || attempt >= maxAttempts) throw mapped.error
        if (!mapped.ban) await sleep(backoff(attempt), opts.signal)
        continue
      }
      event(status)
      const body = payload?.[responseKey(method)]
      if (status === 200 && isRecord(body)) return body
      const error = new AppError(
        'TAOBAO_UNAVAILABLE',
        `Taobao answered ${method} with HTTP ${status} and no ${responseKey(method)}`,
        {
          retryable: true,
          details: { method, status, body: text.slice(0, 500) },
        },
      )
      // why only 5xx: a 200 without the expected key is a contract change, not a fault to wait out.
      if (status < 500 || !idempotent || attempt >= maxAttempts) throw error
      await sleep(backoff(attempt), opts.signal)
    }
  }

  return { appKey: config.appKey, call, banLeft: (seller) => budget.banLeft(seller), ...topApi(call) }
}

/** `items.onsale.get` → `items_onsale_get_response` (the `taobao.` prefix dropped). */
export function responseKey(method: string): string {
  return `${method.replace(/^taobao\./, '').replaceAll('.', '_')}_response`
}

function signedParams(config: TopClientConfig, signMethod: SignMethod, method: string, params: TopParams, session?: string) {
  const all: Record<string, string> = {
    method,
    app_key: config.appKey,
    timestamp: topTimestamp(),
    format: 'json',
    v: '2.0',
    sign_method: signMethod,
  }
  if (session) all.session = session
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue
    all[name] = value instanceof Date ? topTimestamp(value) : String(value)
  }
  all.sign = signTopRequest(all, config.appSecret, signMethod)
  return all
}

function requestBody(params: Record<string, string>, files: Record<string, TopFile> | undefined): BodyInit {
  if (!files || Object.keys(files).length === 0) return new URLSearchParams(params)
  const form = new FormData()
  for (const [name, value] of Object.entries(params)) form.append(name, value)
  for (const [name, file] of Object.entries(files)) {
    form.append(name, new Blob([file.bytes.slice()], { type: file.contentType ?? 'application/octet-stream' }), file.filename)
  }
  return form
}

function withTimeout(signal: AbortSignal | undefined, ms: number): AbortSignal {
  return signal ? AbortSignal.any([signal, AbortSignal.timeout(ms)]) : AbortSignal.timeout(ms)
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text)
    return isRecord(v) ? v : null
  } catch {
    return null
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
