import { z } from 'zod'
import { createComfyuiBackend, type ComfyuiBackend } from './adapter.server.ts'

// COMFYUI_URLS: the ComfyUI servers this deployment renders on, comma-separated
// (e.g. `http://gpu-1:8188,http://gpu-2:8188`); empty = none. Read here rather
// than in env.server.ts so the backend module owns its one setting.

const comfyuiEnvSchema = z.object({
  COMFYUI_URLS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://gpu-1:8188' }))),
})

export function comfyuiUrls(source: Record<string, string | undefined> = process.env): string[] {
  const parsed = comfyuiEnvSchema.safeParse({ COMFYUI_URLS: source.COMFYUI_URLS })
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (i) => `COMFYUI_URLS${i.path.length > 1 ? `[${String(i.path[1])}]` : ''}: ${i.message}`,
    )
    throw new Error(`Invalid environment configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`)
  }
  return [...new Set(parsed.data.COMFYUI_URLS.map((url) => url.replace(/\/+$/, '')))]
}

/** One backend per configured server; nothing connects until the first render. */
export function comfyuiBackendsFromEnv(source: Record<string, string | undefined> = process.env): ComfyuiBackend[] {
  return comfyuiUrls(source).map((url) => createComfyuiBackend({ url }))
}
