import { createAdminClient, type AdminClient } from './admin/client.server.ts'
import { offlineAccessToken } from './tokens.server.ts'

/** Sends one Admin GraphQL operation for the tenant's shop and returns `data`. */
export type AdminGraphql = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>) => Promise<T>

const clients = new Map<string, AdminClient>()

/** The shop's Admin API client on its offline token (workers, webhooks, pages alike). */
export function adminFor(shop: string): AdminClient {
  let client = clients.get(shop)
  if (!client) {
    client = createAdminClient({ shop, getAccessToken: () => offlineAccessToken(shop) })
    clients.set(shop, client)
  }
  return client
}

/** The same client, shaped for modules that only send documents (billing). */
export function adminGraphql(shop: string): AdminGraphql {
  const client = adminFor(shop)
  return (query, variables) => client.request(query, variables ?? {})
}
