import { serverUrlsFromEnv } from '../url-list.ts'
import { createComfyuiBackend, type ComfyuiBackend } from './adapter.server.ts'

// COMFYUI_URLS: the ComfyUI servers this deployment renders on, comma-separated
// (e.g. `http://gpu-1:8188,http://gpu-2:8188`); empty = none. Read here rather
// than in app/lib/env.server.ts so the backend module owns its one setting.

export function comfyuiUrls(source: Record<string, string | undefined> = process.env): string[] {
  return serverUrlsFromEnv('COMFYUI_URLS', source.COMFYUI_URLS, 'http://gpu-1:8188')
}

/** One backend per configured server; nothing connects until the first render. */
export function comfyuiBackendsFromEnv(source: Record<string, string | undefined> = process.env): ComfyuiBackend[] {
  return comfyuiUrls(source).map((url) => createComfyuiBackend({ url }))
}
