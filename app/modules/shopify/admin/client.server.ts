import type { AdminMutations, AdminQueries } from '@shopify/admin-api-client'
import type { Redis } from 'ioredis'
import { env } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { SHOPIFY_API_VERSION } from '../api-version.ts'
import { createBudget, sharedAdminRedis, type Budget, type Reservation } from './budget.server.ts'
import { describeOperation, readCost, type OperationInfo, type ThrottleStatus, type Vars } from './cost.ts'
import { graphqlError, graphqlErrorCodes, graphqlErrors, httpError } from './errors.ts'
import { isRecord, readPayload } from './payload.ts'
import { backoff, sleep } from '#app/lib/sleep.ts'

// One Admin GraphQL client for every Shopify call Atelier makes: the token,
// the cost-aware limiter shared by all processes, retries, and errors as
// AppErrors. why not @shopify/admin-api-client: it retries only HTTP 429/503
// and never the GraphQL THROTTLED error, and knows nothing of the other
// workers spending the same shop's bucket.

type Operations = AdminQueries & AdminMutations

export type { ThrottleStatus } from './cost.ts'

/** What one HTTP exchange cost and how it ended, for metrics and benchmarks. */
export interface AdminResponseEvent {
  shop: string
  operation: string
  attempt: number
  status: number | null
  throttled: boolean
  requestedQueryCost: number | null
  actualQueryCost: number | null
  throttleStatus: ThrottleStatus | null
  /** Time spent waiting for the budget before sending. */
  waitMs: number
  durationMs: number
}

export interface AdminClientOptions {
  /** The shop's myshopify.com domain. */
  shop: string
  accessToken?: string
  /** Read the token when needed (offline session); called again after a 401. */
  getAccessToken?: () => Promise<string>
  fetch?: typeof fetch
  /** Where the shop's cost budget lives. Default: one shared connection. `null`: this process only. */
  redis?: Redis | null
  /** Attempts per request for throttling, 5xx and network errors (default 6). */
  maxAttempts?: number
  /** Per-attempt timeout (default 30 s). */
  timeoutMs?: number
  onResponse?: (event: AdminResponseEvent) => void
}

export interface RequestOptions {
  /**
   * Safe to send again when the outcome of an attempt is unknown (timeout,
   * connection reset, 500/502/504). Default: queries yes, mutations no.
   * why: a mutation that timed out may have run; repeating one that adds
   * something would add it twice. THROTTLED and 429 are always retried:
   * Shopify ran nothing.
   */
  idempotent?: boolean
  signal?: AbortSignal
}

export interface AdminClient {
  readonly shop: string
  request<const D extends keyof Operations & string>(
    document: D,
    variables: Operations[D]['variables'],
    opts?: RequestOptions,
  ): Promise<Operations[D]['return']>
  request<TData, TVars extends Vars = Vars>(document: string, variables?: TVars, opts?: RequestOptions): Promise<TData>
}

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/
const USER_AGENT = `Atelier/0.1 (Shopify app; Node ${process.versions.node})`
const DEFAULT_ATTEMPTS = 6
const DEFAULT_TIMEOUT_MS = 30_000
const TOKEN_TTL_MS = 5 * 60_000

/** Operations (at their sizes) this process has seen Shopify price. */
const pricedOperations = new Set<string>()
/** The first request of an operation not priced yet, which the others wait for. */
const pricing = new Map<string, Promise<void>>()

/** What every request of one client shares. */
interface Client {
  shop: string
  fetchImpl: typeof fetch
  maxAttempts: number
  timeoutMs: number
  log: ReturnType<typeof logger>
  budget: Budget
  /** The access token; `fresh` reads it again (after a 401). */
  token: (fresh?: boolean) => Promise<string>
  canRefreshToken: boolean
  onResponse?: (event: AdminResponseEvent) => void
}

export function createAdminClient(options: AdminClientOptions): AdminClient {
  const shop = options.shop.trim().toLowerCase()
  if (!SHOP_DOMAIN.test(shop)) throw new AppError('INVALID_INPUT', `"${options.shop}" is not a myshopify.com shop domain`)
  if (!options.accessToken && !options.getAccessToken)
    throw new AppError('INVALID_INPUT', 'createAdminClient needs accessToken or getAccessToken')
  const client: Client = {
    shop,
    fetchImpl: options.fetch ?? fetch,
    maxAttempts: options.maxAttempts ?? DEFAULT_ATTEMPTS,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    log: logger().child({ module: 'shopify-admin', shop }),
    budget: createBudget(
      shop,
      options.redis === undefined ? sharedAdminRedis : options.redis === null ? null : () => options.redis!,
    ),
    token: tokenReader(options),
    canRefreshToken: options.getAccessToken !== undefined,
    onResponse: options.onResponse,
  }
  const send = (document: string, variables: Vars = {}, opts: RequestOptions = {}) => request(client, document, variables, opts)
  return { shop, request: send as AdminClient['request'] }
}

/** The given token, or the offline one read on demand and kept for a few minutes. */
function tokenReader(options: AdminClientOptions): Client['token'] {
  let cachedToken: { value: string; until: number } | undefined
  return async function token(fresh = false): Promise<string> {
    if (options.accessToken) return options.accessToken
    if (!fresh && cachedToken && cachedToken.until > Date.now()) return cachedToken.value
    const value = await options.getAccessToken!()
    cachedToken = { value, until: Date.now() + TOKEN_TTL_MS }
    return value
  }
}

function endpoint(shop: string): string {
  const origin = env().SHOPIFY_ADMIN_ORIGIN.replaceAll('{shop}', shop).replace(/\/+$/, '')
  return `${origin}/admin/api/${SHOPIFY_API_VERSION}/graphql.json`
}

async function request(client: Client, document: string, variables: Vars, opts: RequestOptions): Promise<unknown> {
  const op = describeOperation(document, variables)
  // why one at a time at first: until Shopify has priced an operation, its
  // cost is a guess, and a burst of guesses is how a cold start overdraws.
  if (pricedOperations.has(op.costKey)) return send(client, document, variables, opts, op)
  const probe = pricing.get(op.costKey)
  if (probe) {
    await probe
    return request(client, document, variables, opts)
  }
  const done = send(client, document, variables, opts, op)
  const settled = done.then(
    () => undefined,
    () => undefined,
  )
  pricing.set(op.costKey, settled)
  void settled.then(() => pricing.delete(op.costKey))
  return done
}

/** One attempt's answer, as `nextStep` judges it. */
interface Answer {
  op: OperationInfo
  attempt: number
  idempotent: boolean
  accessToken: string
  response: Response
  payload: unknown
  throttled: boolean
}

/** The data, or how long to wait before the next attempt (null: at once). */
type Step = { data: unknown } | { retryInMs: number | null }

async function send(
  client: Client,
  document: string,
  variables: Vars,
  opts: RequestOptions,
  op: OperationInfo,
): Promise<unknown> {
  const idempotent = opts.idempotent ?? op.kind === 'query'
  const body = JSON.stringify({ query: document, variables })
  const state = { refreshedToken: false }
  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted()
    const accessToken = await client.token()
    const reservation = await client.budget.acquire(op.costKey, op.estimate, opts.signal)
    if (reservation.waitMs > 0)
      client.log.debug(
        { operation: op.name, cost: reservation.cost, waitMs: reservation.waitMs },
        'waited for Shopify query budget',
      )
    const started = performance.now()
    let response: Response
    try {
      response = await post(client, accessToken, body, opts.signal)
    } catch (e) {
      await client.budget.settle(reservation, { charged: null })
      opts.signal?.throwIfAborted()
      const sure = notSent(e)
      if ((idempotent || sure) && attempt < client.maxAttempts) {
        const delay = backoff(attempt)
        client.log.debug({ operation: op.name, attempt, delayMs: delay, err: errorText(e) }, 'Shopify unreachable; retrying')
        await sleep(delay, opts.signal)
        continue
      }
      throw new AppError('SHOPIFY_UNAVAILABLE', `Shopify could not be reached (${op.name}): ${errorText(e)}`, {
        cause: e,
        retryable: true,
        details: { operation: op.name, attempts: attempt, outcomeUnknown: !sure },
      })
    }
    const payload = await readPayload(response)
    const throttled = await recordResponse(client, { op, attempt, reservation, response, payload, started })
    const step = await nextStep(client, { op, attempt, idempotent, accessToken, response, payload, throttled }, state)
    if ('data' in step) return step.data
    if (step.retryInMs !== null) await sleep(step.retryInMs, opts.signal)
  }
}

function post(client: Client, accessToken: string, body: string, signal: AbortSignal | undefined): Promise<Response> {
  return client.fetchImpl(endpoint(client.shop), {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'User-Agent': USER_AGENT,
      'X-Shopify-Access-Token': accessToken,
    },
    body,
    signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(client.timeoutMs)]) : AbortSignal.timeout(client.timeoutMs),
  })
}

/** Settles the reservation with what Shopify charged, and reports the exchange. Returns whether it was throttled. */
async function recordResponse(
  client: Client,
  a: { op: OperationInfo; attempt: number; reservation: Reservation; response: Response; payload: unknown; started: number },
): Promise<boolean> {
  const { op, attempt, reservation, response, payload } = a
  const cost = readCost(payload)
  if (cost?.requestedQueryCost != null) pricedOperations.add(op.costKey)
  const throttled = response.status === 429 || graphqlErrorCodes(payload).includes('THROTTLED')
  await client.budget.settle(reservation, {
    // why 0 when throttled: Shopify refuses the whole query before running it.
    charged: throttled ? 0 : response.ok ? (cost?.actualQueryCost ?? null) : null,
    requested: cost?.requestedQueryCost ?? null,
    throttle: cost?.throttleStatus ?? null,
  })
  const event: AdminResponseEvent = {
    shop: client.shop,
    operation: op.name,
    attempt,
    status: response.status,
    throttled,
    requestedQueryCost: cost?.requestedQueryCost ?? null,
    actualQueryCost: cost?.actualQueryCost ?? null,
    throttleStatus: cost?.throttleStatus ?? null,
    waitMs: reservation.waitMs,
    durationMs: performance.now() - a.started,
  }
  client.onResponse?.(event)
  client.log.debug(
    {
      operation: op.name,
      attempt,
      status: response.status,
      requested: event.requestedQueryCost,
      actual: event.actualQueryCost,
      available: event.throttleStatus?.currentlyAvailable,
      throttled,
    },
    'Shopify Admin response',
  )
  return throttled
}

/** Retry, or the data, or an AppError: what an answer means. */
async function nextStep(client: Client, a: Answer, state: { refreshedToken: boolean }): Promise<Step> {
  const { op, attempt, idempotent, response } = a
  if (response.status === 401) {
    // why one retry: a merchant who re-opened the app has a new token in the session table.
    if (client.canRefreshToken && !state.refreshedToken) {
      state.refreshedToken = true
      const next = await client.token(true)
      if (next !== a.accessToken) return { retryInMs: null }
    }
    throw new AppError(
      'SHOPIFY_UNAUTHORIZED',
      `Shopify refused the access token for ${client.shop}: open the app from the store's admin to authorise it again.`,
      {
        details: { operation: op.name },
      },
    )
  }
  if (a.throttled) {
    if (attempt >= client.maxAttempts) {
      throw new AppError('SHOPIFY_THROTTLED', `Shopify kept throttling ${op.name} after ${attempt} attempts`, {
        retryable: true,
        details: { operation: op.name },
      })
    }
    // The next reserve waits exactly until the corrected budget covers the
    // cost; Retry-After, when sent, is a floor; jitter de-synchronises peers.
    const floor = retryAfterMs(response) ?? 0
    return { retryInMs: floor + Math.random() * 250 }
  }
  if (response.status >= 500) {
    const retry = idempotent || response.status === 503
    if (retry && attempt < client.maxAttempts) return { retryInMs: Math.max(retryAfterMs(response) ?? 0, backoff(attempt)) }
    throw new AppError('SHOPIFY_UNAVAILABLE', `Shopify answered ${response.status} to ${op.name}`, {
      retryable: true,
      details: { operation: op.name, status: response.status, attempts: attempt, outcomeUnknown: response.status !== 503 },
    })
  }
  if (!response.ok) throw httpError(response.status, op.name, a.payload)
  return dataOf(client, a)
}

function dataOf(client: Client, a: Answer): Step {
  const errors = graphqlErrors(a.payload)
  if (errors.length > 0) {
    const codes = errors.map((e) => e.extensions?.code)
    if (codes.includes('INTERNAL_SERVER_ERROR') && a.idempotent && a.attempt < client.maxAttempts)
      return { retryInMs: backoff(a.attempt) }
    throw graphqlError(a.op.name, errors)
  }
  if (!isRecord(a.payload) || !isRecord(a.payload.data)) {
    throw new AppError('SHOPIFY_UNAVAILABLE', `Shopify returned no data for ${a.op.name}`, {
      retryable: true,
      details: { operation: a.op.name },
    })
  }
  return { data: a.payload.data }
}

function retryAfterMs(response: Response): number | null {
  const raw = response.headers.get('retry-after')
  if (!raw) return null
  // why seconds: RFC 9110 and Shopify send seconds ("2.0"); an HTTP date also appears in the wild.
  const seconds = Number(raw)
  if (Number.isFinite(seconds)) return Math.min(60_000, Math.max(0, seconds * 1000))
  const at = Date.parse(raw)
  return Number.isNaN(at) ? null : Math.min(60_000, Math.max(0, at - Date.now()))
}

/** Errors where the request certainly never reached Shopify (safe to resend anything). */
function notSent(e: unknown): boolean {
  const code = (e as { cause?: { code?: string } })?.cause?.code
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'UND_ERR_CONNECT_TIMEOUT'
}

function errorText(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } }
  return [err?.message, err?.cause?.code ?? err?.cause?.message].filter(Boolean).join(': ')
}
