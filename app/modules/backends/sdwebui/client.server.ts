import { z } from 'zod'
import { abortedError as sharedAbortedError } from '../abort.ts'
import { AppError } from '#app/lib/errors.ts'
import { fetchVia, type OutboundGuard } from '#app/lib/outbound.server.ts'
import { jsonOf, notApiError, quotable } from '../failure.server.ts'
import { PYTHON_INPUT_ERRORS } from '../python-errors.ts'
import { timedRequest } from '../request.server.ts'
import {
  apiErrorSchema,
  controlnetModelListSchema,
  controlnetModuleListSchema,
  generationResponseSchema,
  optionsSchema,
  processedInfoSchema,
  progressSchema,
  samplerSchema,
  schedulerSchema,
  sdModelSchema,
  validationErrorSchema,
  type Img2imgRequest,
  type Options,
  type ProcessedInfo,
  type Progress,
  type Sampler,
  type Scheduler,
  type SdModel,
} from './api.ts'

// One client per SD WebUI server: plain HTTP, one method per route we use.
// It knows nothing about renders or locks (adapter.server.ts serialises);
// its job is the wire: credentials, timeouts, parsing every answer, and
// turning each failure into an AppError that says whether a retry can help.

export interface SdwebuiClientOptions {
  /** e.g. http://gpu-1:7860; `user:pass@` becomes HTTP Basic auth (--api-auth). A path prefix is kept. */
  baseUrl: string
  /** Timeout of one small request (progress, options, lists). */
  requestTimeoutMs?: number
  /** Timeout of one generation request, a checkpoint load included. */
  generationTimeoutMs?: number
  /** Connect only to public addresses (a shop's own server in Shopify mode). */
  outbound?: OutboundGuard
}

export interface Generation {
  /** Base64 images as sent (results first, from `info.index_of_first_image`; ControlNet maps may follow). */
  images: string[]
  info: ProcessedInfo
  parameters: Record<string, unknown>
}

export interface SdwebuiClient {
  /** The base URL without credentials (safe to log). */
  readonly baseUrl: string
  /** POST /sdapi/v1/img2img. `signal` should only be a hard stop: aborting it does not stop the server. */
  img2img(body: Img2imgRequest, signal?: AbortSignal): Promise<Generation>
  /** GET /sdapi/v1/progress?skip_current_image=true: the server's one global job state. */
  progress(signal?: AbortSignal): Promise<Progress>
  /** POST /sdapi/v1/interrupt: stops whatever the server is generating, whoever asked for it. */
  interrupt(): Promise<void>
  options(signal?: AbortSignal): Promise<Options>
  /** POST /sdapi/v1/options. A checkpoint change loads it (queued behind a running generation). */
  setOptions(values: Record<string, unknown>, signal?: AbortSignal): Promise<void>
  sdModels(signal?: AbortSignal): Promise<SdModel[]>
  samplers(signal?: AbortSignal): Promise<Sampler[]>
  /** null on servers older than v1.9 (the scheduler was part of the sampler's name). */
  schedulers(signal?: AbortSignal): Promise<Scheduler[] | null>
  /** null when the ControlNet extension is not installed. */
  controlnetModels(signal?: AbortSignal): Promise<string[] | null>
  controlnetModules(signal?: AbortSignal): Promise<string[] | null>
  /** GET /internal/ping: answers even when the API (--api) is off. */
  ping(signal?: AbortSignal): Promise<void>
}

/** What an aborted signal means: a timeout (retryable) or a cancellation (../abort.ts). */
export function abortedError(reason: unknown): AppError {
  return sharedAbortedError(reason, 'it was stopped on SD WebUI')
}

/**
 * Python exception types that fail the same way on every attempt: the request
 * or the server's setup is wrong (api.py reports `type(e).__name__`).
 * NansException: the checkpoint needs --no-half; retrying changes nothing.
 */
const DETERMINISTIC_EXCEPTIONS = new Set([
  ...PYTHON_INPUT_ERRORS,
  'HTTPException',
  'RequestValidationError',
  'ValidationError',
  'NansException',
])

export interface FieldProblem {
  field: string
  message: string
  type: string
}

function text(value: unknown): string {
  if (value === undefined || value === null) return ''
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/**
 * The AppError for a non-2xx answer, from its body:
 * - FastAPI's 422 `{detail: [{loc, msg, type}]}`: our request does not fit the
 *   server's model; each field is named. Never retryable.
 * - api.py's `{error, detail, body, errors}`: HTTPExceptions (422 unknown
 *   script, 404 "Init image not found", 500 "Invalid encoded image") and
 *   deterministic Python errors are final; others (CUDA out of memory, a
 *   crash) may pass on another attempt.
 * - anything else (a proxy's 502/504 page): retryable when 5xx, 408 or 429.
 */
export function sdwebuiError(baseUrl: string, path: string, status: number, body: string): AppError {
  const where = `SD WebUI at ${baseUrl}`
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    json = undefined
  }
  const validation = validationErrorSchema.safeParse(json)
  if (validation.success && validation.data.detail.length > 0) {
    const problems: FieldProblem[] = validation.data.detail.map((d) => {
      const loc = d.loc[0] === 'body' ? d.loc.slice(1) : d.loc
      return { field: loc.length > 0 ? loc.join('.') : '(body)', message: d.msg, type: d.type }
    })
    const described = problems.map((p) => `${p.field}: ${p.message}`).join('; ')
    return new AppError('BACKEND_FAILED', `${where} refused the ${path} request (HTTP ${status}): ${described}`, {
      retryable: false,
      details: { backend: baseUrl, path, status, problems },
    })
  }
  if (status === 401 || status === 403) {
    return new AppError(
      'BACKEND_AUTH_FAILED',
      `${where} refused our credentials (HTTP ${status}); check the user:password in SDWEBUI_URLS or in Settings → GPU backends.`,
      {
        retryable: false,
        details: { backend: baseUrl, path, status },
      },
    )
  }
  const api = apiErrorSchema.safeParse(json)
  if (api.success) {
    const { error } = api.data
    const detail = text(api.data.detail)
    const errors = text(api.data.errors)
    const said = [detail, errors && errors !== detail ? errors : ''].filter(Boolean).join(' — ') || 'no message'
    let retryable: boolean
    if (status === 408 || status === 429) retryable = true
    else if (status < 500) retryable = false
    else if (/out of memory/i.test(said) || error === 'OutOfMemoryError') retryable = true
    else if (DETERMINISTIC_EXCEPTIONS.has(error) || /not found/i.test(said)) retryable = false
    else retryable = true
    return new AppError('BACKEND_FAILED', `${where} answered ${path} with HTTP ${status} (${error}): ${said.slice(0, 500)}`, {
      retryable,
      details: { backend: baseUrl, path, status, error, detail: detail.slice(0, 1000), errors: errors.slice(0, 1000) },
    })
  }
  const snippet = quotable(body)
  return new AppError('BACKEND_FAILED', `${where} answered ${path} with HTTP ${status}${snippet ? `: ${snippet}` : ''}`, {
    retryable: status >= 500 || status === 408 || status === 429,
    details: { backend: baseUrl, path, status, body: body.slice(0, 300) },
  })
}

/** The server's base URL without credentials, and the Authorization header they make. */
export function splitCredentials(url: string): { baseUrl: string; authorization?: string } {
  const u = new URL(url)
  let authorization: string | undefined
  if (u.username || u.password) {
    const user = decodeURIComponent(u.username)
    const password = decodeURIComponent(u.password)
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
    u.username = ''
    u.password = ''
  }
  return { baseUrl: u.toString().replace(/\/+$/, ''), authorization }
}

export function createSdwebuiClient(options: SdwebuiClientOptions): SdwebuiClient {
  const { baseUrl, authorization } = splitCredentials(options.baseUrl)
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000
  const generationTimeoutMs = options.generationTimeoutMs ?? 15 * 60_000
  const send = fetchVia(options.outbound)

  async function request(path: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
    const { timeoutMs = requestTimeoutMs, ...rest } = init
    const headers = new Headers(rest.headers)
    if (authorization) headers.set('Authorization', authorization)
    return timedRequest({ server: 'SD WebUI', baseUrl, path, init: { ...rest, headers }, timeoutMs, send })
  }

  async function failure(res: Response, path: string): Promise<AppError> {
    return sdwebuiError(baseUrl, path, res.status, await res.text().catch(() => ''))
  }

  async function parse<S extends z.ZodType>(res: Response, path: string, schema: S): Promise<z.output<S>> {
    const text = await res.text().catch(() => '')
    const parsed = schema.safeParse(jsonOf(text))
    if (!parsed.success) throw notApiError('SD WebUI', { url: baseUrl, path, status: res.status }, z.prettifyError(parsed.error), text)
    return parsed.data
  }

  async function getJson<S extends z.ZodType>(path: string, schema: S, signal?: AbortSignal): Promise<z.output<S>> {
    const res = await request(path, { signal })
    if (!res.ok) throw await failure(res, path)
    return parse(res, path, schema)
  }

  /** A route an extension or a newer version adds: 404 means "not here". */
  async function getOptional<S extends z.ZodType>(path: string, schema: S, signal?: AbortSignal): Promise<z.output<S> | null> {
    const res = await request(path, { signal })
    if (res.status === 404) {
      await res.body?.cancel()
      return null
    }
    if (!res.ok) throw await failure(res, path)
    return parse(res, path, schema)
  }

  function postJson(path: string, body: unknown, init: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Response> {
    return request(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      ...init,
    })
  }

  return {
    baseUrl,
    async img2img(body, signal) {
      const path = '/sdapi/v1/img2img'
      const res = await postJson(path, body, { signal, timeoutMs: generationTimeoutMs })
      if (!res.ok) throw await failure(res, path)
      const answer = await parse(res, path, generationResponseSchema)
      const parsedInfo = processedInfoSchema.safeParse(jsonOf(answer.info))
      if (!parsedInfo.success) {
        throw notApiError('SD WebUI', { url: baseUrl, path }, `"info": ${z.prettifyError(parsedInfo.error)}`, answer.info)
      }
      return { images: answer.images ?? [], info: parsedInfo.data, parameters: answer.parameters }
    },
    progress: (signal) => getJson('/sdapi/v1/progress?skip_current_image=true', progressSchema, signal),
    async interrupt() {
      const res = await postJson('/sdapi/v1/interrupt', {})
      if (!res.ok) throw await failure(res, '/sdapi/v1/interrupt')
      await res.body?.cancel()
    },
    options: (signal) => getJson('/sdapi/v1/options', optionsSchema, signal),
    async setOptions(values, signal) {
      // why the generation timeout: a checkpoint change waits for the running job, then loads the model.
      const res = await postJson('/sdapi/v1/options', values, { signal, timeoutMs: generationTimeoutMs })
      if (!res.ok) throw await failure(res, '/sdapi/v1/options')
      await res.body?.cancel()
    },
    sdModels: (signal) => getJson('/sdapi/v1/sd-models', z.array(sdModelSchema), signal),
    samplers: (signal) => getJson('/sdapi/v1/samplers', z.array(samplerSchema), signal),
    schedulers: (signal) => getOptional('/sdapi/v1/schedulers', z.array(schedulerSchema), signal),
    async controlnetModels(signal) {
      const list = await getOptional('/controlnet/model_list', controlnetModelListSchema, signal)
      return list?.model_list ?? null
    },
    async controlnetModules(signal) {
      const list = await getOptional('/controlnet/module_list', controlnetModuleListSchema, signal)
      return list?.module_list ?? null
    },
    async ping(signal) {
      const res = await request('/internal/ping', { signal })
      if (!res.ok) throw await failure(res, '/internal/ping')
      await res.body?.cancel()
    },
  }
}
