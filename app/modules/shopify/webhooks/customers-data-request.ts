import type { TopicHandler } from './types.ts'

/** customers/data_request: we store no customer data (renders reference products and images only). */
export const customersDataRequest: TopicHandler = async () => ({ handled: true, note: 'no customer data stored' })
