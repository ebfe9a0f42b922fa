import { describe, expect, it } from 'vitest'
import { sdwebuiBackendsFromEnv, sdwebuiUrls } from './env.server.ts'

describe('SDWEBUI_URLS', () => {
  it('reads a comma-separated list of http(s) URLs, one per server', () => {
    expect(sdwebuiUrls({})).toEqual([])
    expect(sdwebuiUrls({ SDWEBUI_URLS: ' ' })).toEqual([])
    expect(
      sdwebuiUrls({ SDWEBUI_URLS: 'http://gpu-1:7860/, https://sd.example.com ,http://gpu-1:7860,http://bot:pw@gpu-1:7860' }),
    ).toEqual(['http://gpu-1:7860', 'https://sd.example.com'])
    expect(() => sdwebuiUrls({ SDWEBUI_URLS: 'http://gpu-1:7860,gpu-2:7860' })).toThrow(
      /SDWEBUI_URLS\[1\]: must be an http\(s\) URL/,
    )
  })

  it('never echoes a password from a bad value', () => {
    let message = ''
    try {
      sdwebuiUrls({ SDWEBUI_URLS: 'ftp://bot:hunter2@gpu-1:7860' })
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toContain('SDWEBUI_URLS')
    expect(message).not.toContain('hunter2')
  })

  it('builds one backend per server, without connecting; credentials stay out of the id and the client URL', () => {
    const backends = sdwebuiBackendsFromEnv({ SDWEBUI_URLS: 'http://bot:secret@127.0.0.1:1,http://127.0.0.1:2' })
    expect(backends.map((b) => b.id)).toEqual(['sdwebui-127-0-0-1-1', 'sdwebui-127-0-0-1-2'])
    expect(backends[0].client.baseUrl).toBe('http://127.0.0.1:1')
    expect(backends.every((b) => b.capabilities().slots === 1)).toBe(true)
  })
})
