import type { Redis } from 'ioredis'
import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { BAN_SCRIPT, TAKE_SCRIPT } from './budget-scripts.ts'
import { evalCached } from '#app/lib/redis.server.ts'
import { sleep } from '#app/lib/sleep.ts'

// Every TOP call passes here first: a ban TOP imposed (code 7) is waited out,
// and the app's and the seller's calls per second are spent from buckets
// shared by every process through Redis (or kept in this process without it).

export interface Rate {
  /** Calls per second, sustained. */
  perSecond: number
  /** Calls that may go at once after a quiet spell (default: one second's worth). */
  burst?: number
}

export interface BudgetConfig {
  redis: Redis | null
  /** Prefix of every key, e.g. `${QUEUE_PREFIX}:taobao`; the app key is added after it. */
  keyPrefix: string
  appKey: string
  app: Rate
  seller: Rate
  /** The longest a caller waits for an empty bucket before failing (retryable). */
  maxWaitMs: number
}

export type BanScope = 'app' | 'seller'

export interface CallBudget {
  /** Waits for a ban to lapse (up to `maxBanWaitMs`) and for a token in both buckets. */
  take(seller: string | undefined, opts: { maxBanWaitMs: number; signal?: AbortSignal }): Promise<{ waitMs: number }>
  /** Records a ban TOP announced, for every process. */
  ban(scope: BanScope, seller: string | undefined, ms: number): Promise<void>
  /** Milliseconds left of a ban in force for this seller (or the app), 0 when none. */
  banLeft(seller: string | undefined): Promise<number>
}

type Answer = { kind: 'ok' } | { kind: 'wait' | 'ban'; ms: number }

const BUCKET_TTL_MS = 10 * 60_000
const TIMER_SLACK_MS = 2

export function createCallBudget(config: BudgetConfig): CallBudget {
  const base = `${config.keyPrefix}:top:${config.appKey}`
  const keys = (seller: string | undefined) => [
    `${base}:budget`,
    `${base}:budget:seller:${seller ?? '-'}`,
    `${base}:ban`,
    `${base}:ban:seller:${seller ?? '-'}`,
  ]
  const appBurst = config.app.burst ?? Math.max(1, config.app.perSecond)
  const sellerBurst = config.seller.burst ?? Math.max(1, config.seller.perSecond)
  const local = localBudget()
  let warned = false
  const fallBack = (e: unknown) => {
    if (!warned) logger().warn({ err: e }, 'Taobao call budget: Redis unavailable, limiting in this process only')
    warned = true
  }

  async function ask(seller: string | undefined): Promise<Answer> {
    if (config.redis) {
      try {
        const [kind, ms] = (await evalCached(config.redis, TAKE_SCRIPT, keys(seller), [
          config.app.perSecond,
          appBurst,
          config.seller.perSecond,
          sellerBurst,
          seller ? 1 : 0,
          BUCKET_TTL_MS,
        ])) as [string, number]
        warned = false
        return kind === 'ok' ? { kind: 'ok' } : { kind: kind as 'wait' | 'ban', ms: Number(ms) }
      } catch (e) {
        fallBack(e)
      }
    }
    return local.take(keys(seller), seller !== undefined, [config.app.perSecond, appBurst, config.seller.perSecond, sellerBurst])
  }

  return {
    async take(seller, opts) {
      const started = performance.now()
      for (;;) {
        opts.signal?.throwIfAborted()
        const answer = await ask(seller)
        if (answer.kind === 'ok') return { waitMs: Math.round(performance.now() - started) }
        const waited = performance.now() - started
        if (answer.kind === 'ban' && waited + answer.ms > opts.maxBanWaitMs) {
          throw new AppError('TAOBAO_CALL_LIMITED', `Taobao has banned calls for ${Math.ceil(answer.ms / 1000)} s more`, {
            retryable: true,
            details: { retryAfterMs: answer.ms },
          })
        }
        if (answer.kind === 'wait' && waited > config.maxWaitMs) {
          throw new AppError('TAOBAO_CALL_LIMITED', `Waited over ${config.maxWaitMs} ms for the Taobao call budget`, {
            retryable: true,
            details: { retryAfterMs: answer.ms },
          })
        }
        // why jitter: callers turned away together must not come back together.
        const jitter = answer.kind === 'ban' ? Math.random() * 50 : answer.ms * Math.random() * 0.5
        await sleep(answer.ms + jitter + TIMER_SLACK_MS, opts.signal)
      }
    },
    async ban(scope, seller, ms) {
      const [, , appBan, sellerBan] = keys(seller)
      const key = scope === 'seller' && seller ? sellerBan : appBan
      local.ban(key, ms)
      if (!config.redis) return
      try {
        await evalCached(config.redis, BAN_SCRIPT, [key], [Math.ceil(ms), scope])
      } catch (e) {
        fallBack(e)
      }
    },
    async banLeft(seller) {
      const [, , appBan, sellerBan] = keys(seller)
      if (config.redis) {
        try {
          const [a, s] = await Promise.all([config.redis.pttl(appBan), seller ? config.redis.pttl(sellerBan) : -2])
          return Math.max(0, a, s)
        } catch (e) {
          fallBack(e)
        }
      }
      return local.banLeft(seller ? [appBan, sellerBan] : [appBan])
    },
  }
}


// The same buckets and bans in this process's memory, for when Redis is not there.
const buckets = new Map<string, { tokens: number; ts: number }>()
const bans = new Map<string, number>()

function localBudget() {
  const level = (key: string, rate: number, burst: number, now: number) => {
    const b = buckets.get(key) ?? { tokens: burst, ts: now }
    return Math.min(burst, b.tokens + (Math.max(0, now - b.ts) * rate) / 1000)
  }
  const banLeft = (banKeys: string[]) => Math.max(0, ...banKeys.map((k) => (bans.get(k) ?? 0) - Date.now()))
  return {
    banLeft,
    ban(key: string, ms: number) {
      bans.set(key, Math.max(bans.get(key) ?? 0, Date.now() + ms))
    },
    take(keys: string[], hasSeller: boolean, [appRate, appBurst, sellerRate, sellerBurst]: number[]): Answer {
      const now = Date.now()
      const ban = banLeft(hasSeller ? [keys[2], keys[3]] : [keys[2]])
      if (ban > 0) return { kind: 'ban', ms: ban }
      const app = level(keys[0], appRate, appBurst, now)
      const seller = hasSeller ? level(keys[1], sellerRate, sellerBurst, now) : 1
      const wait = Math.max(
        app < 1 ? Math.ceil(((1 - app) * 1000) / appRate) : 0,
        seller < 1 ? Math.ceil(((1 - seller) * 1000) / sellerRate) : 0,
      )
      if (wait > 0) return { kind: 'wait', ms: wait }
      buckets.set(keys[0], { tokens: app - 1, ts: now })
      if (hasSeller) buckets.set(keys[1], { tokens: seller - 1, ts: now })
      return { kind: 'ok' }
    },
  }
}
