import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

// The gateway's own check of `sign`, written apart from the app's signer so a
// shared mistake cannot pass both: sorted name+value over every text param
// but `sign`, empty values skipped, UTF-8, upper-case hex.

export function expectedSign(params: Record<string, string>, secret: string, method: string): string | null {
  const names = Object.keys(params)
    .filter((n) => n !== 'sign' && params[n] !== '')
    .sort()
  let joined = ''
  for (const n of names) joined += n + params[n]
  const data = Buffer.from(joined, 'utf8')
  const key = Buffer.from(secret, 'utf8')
  if (method === 'md5')
    return createHash('md5')
      .update(Buffer.concat([key, data, key]))
      .digest('hex')
      .toUpperCase()
  if (method === 'hmac') return createHmac('md5', key).update(data).digest('hex').toUpperCase()
  if (method === 'hmac-sha256') return createHmac('sha256', key).update(data).digest('hex').toUpperCase()
  return null
}

export function signMatches(params: Record<string, string>, secret: string): boolean {
  const expected = expectedSign(params, secret, params.sign_method || 'md5')
  const given = params.sign ?? ''
  return expected !== null && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected))
}

/** Milliseconds between a TOP `timestamp` (GMT+8) and now, or null when unreadable. */
export function timestampSkewMs(timestamp: string, now: number): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(timestamp)
  if (!m) return null
  const [, y, mo, d, h, mi, s] = m.map(Number)
  const at = Date.UTC(y, mo - 1, d, h - 8, mi, s)
  return Math.abs(at - now)
}
