import { performance } from 'node:perf_hooks'
import { abortedError as sharedAbortedError } from '../abort.ts'
import type { Logger } from 'pino'
import { z } from 'zod'
import { AppError, isAppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { blockedBy, fetchVia, networkCode, sharedGuard, type OutboundGuard } from '#app/lib/outbound.server.ts'
import { jsonOf, notApiError, quotable } from '../failure.server.ts'
import {
  AGENT_VERSION,
  agentInfoSchema,
  errorEnvelopeSchema,
  runAcceptedSchema,
  runSchema,
  successEnvelopeSchema,
  terminalStates,
  uploadedAssetSchema,
  type AgentInfo,
  type AgentName,
  type Execution,
  type Run,
  type RunAccepted,
  type RunRequest,
} from './api.ts'

// One client per WeShop API key. WeShop's OpenAPI is asynchronous: upload
// the images, start a run, poll it until Success or Failed, download the
// result from the CDN URL it names.
//
// Retries, by what a repeat costs:
// - reads (poll, preset list, result download) and uploads are repeated on
//   network errors, timeouts, 5xx, 429 and envelopes that say `retryable`;
// - starting a run is repeated only when WeShop certainly did not start it
//   (429, a `retryable` envelope, a connection that never opened): a
//   5xx or a timeout may have started a billed run, so it surfaces instead,
//   as a retryable error for the render queue to decide about.
// 401/403 are never retried: the key is wrong, and every retry would say so.
//
// The key: sent raw in `Authorization` (no "Bearer"), only to `baseUrl`,
// never to the CDN that serves results. It is read from `apiKey` per request
// and kept nowhere else; no log line, error message or error detail holds it
// (texts from WeShop are scrubbed of it too).

export const WESHOP_BASE_URL = 'https://openapi.weshop.ai'

/** The tenant's key, or how to get it (e.g. `() => decryptSecret(stored)`), so the plain key lives only as long as a request. */
export type WeshopApiKey = string | (() => string | Promise<string>)

export interface WeshopPollOptions {
  /** First wait after starting a run, ms; each next wait is `factor` times longer, up to `maxMs`. */
  initialMs: number
  factor: number
  maxMs: number
  /** ± share of each wait drawn at random, so many renders don't poll in step. */
  jitter: number
  /** Give up (retryable timeout) after this long; the run may still finish on WeShop. */
  maxWaitMs: number
  /** Consecutive failed polls (network, 5xx, 429, retryable envelopes) tolerated before giving up. */
  maxPollErrors: number
}

export interface WeshopClientOptions {
  apiKey: WeshopApiKey
  /** Default https://openapi.weshop.ai (tests point it at the fake). */
  baseUrl?: string
  /** API requests connect only to public addresses (a shop's own endpoint in Shopify mode). */
  outbound?: OutboundGuard
  /**
   * Result downloads (URLs the API hands back) always go through a guard; by
   * default one that allows only this origin on a private address: the
   * deployment's WESHOP_BASE_URL (a local fake). A shop's endpoint passes the deployment's.
   */
  resultsGuard?: OutboundGuard
  /** Timeout of one JSON request, ms. */
  requestTimeoutMs?: number
  /** Timeout of one upload or download, ms. */
  transferTimeoutMs?: number
  /** Tries per request (reads and uploads), including the first. */
  maxAttempts?: number
  /** Request retry backoff: first ceiling and cap, ms (full jitter in the upper half). */
  retryMinMs?: number
  retryMaxMs?: number
  /** A Retry-After longer than this is not slept through in-process: the error goes to the queue, which retries later. */
  maxRetryAfterMs?: number
  poll?: Partial<WeshopPollOptions>
  /** Largest result image accepted, bytes. */
  maxDownloadBytes?: number
  log?: Logger
  /** Randomness for jitter (tests pin it). */
  random?: () => number
}

export interface RunProgress {
  state: string
  execution: Execution | undefined
  polls: number
}

export interface WaitOptions {
  signal?: AbortSignal
  onPoll?: (progress: RunProgress) => void
}

export interface FinishedRun {
  run: Run
  execution: Execution
  /** Result image URLs (`executions[-1].result[*].image` with status Success). */
  images: string[]
  polls: number
}

export interface WeshopClient {
  readonly baseUrl: string
  /** POST /openapi/agent/assets/images → the asset's URL. */
  uploadImage(bytes: Buffer, opts: { filename: string; contentType: string; signal?: AbortSignal }): Promise<string>
  /** POST /openapi/agent/runs → the execution id. */
  startRun<A extends AgentName>(body: RunRequest<A>, signal?: AbortSignal): Promise<RunAccepted>
  /** GET /openapi/agent/runs/{executionId}, once. */
  getRun(executionId: string, signal?: AbortSignal): Promise<Run>
  /** Polls with capped exponential backoff and jitter until Success (resolves) or Failed (rejects). */
  waitForRun(executionId: string, opts?: WaitOptions): Promise<FinishedRun>
  /** GET /openapi/v1/agent/info: preset ids (locations, fashionModels, backgrounds). */
  agentInfo(agentName: string, signal?: AbortSignal): Promise<AgentInfo>
  /** Fetches a result from WeShop's CDN (without the key). */
  download(url: string, signal?: AbortSignal): Promise<Buffer>
}

export const defaultPoll: WeshopPollOptions = {
  initialMs: 2000,
  factor: 1.5,
  maxMs: 10_000,
  jitter: 0.2,
  maxWaitMs: 15 * 60_000,
  maxPollErrors: 6,
}

/** The n-th wait (0-based) between polls: exponential, jittered, never above the cap. */
export function pollDelay(n: number, poll: WeshopPollOptions, random: () => number = Math.random): number {
  const base = Math.min(poll.maxMs, poll.initialMs * poll.factor ** n)
  const jittered = base * (1 + poll.jitter * (2 * random() - 1))
  return Math.max(0, Math.round(Math.min(poll.maxMs, jittered)))
}

/** Retry-After as ms: seconds (fractions allowed) or an HTTP date. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** What an aborted signal means: a timeout (retryable) or a cancellation (../abort.ts). */
export function abortedError(reason: unknown): AppError {
  return sharedAbortedError(reason, 'we stopped waiting for WeShop')
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

type CallKind = 'read' | 'upload' | 'start'

/** One failed attempt: the error to surface, whether this kind of call may repeat it, and the wait WeShop asked for. */
interface Failure {
  error: AppError
  repeatable: boolean
  waitMs?: number
}

const VISIBLE_ASCII = /^[\x21-\x7e]+$/

/** Errors where the request certainly never reached the server. */
function notSent(e: unknown): boolean {
  const code = (e as { cause?: { code?: string } })?.cause?.code
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'UND_ERR_CONNECT_TIMEOUT'
}

export function createWeshopClient(options: WeshopClientOptions): WeshopClient {
  const baseUrl = (options.baseUrl ?? WESHOP_BASE_URL).replace(/\/+$/, '')
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000
  const transferTimeoutMs = options.transferTimeoutMs ?? 120_000
  const maxAttempts = options.maxAttempts ?? 4
  const retryMinMs = options.retryMinMs ?? 500
  const retryMaxMs = options.retryMaxMs ?? 8000
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000
  const poll: WeshopPollOptions = { ...defaultPoll, ...options.poll }
  const maxDownloadBytes = options.maxDownloadBytes ?? 50 * 1024 * 1024
  const random = options.random ?? Math.random
  const apiKeySource = options.apiKey
  const log = () => options.log ?? logger().child({ backend: 'weshop', baseUrl })
  const send = fetchVia(options.outbound)
  const fetchResult = fetchVia(options.resultsGuard ?? sharedGuard([baseUrl]))

  async function apiKey(): Promise<string> {
    const key = (typeof apiKeySource === 'function' ? await apiKeySource() : apiKeySource)?.trim()
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
  function scrub(text: string, key: string | undefined): string {
    return key && key.length >= 4 ? text.split(key).join('[redacted]') : text
  }

  function backoff(attempt: number): number {
    const ceiling = Math.min(retryMaxMs, retryMinMs * 2 ** (attempt - 1))
    return Math.round(ceiling / 2 + (random() * ceiling) / 2)
  }

  function keyRejected(status: number, path: string, code?: string): AppError {
    return new AppError(
      'BACKEND_AUTH_FAILED',
      `WeShop rejected the API key (HTTP ${status}). Check the key in Settings → GPU backends; renders on it fail until it is fixed.`,
      { retryable: false, details: { backend: 'weshop', reason: 'api_key_rejected', status, path, ...(code ? { code } : {}) } },
    )
  }

  /** One HTTP exchange, turned into data or a Failure. */
  async function attempt<S extends z.ZodType>(
    what: string,
    kind: CallKind,
    path: string,
    schema: S,
    init: { method: string; body?: () => BodyInit; json?: unknown; timeoutMs: number },
    signal: AbortSignal | undefined,
  ): Promise<{ ok: true; data: z.output<S>; meta: Record<string, unknown> } | { ok: false; failure: Failure }> {
    const key = await apiKey()
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
      res = await send(`${baseUrl}${path}`, {
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
      const reason = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause)
      const network = networkCode(cause)
      // why: an address the guard refuses stays refused; retrying only delays the answer.
      const blocked = network === 'ERR_OUTBOUND_BLOCKED'
      // why a code and no cause: the cause is never kept where the key could be quoted.
      const error = new AppError('BACKEND_UNAVAILABLE', `WeShop is unreachable (${scrub(reason, key)}).`, {
        retryable: !blocked,
        details: { backend: 'weshop', path, network },
      })
      return { ok: false, failure: { error, repeatable: !blocked && (kind !== 'start' || notSent(cause)) } }
    }
    const text = await res.text().catch(() => '')
    log().debug(
      { what, method: init.method, path, status: res.status, ms: Math.round(performance.now() - started) },
      'WeShop response',
    )
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
    const parsed = successEnvelopeSchema(schema).safeParse(json)
    if (!parsed.success) {
      const error = notApiError('WeShop', { path, status: res.status }, scrub(z.prettifyError(parsed.error), key), scrub(text, key))
      // why not repeated here: a run start may have been taken; the scheduler decides where it goes next.
      return { ok: false, failure: { error, repeatable: false } }
    }
    const ok = parsed.data as { data: z.output<S>; meta?: Record<string, unknown> }
    return { ok: true, data: ok.data, meta: ok.meta ?? {} }
  }

  /** An exchange with the retries its kind allows. */
  async function call<S extends z.ZodType>(
    what: string,
    kind: CallKind,
    path: string,
    schema: S,
    init: { method: string; body?: () => BodyInit; json?: unknown; timeoutMs?: number },
    signal?: AbortSignal,
    attempts = maxAttempts,
  ): Promise<{ data: z.output<S>; meta: Record<string, unknown> }> {
    for (let n = 1; ; n++) {
      const outcome = await attempt(what, kind, path, schema, { ...init, timeoutMs: init.timeoutMs ?? requestTimeoutMs }, signal)
      if (outcome.ok) return outcome
      const { error, repeatable, waitMs } = outcome.failure
      if (!repeatable || n >= attempts || (waitMs !== undefined && waitMs > maxRetryAfterMs)) throw error
      const delay = Math.max(waitMs ?? 0, backoff(n))
      log().info(
        { what, path, attempt: n, delayMs: delay, code: error.code, status: error.details?.status },
        'retrying a WeShop request',
      )
      await sleep(delay, signal)
    }
  }

  async function getRun(executionId: string, signal?: AbortSignal, attempts?: number): Promise<Run> {
    const { data } = await call(
      'the run status',
      'read',
      `/openapi/agent/runs/${encodeURIComponent(executionId)}`,
      runSchema,
      { method: 'GET' },
      signal,
      attempts,
    )
    return data
  }

  async function waitForRun(executionId: string, opts: WaitOptions = {}): Promise<FinishedRun> {
    const { signal } = opts
    const started = Date.now()
    let polls = 0
    let errors = 0
    /** A Retry-After from the last poll: the next wait is at least this. */
    let floor = 0
    for (let n = 0; ; n++) {
      const wait = Math.max(pollDelay(n, poll, random), floor)
      floor = 0
      if (Date.now() + wait - started > poll.maxWaitMs) {
        throw new AppError(
          'BACKEND_TIMEOUT',
          `WeShop run ${executionId} did not finish within ${Math.round(poll.maxWaitMs / 1000)} s; it may still finish on WeShop.`,
          { retryable: true, details: { backend: 'weshop', executionId, polls } },
        )
      }
      await sleep(wait, signal)
      let run: Run
      try {
        polls++
        // why one attempt: polling is itself the retry loop, with its own backoff.
        run = await getRun(executionId, signal, 1)
        errors = 0
      } catch (e) {
        if (signal?.aborted) throw signal.reason
        if (!isAppError(e) || !e.retryable || ++errors >= poll.maxPollErrors) throw e
        const after = typeof e.details?.retryAfterMs === 'number' ? e.details.retryAfterMs : 0
        if (after > maxRetryAfterMs) throw e
        floor = after
        log().info({ executionId, polls, errors, code: e.code, reason: e.message }, 'WeShop poll failed; polling on')
        continue
      }
      const execution = run.executions.at(-1)
      const state = execution?.status ?? 'Pending'
      opts.onPoll?.({ state, execution, polls })
      if (!terminalStates.includes(state)) continue
      if (state === 'Failed' || !execution) {
        // why retryable: the poll says only "Failed", and a failed generation
        // is usually one that works on the next try; input WeShop can never
        // use is refused when the run starts, with retryable: false.
        throw new AppError('BACKEND_FAILED', `WeShop reported run ${executionId} (${run.agentName}) as Failed.`, {
          retryable: true,
          details: { backend: 'weshop', executionId, agent: run.agentName, polls },
        })
      }
      const images = (execution.result ?? []).flatMap((r) => (r.status === 'Success' && r.image ? [r.image] : []))
      if (images.length === 0) {
        throw new AppError('BACKEND_FAILED', `WeShop finished run ${executionId} without an image.`, {
          retryable: true,
          details: {
            backend: 'weshop',
            executionId,
            agent: run.agentName,
            results: (execution.result ?? []).map((r) => r.status),
          },
        })
      }
      return { run, execution, images, polls }
    }
  }

  async function download(url: string, signal?: AbortSignal): Promise<Buffer> {
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
    for (let n = 1; ; n++) {
      const timeout = AbortSignal.timeout(transferTimeoutMs)
      let failure: AppError
      let waitMs: number | undefined
      try {
        // why no Authorization: results live on WeShop's CDN, and the key goes to the API host only.
        const res = await fetchResult(target, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout })
        if (res.ok) {
          const declared = Number(res.headers.get('content-length') ?? '0')
          if (declared > maxDownloadBytes) {
            throw new AppError(
              'BACKEND_FAILED',
              `WeShop's result is ${declared} bytes, more than the ${maxDownloadBytes} allowed.`,
              {
                details: { backend: 'weshop' },
              },
            )
          }
          const bytes = Buffer.from(await res.arrayBuffer())
          if (bytes.length > maxDownloadBytes) {
            throw new AppError('BACKEND_FAILED', `WeShop's result is larger than the ${maxDownloadBytes} bytes allowed.`, {
              details: { backend: 'weshop' },
            })
          }
          return bytes
        }
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
          throw new AppError('BACKEND_FAILED', `WeShop named a result on a private or special address (${blocked.range}); it was not downloaded.`, {
            cause: blocked,
            details: { backend: 'weshop', host: target.host, blocked: true },
          })
        }
        failure = new AppError(
          timeout.aborted ? 'BACKEND_TIMEOUT' : 'BACKEND_UNAVAILABLE',
          timeout.aborted
            ? `Downloading WeShop's result took longer than ${transferTimeoutMs} ms.`
            : `WeShop's result host ${target.host} is unreachable.`,
          { retryable: true, details: { backend: 'weshop', host: target.host } },
        )
      }
      if (n >= maxAttempts || (waitMs ?? 0) > maxRetryAfterMs) throw failure
      await sleep(Math.max(waitMs ?? 0, backoff(n)), signal)
    }
  }

  return {
    baseUrl,
    async uploadImage(bytes, opts) {
      const { data } = await call(
        'the image upload',
        'upload',
        '/openapi/agent/assets/images',
        uploadedAssetSchema,
        {
          method: 'POST',
          body: () => {
            const form = new FormData()
            form.append('image', new Blob([Uint8Array.from(bytes)], { type: opts.contentType }), opts.filename)
            return form
          },
          timeoutMs: transferTimeoutMs,
        },
        opts.signal,
      )
      return data.image
    },
    async startRun(body, signal) {
      const { data, meta } = await call(
        'the run',
        'start',
        '/openapi/agent/runs',
        runAcceptedSchema,
        { method: 'POST', json: body },
        signal,
      )
      // why both: the reference names meta.executionId as the handle; the CLI reads data.executionId.
      const executionId = data.executionId || (typeof meta.executionId === 'string' ? meta.executionId : '')
      return { ...data, executionId }
    },
    getRun: (executionId, signal) => getRun(executionId, signal),
    waitForRun,
    async agentInfo(agentName, signal) {
      const query = new URLSearchParams({ agentName, agentVersion: AGENT_VERSION })
      const { data } = await call(
        'the preset list',
        'read',
        `/openapi/v1/agent/info?${query}`,
        agentInfoSchema,
        { method: 'GET' },
        signal,
      )
      return data
    },
    download,
  }
}
