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
    // why flip a decoded byte: swapping a base64 character for itself (or a padding bit) would change nothing.
    const prefix = 'enc:v1:'
    expect(stored.startsWith(prefix)).toBe(true)
    const raw = Buffer.from(stored.slice(prefix.length), 'base64url')
    raw[raw.length - 1] ^= 0x01
    const flipped = prefix + raw.toString('base64url')
    expect(() => decryptSecret(flipped)).toThrow(/could not be decrypted/)
  })

  it('passes through values stored before encryption', () => {
    expect(decryptSecret('legacy-token')).toBe('legacy-token')
  })
})
