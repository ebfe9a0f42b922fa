import { z } from 'zod'
import { createSdwebuiBackend, type SdwebuiBackend } from './adapter.server.ts'
import { splitCredentials } from './client.server.ts'

// SDWEBUI_URLS: the SD WebUI servers (AUTOMATIC1111 or Forge, started with
// --api) this deployment renders on, comma-separated, e.g.
// `http://gpu-1:7860,http://user:secret@gpu-2:7860` (credentials for
// --api-auth); empty = none. Read here rather than in env.server.ts so the
// backend module owns its one setting.
//
// Each server renders one image at a time: give every SD WebUI backend ONE
// slot in the scheduler. Inside a process the adapter also takes turns per
// server (lock.ts), but two processes cannot see each other's turns.

const sdwebuiEnvSchema = z.object({
  SDWEBUI_URLS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://gpu-1:7860' }))),
})

export function sdwebuiUrls(source: Record<string, string | undefined> = process.env): string[] {
  const parsed = sdwebuiEnvSchema.safeParse({ SDWEBUI_URLS: source.SDWEBUI_URLS })
  if (!parsed.success) {
    // why no value in the message: a URL may carry a password.
    const issues = parsed.error.issues.map(
      (i) => `SDWEBUI_URLS${i.path.length > 1 ? `[${String(i.path[1])}]` : ''}: ${i.message}`,
    )
    throw new Error(`Invalid environment configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`)
  }
  // One backend per server: the same server twice (with or without a trailing slash) would get two slots.
  const seen = new Set<string>()
  const urls: string[] = []
  for (const url of parsed.data.SDWEBUI_URLS) {
    const key = splitCredentials(url).baseUrl
    if (seen.has(key)) continue
    seen.add(key)
    urls.push(url.replace(/\/+$/, ''))
  }
  return urls
}

/** One backend per configured server; nothing connects until the first render or health check. */
export function sdwebuiBackendsFromEnv(source: Record<string, string | undefined> = process.env): SdwebuiBackend[] {
  return sdwebuiUrls(source).map((url) => createSdwebuiBackend({ url }))
}
