import { serverUrlsFromEnv } from '../url-list.ts'
import { createSdwebuiBackend, type SdwebuiBackend } from './adapter.server.ts'
import { splitCredentials } from './client.server.ts'

// SDWEBUI_URLS: the SD WebUI servers (AUTOMATIC1111 or Forge, started with
// --api) this deployment renders on, comma-separated, e.g.
// `http://gpu-1:7860,http://user:secret@gpu-2:7860` (credentials for
// --api-auth); empty = none. Read here rather than in app/lib/env.server.ts
// so the backend module owns its one setting.
//
// Each server renders one image at a time: give every SD WebUI backend ONE
// slot in the scheduler. Inside a process the adapter also takes turns per
// server (lock.ts), but two processes cannot see each other's turns.

export function sdwebuiUrls(source: Record<string, string | undefined> = process.env): string[] {
  // One backend per server: the same server twice (with or without credentials or a trailing slash) would get two slots.
  return serverUrlsFromEnv('SDWEBUI_URLS', source.SDWEBUI_URLS, 'http://gpu-1:7860', (url) => splitCredentials(url).baseUrl)
}

/** One backend per configured server; nothing connects until the first render or health check. */
export function sdwebuiBackendsFromEnv(source: Record<string, string | undefined> = process.env): SdwebuiBackend[] {
  return sdwebuiUrls(source).map((url) => createSdwebuiBackend({ url }))
}
