import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { isAppError } from './errors.ts'
import { createFileStore, sha256, signedImageUrl, signUrl, verifySignedUrl } from './storage.server.ts'

const base = 'http://127.0.0.1'

function codeOf(fn: () => void): string | undefined {
  try {
    fn()
  } catch (e) {
    return isAppError(e) ? e.code : 'OTHER'
  }
  return undefined
}

describe('content-addressed store', () => {
  it('keys by sha256, stores once, reads back the same bytes', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'store-'))
    const store = createFileStore(root)
    const bytes = Buffer.from('hello image')
    const key = await store.put(bytes)
    expect(key).toBe(sha256(bytes))
    expect(await store.put(bytes)).toBe(key)
    expect((await store.get(key)).equals(bytes)).toBe(true)
    expect(await store.has(key)).toBe(true)
    const files = readdirSync(path.join(root, key.slice(0, 2), key.slice(2, 4)))
    expect(files).toEqual([key])
  })

  it('rejects keys that are not a sha256 (no path traversal)', async () => {
    const store = createFileStore(mkdtempSync(path.join(os.tmpdir(), 'store-')))
    await expect(store.get('../../etc/passwd')).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await expect(store.get('a'.repeat(64))).rejects.toMatchObject({ code: 'STORAGE_MISSING' })
  })
})

describe('signed URLs', () => {
  const key = sha256('x')

  it('accepts its own signature', () => {
    expect(codeOf(() => verifySignedUrl(new URL(signedImageUrl(key), base)))).toBeUndefined()
  })

  it('covers the query string too', () => {
    const url = new URL(signUrl('/media/t/abc/products/p/images/i?w=160'), base)
    expect(codeOf(() => verifySignedUrl(url))).toBeUndefined()
    url.searchParams.set('w', '2048')
    expect(codeOf(() => verifySignedUrl(url))).toBe('SIGNATURE_INVALID')
  })

  it('refuses a changed path, a missing or forged signature, and an expired link', () => {
    const good = new URL(signedImageUrl(key), base)
    const otherPath = new URL(good)
    otherPath.pathname = `/media/${sha256('y')}`
    expect(codeOf(() => verifySignedUrl(otherPath))).toBe('SIGNATURE_INVALID')
    const forged = new URL(good)
    forged.searchParams.set('sig', 'A'.repeat(43))
    expect(codeOf(() => verifySignedUrl(forged))).toBe('SIGNATURE_INVALID')
    const bare = new URL(`/media/${key}`, base)
    expect(codeOf(() => verifySignedUrl(bare))).toBe('SIGNATURE_INVALID')
    const old = new URL(signedImageUrl(key, { now: Date.now() - 3_600_000, ttlSeconds: 60 }), base)
    expect(codeOf(() => verifySignedUrl(old))).toBe('SIGNATURE_INVALID')
  })
})

// why root only: a full disk needs a small tmpfs, and mounting one needs root (CI runs as root).
describe.runIf(process.getuid?.() === 0)('a full disk', () => {
  it('refuses a write with STORAGE_FULL, leaves no partial file and keeps what was stored', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'store-full-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', root])
    try {
      const store = createFileStore(root)
      const kept = Buffer.alloc(100 * 1024, 7)
      const keptKey = await store.put(kept)
      const tooBig = Buffer.alloc(300 * 1024, 9)
      const failure = await store.put(tooBig).catch((e: unknown) => e)
      expect(failure).toMatchObject({ code: 'STORAGE_FULL', retryable: true })
      expect((failure as Error).message).not.toContain('ENOSPC')
      expect(await store.has(sha256(tooBig))).toBe(false)
      const leftovers = readdirSync(root, { recursive: true }).map(String).filter((f) => f.endsWith('.tmp'))
      expect(leftovers).toEqual([])
      expect((await store.get(keptKey)).equals(kept)).toBe(true)
      // The space a failed write took is free again: a write that fits succeeds.
      expect(await store.put(Buffer.alloc(100 * 1024, 3))).toMatch(/^[a-f0-9]{64}$/)
    } finally {
      execFileSync('umount', [root])
    }
  })
})
