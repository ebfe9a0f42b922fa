import { AppError } from '#app/lib/errors.ts'
import { sharedGuard } from '#app/lib/outbound.server.ts'
import { guardFor, type BackendDescriptor, type Closable } from '../descriptor.server.ts'
import type { BackendCredentials, BackendSpec } from '../rows.server.ts'
import { createWeshopBackend } from './adapter.server.ts'
import { weshopType } from './descriptor.ts'
import { weshopBackendsFromEnv, weshopConfig } from './env.server.ts'

function apiKeyOf(credentials: BackendCredentials | null): string {
  if (credentials?.kind !== 'apiKey') throw new AppError('INVALID_INPUT', 'A WeShop backend needs its API key.')
  return credentials.apiKey
}

/** A shop's own key, on WeShop's endpoint (or the row's). */
async function buildWeshop({ id, url, credentials, publicOnly }: BackendSpec): Promise<Closable> {
  // why the deployment's config: WESHOP_BASE_URL and the preset ids hold for every shop's key.
  const config = weshopConfig()
  // why these origins for results: the operator's WESHOP_BASE_URL may sit on a private address (a local
  // fake), and so may a row's own endpoint where the API itself may be private (operator rows, local mode).
  const trusted = publicOnly || !url ? [config.baseUrl] : [config.baseUrl, url]
  const client = { outbound: guardFor(publicOnly), resultsGuard: sharedGuard(trusted) }
  return createWeshopBackend({
    id,
    apiKey: apiKeyOf(credentials),
    baseUrl: url || config.baseUrl,
    presets: config.presets,
    client,
  })
}

/** WESHOP_API_KEY for the deployment, or a shop's own key from Settings. */
export const weshopDescriptor: BackendDescriptor = {
  ...weshopType,
  fromEnv: (source) => weshopBackendsFromEnv(source),
  build: buildWeshop,
}
