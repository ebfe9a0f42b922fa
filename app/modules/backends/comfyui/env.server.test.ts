import { describe, expect, it, vi } from 'vitest'
import { comfyuiUrls } from './env.server.ts'

describe('COMFYUI_URLS', () => {
  it('reads a comma-separated list of http(s) URLs', () => {
    expect(comfyuiUrls({})).toEqual([])
    expect(comfyuiUrls({ COMFYUI_URLS: ' ' })).toEqual([])
    expect(comfyuiUrls({ COMFYUI_URLS: 'http://gpu-1:8188/, https://gpu-2.example.com ,http://gpu-1:8188' })).toEqual([
      'http://gpu-1:8188',
      'https://gpu-2.example.com',
    ])
    expect(() => comfyuiUrls({ COMFYUI_URLS: 'http://gpu-1:8188,gpu-2:8188' })).toThrow(
      /COMFYUI_URLS\[1\]: must be an http\(s\) URL/,
    )
  })
})

describe('the backend registry with COMFYUI_URLS', () => {
  it('puts the configured ComfyUI servers before the CPU studio, without connecting', async () => {
    const before = process.env.COMFYUI_URLS
    process.env.COMFYUI_URLS = 'http://127.0.0.1:1,http://127.0.0.1:2'
    try {
      vi.resetModules()
      const registry = await import('#app/modules/backends/registry.server.ts')
      expect(registry.availableBackends().map((b) => b.id)).toEqual(['comfyui-127-0-0-1-1', 'comfyui-127-0-0-1-2', 'cpu-studio'])
      expect(registry.pickBackend('model_swap', true).id).toBe('comfyui-127-0-0-1-1')
      expect(registry.pickBackend('product_scene', false).id).toBe('cpu-studio')
      expect(registry.personasAvailable()).toBe(true)
    } finally {
      if (before === undefined) delete process.env.COMFYUI_URLS
      else process.env.COMFYUI_URLS = before
      vi.resetModules()
    }
  })
})
