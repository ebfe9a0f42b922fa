import { describe, expect, it } from 'vitest'
import { decryptSecret, encryptSecret, isEncrypted } from './crypto.server.ts'

describe('secrets at rest', () => {
  it('round-trips and never stores the plain text', () => {
    const stored = encryptSecret('shpat_0123456789abcdef')
    expect(isEncrypted(stored)).toBe(true)
    expect(stored).not.toContain('shpat_')
    expect(decryptSecret(stored)).toBe('shpat_0123456789abcdef')
  })

  it('uses a fresh nonce each time', () => {
    expect(encryptSecret('same')).not.toBe(encryptSecret('same'))
  })

  it('detects tampering', () => {
    const stored = encryptSecret('secret')
    const flipped = stored.slice(0, -2) + (stored.endsWith('A') ? 'B' : 'A') + stored.slice(-1)
    expect(() => decryptSecret(flipped)).toThrow(/could not be decrypted/)
  })

  it('passes through values stored before encryption', () => {
    expect(decryptSecret('legacy-token')).toBe('legacy-token')
  })
})
