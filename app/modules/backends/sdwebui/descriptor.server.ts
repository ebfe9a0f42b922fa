import { AppError } from '#app/lib/errors.ts'
import { guardFor, type BackendDescriptor } from '../descriptor.server.ts'
import type { BackendCredentials } from '../rows.server.ts'
import { createSdwebuiBackend } from './adapter.server.ts'
import { sdwebuiType } from './descriptor.ts'
import { sdwebuiBackendsFromEnv } from './env.server.ts'

/** A URL with HTTP basic credentials in it, the way the SD WebUI client takes them (--api-auth). */
function withBasicAuth(url: string, credentials: BackendCredentials | null): string {
  if (credentials?.kind === 'bearer') {
    throw new AppError('INVALID_INPUT', 'SD WebUI takes a user name and password (--api-auth), not a bearer token.')
  }
  if (credentials?.kind !== 'basic') return url
  const u = new URL(url)
  u.username = encodeURIComponent(credentials.username)
  u.password = encodeURIComponent(credentials.password)
  return u.toString().replace(/\/+$/, '')
}

/** SDWEBUI_URLS, or a stored server with an optional user name and password. */
export const sdwebuiDescriptor: BackendDescriptor = {
  ...sdwebuiType,
  fromEnv: (source) => sdwebuiBackendsFromEnv(source),
  build: async ({ id, url, credentials, publicOnly }) =>
    createSdwebuiBackend({ id, url: withBasicAuth(url, credentials), client: { outbound: guardFor(publicOnly) } }),
}
