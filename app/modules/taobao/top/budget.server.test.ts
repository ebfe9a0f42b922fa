import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { isAppError } from '#app/lib/errors.ts'
import { createCallBudget, type BudgetConfig } from './budget.server.ts'

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
afterAll(() => redis.quit())

const config = (store: Redis | null, overrides: Partial<BudgetConfig> = {}): BudgetConfig => ({
  redis: store,
  keyPrefix: `${process.env.QUEUE_PREFIX ?? 'atelier-test'}:budget-test:${randomUUID()}`,
  appKey: 'k',
  app: { perSecond: 20, burst: 2 },
  seller: { perSecond: 20 },
  maxWaitMs: 5_000,
  ...overrides,
})

describe.each([
  ['Redis', redis],
  ['this process', null],
] as const)('call budget in %s', (_, store) => {
  it('spends the burst at once, then paces at the rate', async () => {
    const budget = createCallBudget(config(store))
    const started = performance.now()
    for (let i = 0; i < 6; i++) await budget.take('s1', { maxBanWaitMs: 1_000 })
    // 2 at once, 4 more at 20/s: about 200 ms.
    expect(performance.now() - started).toBeGreaterThan(150)
  })

  it('keeps a ban, never shortens it, and fails a caller who cannot wait that long', async () => {
    const budget = createCallBudget(config(store))
    await budget.ban('seller', 's1', 3_000)
    await budget.ban('seller', 's1', 500)
    expect(await budget.banLeft('s1')).toBeGreaterThan(2_000)
    expect(await budget.banLeft('s2')).toBe(0)
    const e = await budget.take('s1', { maxBanWaitMs: 1_000 }).catch((err: unknown) => err)
    expect(isAppError(e) && e.code === 'TAOBAO_CALL_LIMITED' && e.retryable).toBe(true)
    await budget.take('s2', { maxBanWaitMs: 0 })
  })
})
