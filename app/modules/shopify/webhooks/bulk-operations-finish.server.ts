import { catalogReadFinished } from '#app/modules/bulk/service.server.ts'
import type { TopicHandler } from './types.ts'

type BulkListener = (shop: string, payload: Record<string, unknown>) => Promise<void>
const bulkListeners: BulkListener[] = []

/** Bulk catalog reads (regenerate all listings) subscribe here. */
export function onBulkOperationFinished(listener: BulkListener): void {
  bulkListeners.push(listener)
}

/** bulk_operations/finish: nudges the bulk run whose catalog read this was. */
export const bulkOperationsFinish: TopicHandler = async ({ shop, payload }, tenant) => {
  const operationId = payload.admin_graphql_api_id
  // why only a nudge: the bulk run's worker reads the result file; polling would find it too, and whichever comes second is a no-op.
  const runId = tenant && typeof operationId === 'string' ? await catalogReadFinished(tenant.id, operationId) : null
  for (const listener of bulkListeners) await listener(shop, payload)
  const note = `bulk operation ${String(payload.admin_graphql_api_id ?? '')} ${String(payload.status ?? '')}`
  return { handled: true, note: runId ? `${note}; bulk run ${runId} advanced` : note }
}
