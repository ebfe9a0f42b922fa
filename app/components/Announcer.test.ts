import { describe, expect, it } from 'vitest'
import { translator } from '#app/lib/i18n.ts'
import { announcement } from './Announcer.tsx'

describe('what the studio announces', () => {
  const done = { id: 'a', status: 'succeeded' as const, fidelityScore: 91.6, errorCode: null, errorReason: null, backendName: 'CPU studio' }
  const failed = { id: 'b', status: 'failed' as const, fidelityScore: null, errorCode: 'BACKEND_UNAVAILABLE', errorReason: null, backendName: 'gpu-1' }

  it('says each render that finished since the last look, once, in the page’s language', () => {
    const before = new Map([
      ['a', 'running'],
      ['b', 'queued'],
    ])
    const en = announcement(before, [done, failed], translator('en'))
    expect(en).toMatch(/^A render finished: product fidelity 92\. A render failed: .*gpu-1/)
    expect(announcement(before, [done], translator('zh-CN'))).toBe('一张图片已生成：商品还原度 92。')
    // Already finished on the last look, or never seen running: nothing to say.
    expect(announcement(new Map([['a', 'succeeded']]), [done], translator('en'))).toBe('')
    expect(announcement(new Map(), [done, failed], translator('en'))).toBe('')
  })
})
