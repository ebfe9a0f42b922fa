import type { db } from '#app/lib/db.server.ts'

// What any platform's billing answers; the implementations live with their platform.

/** A transaction of db() (what reserveRenders runs in). */
export type Tx = Parameters<Parameters<ReturnType<typeof db>['transaction']>[0]>[0]

export interface RenderPrice {
  amount: number
  currency: string
}

/** Billing for one tenant: the usage plan where the platform charges app usage, free otherwise. */
export interface Biller {
  readonly billed: boolean
  /** The early, advisory cap check, before any GPU time is spent. */
  assertCanRender(count: number): Promise<void>
  /** The binding cap check, in the transaction that inserts the renders. */
  reserveRenders(tx: Tx, count: () => Promise<number>): Promise<void>
  pricePerRender(): Promise<RenderPrice>
  /** What is left under this period's cap; null where nothing is capped. */
  capLeft(): Promise<RenderPrice | null>
  /** Charges one finished render exactly once; the charge's id, null where nothing is charged. */
  chargeRender(renderId: string): Promise<string | null>
  /** Charges finished renders not charged yet (a charge that failed earlier), oldest first; how many. */
  chargeOutstanding(limit?: number): Promise<number>
}
