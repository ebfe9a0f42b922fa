// Shopify's leaky bucket, per app and shop: a request needs its requested
// cost available up front, the difference to its actual cost is refunded
// afterwards, and the bucket refills continuously at restoreRate per second.

export interface ThrottleStatus {
  maximumAvailable: number
  currentlyAvailable: number
  restoreRate: number
}

export interface Bucket {
  /** Takes `cost` if it is available now; false means THROTTLED. */
  take(cost: number): boolean
  refund(points: number): void
  status(): ThrottleStatus
}

export const PLAN_LIMITS = {
  standard: { bucket: 2000, restoreRate: 100 },
  advanced: { bucket: 4000, restoreRate: 200 },
  plus: { bucket: 20_000, restoreRate: 1000 },
} as const

export function createBucket(opts: { size: number; restoreRate: number; enforce: boolean; now: () => number }): Bucket {
  let available = opts.size
  let at = opts.now()

  function refill(): void {
    const now = opts.now()
    available = Math.min(opts.size, available + ((now - at) / 1000) * opts.restoreRate)
    at = now
  }

  return {
    take(cost) {
      refill()
      if (!opts.enforce) return true
      if (cost > available) return false
      available -= cost
      return true
    },
    refund(points) {
      if (!opts.enforce) return
      refill()
      available = Math.min(opts.size, available + Math.max(0, points))
    },
    status() {
      refill()
      return {
        maximumAvailable: opts.size,
        // why floor: Shopify reports whole points while it refills fractionally.
        currentlyAvailable: opts.enforce ? Math.floor(available) : opts.size,
        restoreRate: opts.restoreRate,
      }
    },
  }
}
