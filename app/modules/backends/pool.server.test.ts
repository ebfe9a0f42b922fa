import { describe, expect, it } from 'vitest'
import { buildBackend } from './pool.server.ts'

describe('building a backend from a spec', () => {
  it('refuses a bearer token for SD WebUI and a missing WeShop key, in words', async () => {
    await expect(
      buildBackend({ id: 'x', type: 'sdwebui', url: 'http://127.0.0.1:1', credentials: { kind: 'bearer', token: 'tok' }, publicOnly: false }),
    ).rejects.toThrow(/user name and password/)
    await expect(buildBackend({ id: 'x', type: 'weshop', url: '', credentials: null, publicOnly: false })).rejects.toThrow(/API key/)
  })

  it('builds each type with the id it is given', async () => {
    const comfyui = await buildBackend({ id: 'cfg-a', type: 'comfyui', url: 'http://127.0.0.1:1', credentials: null, publicOnly: false })
    const sdwebui = await buildBackend({
      id: 'cfg-b',
      type: 'sdwebui',
      url: 'http://127.0.0.1:1',
      credentials: { kind: 'basic', username: 'ann', password: 'p@ss word' },
      publicOnly: false,
    })
    const weshop = await buildBackend({
      id: 'cfg-c',
      type: 'weshop',
      url: '',
      credentials: { kind: 'apiKey', apiKey: 'sk-test-123456' },
      publicOnly: false,
    })
    expect([comfyui.id, sdwebui.id, weshop.id]).toEqual(['cfg-a', 'cfg-b', 'cfg-c'])
    expect(JSON.stringify(weshop)).not.toContain('sk-test-123456')
    await Promise.all([comfyui, sdwebui, weshop].map((b) => b.close?.()))
  })
})
