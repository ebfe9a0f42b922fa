import { z } from 'zod'

/**
 * A comma-separated list of http(s) server URLs from one environment variable
 * (COMFYUI_URLS, SDWEBUI_URLS), validated; empty = none. Errors name the
 * variable and the position, never the value (a URL may carry a password).
 * `keyOf` decides when two entries are the same server (one backend each).
 */
export function serverUrlsFromEnv(
  name: string,
  value: string | undefined,
  example: string,
  keyOf: (url: string) => string = (url) => url.replace(/\/+$/, ''),
): string[] {
  const schema = z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/, error: `must be an http(s) URL such as ${example}` })))
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${name}${i.path.length > 0 ? `[${String(i.path[0])}]` : ''}: ${i.message}`)
    throw new Error(`Invalid environment configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`)
  }
  const seen = new Set<string>()
  const urls: string[] = []
  for (const url of parsed.data) {
    const key = keyOf(url)
    if (seen.has(key)) continue
    seen.add(key)
    urls.push(url.replace(/\/+$/, ''))
  }
  return urls
}
