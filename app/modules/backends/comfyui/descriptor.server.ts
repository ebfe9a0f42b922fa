import { guardFor, type BackendDescriptor } from '../descriptor.server.ts'
import type { BackendCredentials } from '../rows.server.ts'
import { createComfyuiBackend } from './adapter.server.ts'
import { comfyuiType } from './descriptor.ts'
import { comfyuiBackendsFromEnv } from './env.server.ts'

function authHeaders(credentials: BackendCredentials | null): Record<string, string> | undefined {
  if (credentials?.kind === 'bearer') return { Authorization: `Bearer ${credentials.token}` }
  if (credentials?.kind === 'basic') {
    return { Authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` }
  }
  return undefined
}

/** COMFYUI_URLS, or a stored server with an optional bearer or basic auth header. */
export const comfyuiDescriptor: BackendDescriptor = {
  ...comfyuiType,
  fromEnv: (source) => comfyuiBackendsFromEnv(source),
  build: async ({ id, url, credentials, publicOnly }) =>
    createComfyuiBackend({ id, url, client: { headers: authHeaders(credentials), outbound: guardFor(publicOnly) } }),
}
