import { createHash, randomUUID } from 'node:crypto'
import type { AdminMutations, AdminQueries } from '@shopify/admin-api-client'
import { Kind, parse, type DocumentNode, type FieldNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql'
import { Redis } from 'ioredis'
import { env } from '#app/lib/env.server.ts'
import { AppError, type ErrorCode } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { SHOPIFY_API_VERSION } from './api-version.ts'

// One Admin GraphQL client for every Shopify call Atelier makes: the token,
// the cost-aware limiter shared by all processes, retries, and errors as
// AppErrors. why not @shopify/admin-api-client: it retries only HTTP 429/503
// and never the GraphQL THROTTLED error, and knows nothing of the other
// workers spending the same shop's bucket.

type Operations = AdminQueries & AdminMutations
type Vars = Record<string, unknown>

export interface ThrottleStatus {
  maximumAvailable: number
  currentlyAvailable: number
  restoreRate: number
}

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
// why these defaults: only used before the first response of a shop tells us
// its real bucket; below the standard plan's 2000/100 so a first burst errs safe.
const DEFAULT_BUCKET = { max: 1000, rate: 50 }
const BUDGET_TTL_MS = 10 * 60_000
const COST_TTL_MS = 7 * 24 * 3600_000
// why: a reservation whose owner died (killed worker) stops counting as in flight after this.
const INFLIGHT_GRACE_MS = 120_000

export function createAdminClient(options: AdminClientOptions): AdminClient {
  const shop = options.shop.trim().toLowerCase()
  if (!SHOP_DOMAIN.test(shop)) throw new AppError('INVALID_INPUT', `"${options.shop}" is not a myshopify.com shop domain`)
  if (!options.accessToken && !options.getAccessToken)
    throw new AppError('INVALID_INPUT', 'createAdminClient needs accessToken or getAccessToken')
  const fetchImpl = options.fetch ?? fetch
  const maxAttempts = options.maxAttempts ?? DEFAULT_ATTEMPTS
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const log = logger().child({ module: 'shopify-admin', shop })
  const budget = createBudget(
    shop,
    options.redis === undefined ? sharedAdminRedis : options.redis === null ? null : () => options.redis!,
  )

  let cachedToken: { value: string; until: number } | undefined
  async function token(fresh = false): Promise<string> {
    if (options.accessToken) return options.accessToken
    if (!fresh && cachedToken && cachedToken.until > Date.now()) return cachedToken.value
    const value = await options.getAccessToken!()
    cachedToken = { value, until: Date.now() + TOKEN_TTL_MS }
    return value
  }

  function endpoint(): string {
    const origin = env().SHOPIFY_ADMIN_ORIGIN.replaceAll('{shop}', shop).replace(/\/+$/, '')
    return `${origin}/admin/api/${SHOPIFY_API_VERSION}/graphql.json`
  }

  async function request(document: string, variables: Vars = {}, opts: RequestOptions = {}): Promise<unknown> {
    const op = describeOperation(document, variables)
    // why one at a time at first: until Shopify has priced an operation, its
    // cost is a guess, and a burst of guesses is how a cold start overdraws.
    if (pricedOperations.has(op.costKey)) return send(document, variables, opts, op)
    const probe = pricing.get(op.costKey)
    if (probe) {
      await probe
      return request(document, variables, opts)
    }
    const done = send(document, variables, opts, op)
    const settled = done.then(
      () => undefined,
      () => undefined,
    )
    pricing.set(op.costKey, settled)
    void settled.then(() => pricing.delete(op.costKey))
    return done
  }

  async function send(document: string, variables: Vars, opts: RequestOptions, op: OperationInfo): Promise<unknown> {
    const idempotent = opts.idempotent ?? op.kind === 'query'
    const body = JSON.stringify({ query: document, variables })
    let refreshedToken = false
    for (let attempt = 1; ; attempt++) {
      opts.signal?.throwIfAborted()
      const accessToken = await token()
      const reservation = await budget.acquire(op.costKey, op.estimate, opts.signal)
      if (reservation.waitMs > 0)
        log.debug({ operation: op.name, cost: reservation.cost, waitMs: reservation.waitMs }, 'waited for Shopify query budget')
      const started = performance.now()
      let response: Response
      try {
        response = await fetchImpl(endpoint(), {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Accept: 'application/json',
            'User-Agent': USER_AGENT,
            'X-Shopify-Access-Token': accessToken,
          },
          body,
          signal: opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
        })
      } catch (e) {
        await budget.settle(reservation, { charged: null })
        opts.signal?.throwIfAborted()
        const sure = notSent(e)
        if ((idempotent || sure) && attempt < maxAttempts) {
          const delay = backoff(attempt)
          log.debug({ operation: op.name, attempt, delayMs: delay, err: errorText(e) }, 'Shopify unreachable; retrying')
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
      const cost = readCost(payload)
      if (cost?.requestedQueryCost != null) pricedOperations.add(op.costKey)
      const throttled = response.status === 429 || graphqlErrorCodes(payload).includes('THROTTLED')
      await budget.settle(reservation, {
        // why 0 when throttled: Shopify refuses the whole query before running it.
        charged: throttled ? 0 : response.ok ? (cost?.actualQueryCost ?? null) : null,
        requested: cost?.requestedQueryCost ?? null,
        throttle: cost?.throttleStatus ?? null,
      })
      const event: AdminResponseEvent = {
        shop,
        operation: op.name,
        attempt,
        status: response.status,
        throttled,
        requestedQueryCost: cost?.requestedQueryCost ?? null,
        actualQueryCost: cost?.actualQueryCost ?? null,
        throttleStatus: cost?.throttleStatus ?? null,
        waitMs: reservation.waitMs,
        durationMs: performance.now() - started,
      }
      options.onResponse?.(event)
      log.debug(
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

      if (response.status === 401) {
        // why one retry: a merchant who re-opened the app has a new token in the session table.
        if (options.getAccessToken && !refreshedToken) {
          refreshedToken = true
          const next = await token(true)
          if (next !== accessToken) continue
        }
        throw new AppError(
          'SHOPIFY_UNAUTHORIZED',
          `Shopify refused the access token for ${shop}: open the app from the store's admin to authorise it again.`,
          {
            details: { operation: op.name },
          },
        )
      }
      if (throttled) {
        if (attempt >= maxAttempts) {
          throw new AppError('SHOPIFY_THROTTLED', `Shopify kept throttling ${op.name} after ${attempt} attempts`, {
            retryable: true,
            details: { operation: op.name },
          })
        }
        // The next reserve waits exactly until the corrected budget covers the
        // cost; Retry-After, when sent, is a floor; jitter de-synchronises peers.
        const floor = retryAfterMs(response) ?? 0
        await sleep(floor + Math.random() * 250, opts.signal)
        continue
      }
      if (response.status >= 500) {
        const retry = idempotent || response.status === 503
        if (retry && attempt < maxAttempts) {
          await sleep(Math.max(retryAfterMs(response) ?? 0, backoff(attempt)), opts.signal)
          continue
        }
        throw new AppError('SHOPIFY_UNAVAILABLE', `Shopify answered ${response.status} to ${op.name}`, {
          retryable: true,
          details: { operation: op.name, status: response.status, attempts: attempt, outcomeUnknown: response.status !== 503 },
        })
      }
      if (!response.ok) throw httpError(response.status, op.name, payload)

      const errors = graphqlErrors(payload)
      if (errors.length > 0) {
        const codes = errors.map((e) => e.extensions?.code)
        if (codes.includes('INTERNAL_SERVER_ERROR') && idempotent && attempt < maxAttempts) {
          await sleep(backoff(attempt), opts.signal)
          continue
        }
        throw graphqlError(op.name, errors)
      }
      if (!isRecord(payload) || !isRecord(payload.data)) {
        throw new AppError('SHOPIFY_UNAVAILABLE', `Shopify returned no data for ${op.name}`, {
          retryable: true,
          details: { operation: op.name },
        })
      }
      return payload.data
    }
  }

  return { shop, request: request as AdminClient['request'] }
}

// ---------------------------------------------------------------------------
// Errors

interface GraphqlErrorEntry {
  message: string
  path?: (string | number)[]
  extensions?: { code?: string; [k: string]: unknown }
}

interface UserErrorEntry {
  field?: readonly string[] | null
  message: string
  code?: string | null
}

/**
 * Throws a SHOPIFY_USER_ERROR when a mutation payload carries `userErrors`
 * (or `mediaUserErrors`); returns the payload, non-null, otherwise.
 */
export function assertNoUserErrors<
  P extends { userErrors?: readonly UserErrorEntry[]; mediaUserErrors?: readonly UserErrorEntry[] },
>(payload: P | null | undefined, what = 'Shopify mutation'): P {
  if (!payload) throw new AppError('INTERNAL', `${what} returned no payload`)
  const errors = [...(payload.userErrors ?? []), ...(payload.mediaUserErrors ?? [])]
  if (errors.length === 0) return payload
  const list = errors.map((e) => ({ field: e.field ? [...e.field] : null, code: e.code ?? null, message: e.message }))
  const [first] = list
  throw new AppError('SHOPIFY_USER_ERROR', `${what}: ${list.map((e) => e.message).join('; ')}`, {
    details: { field: first.field, code: first.code, message: first.message, errors: list },
  })
}

/** The user errors of a SHOPIFY_USER_ERROR, for callers that accept some codes. */
export function userErrorCodes(e: unknown): string[] {
  if (!(e instanceof AppError) || e.code !== 'SHOPIFY_USER_ERROR') return []
  const errors = (e.details?.errors ?? []) as { code: string | null }[]
  return errors.map((x) => x.code ?? '')
}

function graphqlErrors(payload: unknown): GraphqlErrorEntry[] {
  if (!isRecord(payload)) return []
  const errors = payload.errors
  if (Array.isArray(errors))
    return errors.filter(isRecord).map((e) => ({ ...e, message: String(e.message ?? 'GraphQL error') }) as GraphqlErrorEntry)
  // why: Shopify answers some HTTP errors with `errors` as a plain string.
  if (typeof errors === 'string') return [{ message: errors }]
  return []
}

function graphqlErrorCodes(payload: unknown): string[] {
  return graphqlErrors(payload).map((e) => String(e.extensions?.code ?? ''))
}

function graphqlError(operation: string, errors: GraphqlErrorEntry[]): AppError {
  const list = errors.map((e) => ({ message: e.message, code: e.extensions?.code ?? null, path: e.path ?? null }))
  const code: ErrorCode = list.some((e) => e.code === 'ACCESS_DENIED') ? 'SHOPIFY_UNAUTHORIZED' : 'INTERNAL'
  return new AppError(code, `Shopify rejected ${operation}: ${list.map((e) => e.message).join('; ')}`, {
    details: { operation, errors: list },
  })
}

function httpError(status: number, operation: string, payload: unknown): AppError {
  const message = graphqlErrors(payload)
    .map((e) => e.message)
    .join('; ')
  const suffix = message ? `: ${message}` : ''
  const details = { operation, status }
  if (status === 403)
    return new AppError('SHOPIFY_UNAUTHORIZED', `The app lacks a permission ${operation} needs${suffix}`, { details })
  // 402: the shop is frozen (unpaid); 423: locked; 404: no such shop.
  if (status === 402 || status === 423 || status === 404) {
    return new AppError('SHOPIFY_UNAVAILABLE', `The shop is not available to the app (HTTP ${status})${suffix}`, { details })
  }
  return new AppError('INTERNAL', `Shopify answered ${status} to ${operation}${suffix}`, { details })
}

// ---------------------------------------------------------------------------
// Responses

async function readPayload(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => '')
  if (!text) return null
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

interface CostExtension {
  requestedQueryCost: number | null
  actualQueryCost: number | null
  throttleStatus: ThrottleStatus | null
}

function readCost(payload: unknown): CostExtension | null {
  if (!isRecord(payload) || !isRecord(payload.extensions) || !isRecord(payload.extensions.cost)) return null
  const cost = payload.extensions.cost
  const t = cost.throttleStatus
  const throttleStatus =
    isRecord(t) &&
    isFiniteNumber(t.maximumAvailable) &&
    isFiniteNumber(t.currentlyAvailable) &&
    isFiniteNumber(t.restoreRate) &&
    t.restoreRate > 0
      ? { maximumAvailable: t.maximumAvailable, currentlyAvailable: t.currentlyAvailable, restoreRate: t.restoreRate }
      : null
  return {
    requestedQueryCost: isFiniteNumber(cost.requestedQueryCost) ? cost.requestedQueryCost : null,
    actualQueryCost: isFiniteNumber(cost.actualQueryCost) ? cost.actualQueryCost : null,
    throttleStatus,
  }
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

/** Full-jitter exponential backoff: 0.5–1 × min(8 s, 400 ms × 2^(n-1)). */
function backoff(attempt: number): number {
  const ceiling = Math.min(8_000, 400 * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(done, ms)
    function done() {
      signal?.removeEventListener('abort', abort)
      resolve()
    }
    function abort() {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', abort, { once: true })
  })
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

// ---------------------------------------------------------------------------
// Operations and their static cost

interface OperationInfo {
  name: string
  kind: 'query' | 'mutation'
  /** Key under which the last requested cost of this operation (at these sizes) is remembered. */
  costKey: string
  /** Requested cost computed from the document, used until Shopify has told us the real one. */
  estimate: number
}

const parsed = new Map<string, DocumentNode>()
/** Operations (at their sizes) this process has seen Shopify price. */
const pricedOperations = new Set<string>()
/** The first request of an operation not priced yet, which the others wait for. */
const pricing = new Map<string, Promise<void>>()

export function describeOperation(document: string, variables: Vars = {}): OperationInfo {
  let doc = parsed.get(document)
  if (!doc) {
    try {
      doc = parse(document)
    } catch (e) {
      throw new AppError('INTERNAL', `Invalid GraphQL document: ${(e as Error).message}`, { cause: e })
    }
    if (parsed.size > 500) parsed.clear()
    parsed.set(document, doc)
  }
  const operation = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
  if (!operation || operation.operation === 'subscription')
    throw new AppError('INTERNAL', 'The GraphQL document has no query or mutation')
  const fragments = new Map(
    doc.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])),
  )
  const name = operation.name?.value ?? `anonymous-${createHash('sha1').update(document).digest('hex').slice(0, 10)}`
  const selectionCost = costOf(operation.selectionSet, variables, fragments)
  // why capped: Shopify refuses any single query above 1000 points.
  const estimate = Math.min(1000, operation.operation === 'mutation' ? 10 + selectionCost : Math.max(1, selectionCost))
  // why the sizes in the key: `first: 10` and `first: 250` of one query cost very differently.
  const sizes = Object.entries(variables)
    .filter(([, v]) => typeof v === 'number')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
  return { name, kind: operation.operation, costKey: sizes ? `${name}?${sizes}` : name, estimate }
}

/**
 * Shopify's rules, approximately: an object 1, a scalar 0, a mutation 10, a
 * connection 2 + its element × a page multiplier. why not `first ×`: the
 * requested costs Shopify reports now grow with the log of the page size
 * (e.g. 25, not 503, for `product { variants(first: 250) { nodes {
 * inventoryItem { id } } } }`, community.shopify.dev thread 23101), which
 * max(1, ⌊2·ln n⌋) fits. Without the schema an object is "a field with a
 * selection" and alternatives (inline fragments) are summed, so this errs
 * high; the first response replaces it with Shopify's own figure.
 */
function costOf(set: SelectionSetNode | undefined, variables: Vars, fragments: Map<string, SelectionSetNode>, depth = 0): number {
  if (!set || depth > 20) return 0
  let total = 0
  for (const selection of set.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) total += costOf(selection.selectionSet, variables, fragments, depth + 1)
    else if (selection.kind === Kind.FRAGMENT_SPREAD)
      total += costOf(fragments.get(selection.name.value), variables, fragments, depth + 1)
    else total += fieldCost(selection, variables, fragments, depth)
  }
  return total
}

function fieldCost(field: FieldNode, variables: Vars, fragments: Map<string, SelectionSetNode>, depth: number): number {
  if (!field.selectionSet) return 0
  const size = pageSize(field, variables)
  if (size === null) {
    // why 0 for these: they are the connection's own wrappers, priced in the connection.
    if (['nodes', 'edges', 'node', 'pageInfo'].includes(field.name.value) && depth > 0) {
      return costOf(field.selectionSet, variables, fragments, depth + 1)
    }
    return 1 + costOf(field.selectionSet, variables, fragments, depth + 1)
  }
  const element = Math.max(1, elementCost(field.selectionSet, variables, fragments, depth + 1))
  return 2 + pageMultiplier(size) * element
}

function pageMultiplier(n: number): number {
  return n > 0 ? Math.max(1, Math.floor(2 * Math.log(n))) : 0
}

function elementCost(set: SelectionSetNode, variables: Vars, fragments: Map<string, SelectionSetNode>, depth: number): number {
  let total = 0
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD && (s.name.value === 'nodes' || s.name.value === 'edges')) {
      total += 1 + costOf(s.selectionSet, variables, fragments, depth + 1)
    }
  }
  return total
}

function pageSize(field: FieldNode, variables: Vars): number | null {
  for (const arg of field.arguments ?? []) {
    if (arg.name.value !== 'first' && arg.name.value !== 'last') continue
    if (arg.value.kind === Kind.INT) return Number(arg.value.value)
    if (arg.value.kind === Kind.VARIABLE) {
      const v = variables[arg.value.name.value]
      if (typeof v === 'number') return v
    }
  }
  return null
}

// ---------------------------------------------------------------------------
// The shop's cost budget, shared through Redis

interface Reservation {
  /** Its entry among the shop's in-flight reservations. */
  id: string
  cost: number
  /** How long the caller waited for it, in all. */
  waitMs: number
  costKey: string
  store: 'redis' | 'local'
}

/** One try: reserved (after waiting `waitMs`), or not yet (try again in `retryInMs`). */
type Attempt = { reserved: true; id: string; cost: number; waitMs: number } | { reserved: false; cost: number; retryInMs: number }

interface Outcome {
  /** Points Shopify charged in the end (actualQueryCost); null when unknown (the reservation stands). */
  charged: number | null
  requested?: number | null
  throttle?: ThrottleStatus | null
}

// Leaky bucket mirror: `available` points at time `ts`, restored at `rate`/s
// up to `max`. A reservation subtracts at once and may take `available` below
// zero: the reserving caller then waits until restore has paid it back, so
// callers are served in reservation order and together never spend more than
// the bucket holds. Only the next `ahead` ms of restore can be reserved; a
// caller further back is told when to ask again. why: a reservation is a
// promise made with today's figures; refunds, a first sync with the shop's
// real bucket or a correction must reach callers that are still waiting.
// Responses refund (requested − actual) and pull the mirror down to what
// Shopify reports, less what is still in flight.
const RESERVE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'available', 'ts', 'max', 'rate')
local max = tonumber(b[3]) or tonumber(ARGV[3])
local rate = tonumber(b[4]) or tonumber(ARGV[4])
local available = tonumber(b[1]) or max
local ts = tonumber(b[2]) or now
local cost = tonumber(redis.call('HGET', KEYS[3], ARGV[2])) or tonumber(ARGV[1])
if cost > max then cost = max end
available = math.min(max, available + math.max(0, now - ts) * rate / 1000) - cost
local wait = 0
if available < 0 then wait = math.ceil(-available * 1000 / rate) end
if wait > tonumber(ARGV[8]) then
  return { tostring(cost), wait, '' }
end
redis.call('HSET', KEYS[1], 'available', tostring(available), 'ts', tostring(now), 'max', tostring(max), 'rate', tostring(rate))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local member = ARGV[5] .. '|' .. tostring(cost)
redis.call('ZADD', KEYS[2], now + wait + tonumber(ARGV[7]), member)
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return { tostring(cost), wait, member }
`

const SETTLE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'available', 'ts', 'max', 'rate', 'synced')
local max = tonumber(b[3]) or tonumber(ARGV[9])
local rate = tonumber(b[4]) or tonumber(ARGV[10])
local available = tonumber(b[1]) or max
local ts = tonumber(b[2]) or now
available = math.min(max, available + math.max(0, now - ts) * rate / 1000)
local reserved = tonumber(ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local inflight = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  inflight = inflight + (tonumber(string.match(m, '|(.*)$')) or 0)
end
local charged = tonumber(ARGV[3])
if charged >= 0 then available = available + reserved - charged end
local requested = tonumber(ARGV[4])
if requested >= 0 and ARGV[5] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[5], tostring(requested))
  redis.call('PEXPIRE', KEYS[3], ARGV[12])
end
local synced = b[5]
local obsMax = tonumber(ARGV[6])
if obsMax >= 0 then
  max = obsMax
  rate = tonumber(ARGV[8])
  local candidate = tonumber(ARGV[7]) - inflight
  if synced ~= '1' or candidate < available then available = candidate end
  synced = '1'
end
available = math.min(max, available)
redis.call('HSET', KEYS[1], 'available', tostring(available), 'ts', tostring(now), 'max', tostring(max), 'rate', tostring(rate), 'synced', synced or '0')
redis.call('PEXPIRE', KEYS[1], ARGV[11])
return tostring(available)
`

interface Budget {
  /** Waits until the cost is reserved for this caller. */
  acquire(costKey: string, estimate: number, signal?: AbortSignal): Promise<Reservation>
  settle(reservation: Reservation, outcome: Outcome): Promise<void>
}

// How far ahead a reservation may be made, and the longest a caller waits for
// the budget before the request fails as throttled.
const RESERVE_AHEAD_MS = 1_000
const MAX_BUDGET_WAIT_MS = 5 * 60_000

function createBudget(shop: string, redis: (() => Redis) | null): Budget {
  const keys = () => {
    const base = `${env().QUEUE_PREFIX}:shopify:budget:${shop}`
    return [base, `${base}:inflight`, `${env().QUEUE_PREFIX}:shopify:query-costs`]
  }
  let warned = false
  function fallBack(e: unknown) {
    if (!warned) logger().warn({ err: e, shop }, 'Shopify budget: Redis unavailable, limiting in this process only')
    warned = true
  }

  async function tryReserve(costKey: string, estimate: number): Promise<Attempt & { store: Reservation['store'] }> {
    const id = randomUUID()
    if (redis) {
      try {
        const [cost, wait, member] = (await evalScript(redis(), RESERVE_SCRIPT, keys(), [
          estimate,
          costKey,
          DEFAULT_BUCKET.max,
          DEFAULT_BUCKET.rate,
          id,
          BUDGET_TTL_MS,
          INFLIGHT_GRACE_MS,
          RESERVE_AHEAD_MS,
        ])) as [string, number, string]
        warned = false
        return member
          ? { reserved: true, id: member, cost: Number(cost), waitMs: Number(wait), store: 'redis' }
          : { reserved: false, cost: Number(cost), retryInMs: Number(wait) - RESERVE_AHEAD_MS, store: 'redis' }
      } catch (e) {
        fallBack(e)
      }
    }
    return { ...localBudget(shop).reserve(id, costKey, estimate), store: 'local' }
  }

  return {
    async acquire(costKey, estimate, signal) {
      const started = performance.now()
      for (;;) {
        const attempt = await tryReserve(costKey, estimate)
        if (attempt.reserved) {
          if (attempt.waitMs > 0) await sleep(attempt.waitMs, signal)
          return {
            id: attempt.id,
            cost: attempt.cost,
            costKey,
            store: attempt.store,
            waitMs: Math.round(performance.now() - started),
          }
        }
        if (performance.now() - started > MAX_BUDGET_WAIT_MS) {
          throw new AppError(
            'SHOPIFY_THROTTLED',
            `Waited over ${MAX_BUDGET_WAIT_MS / 1000} s for ${shop}'s Shopify query budget`,
            { retryable: true },
          )
        }
        // why jitter: callers turned away together must not come back together.
        await sleep(Math.min(RESERVE_AHEAD_MS, Math.max(20, attempt.retryInMs)) * (0.75 + Math.random() * 0.5), signal)
      }
    },
    async settle(reservation, outcome) {
      const t = outcome.throttle
      if (reservation.store === 'redis' && redis) {
        try {
          await evalScript(redis(), SETTLE_SCRIPT, keys(), [
            reservation.id,
            reservation.cost,
            outcome.charged ?? -1,
            outcome.requested ?? -1,
            reservation.costKey,
            t?.maximumAvailable ?? -1,
            t?.currentlyAvailable ?? 0,
            t?.restoreRate ?? 0,
            DEFAULT_BUCKET.max,
            DEFAULT_BUCKET.rate,
            BUDGET_TTL_MS,
            COST_TTL_MS,
          ])
          return
        } catch (e) {
          fallBack(e)
          return
        }
      }
      localBudget(shop).settle(reservation, outcome)
    },
  }
}

const scriptShas = new Map<string, string>()

async function evalScript(redis: Redis, script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
  let sha = scriptShas.get(script)
  if (!sha) {
    sha = createHash('sha1').update(script).digest('hex')
    scriptShas.set(script, sha)
  }
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args)
  } catch (e) {
    if (!String((e as Error).message).includes('NOSCRIPT')) throw e
    return redis.eval(script, keys.length, ...keys, ...args)
  }
}

/** The same mirror in this process's memory, for when Redis is not there. */
interface LocalState {
  available: number
  ts: number
  max: number
  rate: number
  synced: boolean
  inflight: Map<string, { cost: number; until: number }>
}
const localStates = new Map<string, LocalState>()
const localCosts = new Map<string, number>()

function localBudget(shop: string) {
  let s = localStates.get(shop)
  if (!s) {
    s = {
      available: DEFAULT_BUCKET.max,
      ts: Date.now(),
      max: DEFAULT_BUCKET.max,
      rate: DEFAULT_BUCKET.rate,
      synced: false,
      inflight: new Map(),
    }
    localStates.set(shop, s)
  }
  const state = s
  const project = () => {
    const now = Date.now()
    state.available = Math.min(state.max, state.available + (Math.max(0, now - state.ts) * state.rate) / 1000)
    state.ts = now
    for (const [id, r] of state.inflight) if (r.until < now) state.inflight.delete(id)
    return now
  }
  return {
    reserve(id: string, costKey: string, estimate: number): Attempt {
      const now = project()
      const cost = Math.min(state.max, localCosts.get(costKey) ?? estimate)
      const after = state.available - cost
      const waitMs = after < 0 ? Math.ceil((-after * 1000) / state.rate) : 0
      if (waitMs > RESERVE_AHEAD_MS) return { reserved: false, cost, retryInMs: waitMs - RESERVE_AHEAD_MS }
      state.available = after
      state.inflight.set(id, { cost, until: now + waitMs + INFLIGHT_GRACE_MS })
      return { reserved: true, id, cost, waitMs }
    },
    settle(reservation: Reservation, outcome: Outcome) {
      project()
      state.inflight.delete(reservation.id)
      if (outcome.charged !== null) state.available += reservation.cost - outcome.charged
      if (outcome.requested != null) localCosts.set(reservation.costKey, outcome.requested)
      const t = outcome.throttle
      if (t) {
        state.max = t.maximumAvailable
        state.rate = t.restoreRate
        let inflight = 0
        for (const r of state.inflight.values()) inflight += r.cost
        const candidate = t.currentlyAvailable - inflight
        if (!state.synced || candidate < state.available) state.available = candidate
        state.synced = true
      }
      state.available = Math.min(state.max, state.available)
    },
  }
}

// One connection for every client of this process. why fail fast (one retry,
// short connect timeout) but with an offline queue: a publish must not hang
// on the limiter when Redis is down (it falls back to a per-process budget
// and Shopify's THROTTLED retries), yet the first call must not fail merely
// because the connection is still opening.
let budgetConnection: Redis | undefined

/** The process's shared connection for Shopify coordination (budget, locks). */
export function sharedAdminRedis(): Redis {
  if (!budgetConnection) {
    budgetConnection = new Redis(env().REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 3_000, enableOfflineQueue: true })
    budgetConnection.on('error', () => {})
  }
  return budgetConnection
}

/** Closes the shared budget connection (tests, scripts, graceful shutdown). */
export async function closeAdminClients(): Promise<void> {
  const c = budgetConnection
  budgetConnection = undefined
  if (c && c.status !== 'end') await c.quit().catch(() => c.disconnect())
}
