// What every part of the fake shares: options, shops, clock, stats and the
// background work (media processing, bulk runs, webhooks) close() waits for.
import type { GraphQLSchema } from 'graphql'
import type { ShopRecord } from './store.ts'
import type { FailureRule } from './types.ts'

export interface Stats {
  requests: number
  throttled: number
  costSpent: number
  byOperation: Record<string, number>
}

export interface Runtime {
  apiKey: string
  apiSecret: string
  apiVersion: string
  appUrl: string | undefined
  mediaProcessingMs: number
  throttle: false | { bucket?: number; restoreRate?: number } | undefined
  origin: string
  schema: GraphQLSchema
  shops: Map<string, ShopRecord>
  stats: Stats
  failure: FailureRule | null
  closed: boolean
  now(): number
  /** `${origin}/${shop}`: where one shop's admin, staged uploads, CDN and bulk files live. */
  shopBase(shop: ShopRecord): string
  /** Runs `fn` after `ms` unless the fake closes first. */
  later(ms: number, fn: () => void): void
  /** Background work close() waits for. */
  track(work: Promise<unknown>): void
  /** Sends one of the fake's own webhooks, if the app is reachable and subscribed. */
  emitWebhook(shop: ShopRecord, topic: string, payload: unknown): void
}

export function countOperation(stats: Stats, name: string): void {
  stats.byOperation[name] = (stats.byOperation[name] ?? 0) + 1
}
