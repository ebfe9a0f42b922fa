import type { TopicHandler } from './types.ts'

/** customers/redact: we store no customer data (renders reference products and images only). */
export const customersRedact: TopicHandler = async () => ({ handled: true, note: 'no customer data stored' })
