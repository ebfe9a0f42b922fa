import type { Tenant } from '#db/schema.ts'

/** What a topic's handler did, for the log. */
export type Outcome = { handled: boolean; note: string }

/** A delivery whose headers matched its signed body (delivery.ts), its topic normalised. */
export interface VerifiedEvent {
  shop: string
  webhookId: string
  topic: string
  payload: Record<string, unknown>
}

/** One topic's handler: idempotent, fast (rows and job cancels only). `tenant` is the shop's, when installed. */
export type TopicHandler = (event: VerifiedEvent, tenant: Tenant | undefined) => Promise<Outcome>
