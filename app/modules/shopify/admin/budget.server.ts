import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { env } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { RESERVE_SCRIPT, SETTLE_SCRIPT } from './budget-scripts.ts'
import type { ThrottleStatus } from './cost.ts'
import { evalCached } from '#app/lib/redis.server.ts'
import { sleep } from '#app/lib/sleep.ts'

// The shop's cost budget, shared by every process through Redis (a mirror of
// Shopify's leaky bucket), or kept in this process when Redis is not there.

// why these defaults: only used before the first response of a shop tells us
// its real bucket; below the standard plan's 2000/100 so a first burst errs safe.
const DEFAULT_BUCKET = { max: 1000, rate: 50 }
const BUDGET_TTL_MS = 10 * 60_000
const COST_TTL_MS = 7 * 24 * 3600_000
// why: a reservation whose owner died (killed worker) stops counting as in flight after this.
const INFLIGHT_GRACE_MS = 120_000

export interface Reservation {
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

export interface Outcome {
  /** Points Shopify charged in the end (actualQueryCost); null when unknown (the reservation stands). */
  charged: number | null
  requested?: number | null
  throttle?: ThrottleStatus | null
}

export interface Budget {
  /** Waits until the cost is reserved for this caller. */
  acquire(costKey: string, estimate: number, signal?: AbortSignal): Promise<Reservation>
  settle(reservation: Reservation, outcome: Outcome): Promise<void>
}

// How far ahead a reservation may be made, and the longest a caller waits for
// the budget before the request fails as throttled.
const RESERVE_AHEAD_MS = 1_000
const MAX_BUDGET_WAIT_MS = 5 * 60_000
// why: Node's timers fire against the event loop's cached clock, up to a millisecond
// before the delay has passed; a request sent that early finds its points not yet restored.
const TIMER_SLACK_MS = 2

export function createBudget(shop: string, redis: (() => Redis) | null): Budget {
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
        const [cost, wait, member] = (await evalCached(redis(), RESERVE_SCRIPT, keys(), [
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
          if (attempt.waitMs > 0) await sleep(attempt.waitMs + TIMER_SLACK_MS, signal)
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
          await evalCached(redis(), SETTLE_SCRIPT, keys(), [
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
