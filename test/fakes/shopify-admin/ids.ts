import { createHash, randomBytes, randomUUID } from 'node:crypto'

export function gid(type: string, id: number | string): string {
  return `gid://shopify/${type}/${id}`
}

export function parseGid(value: unknown): { type: string; id: string } | null {
  if (typeof value !== 'string') return null
  const match = /^gid:\/\/shopify\/([A-Za-z0-9]+)\/([^/?]+)$/.exec(value)
  return match ? { type: match[1], id: match[2] } : null
}

/** Numeric ids that look like Shopify's (13–14 digits, increasing). */
export function idSequence(start: number): () => number {
  let next = start
  return () => {
    next += 32_768
    return next
  }
}

// Shopify cursors are base64 of {"last_id":…,"last_value":…}; apps must treat them as opaque.
export function encodeCursor(lastId: number, lastValue: string | number): string {
  return Buffer.from(JSON.stringify({ last_id: lastId, last_value: String(lastValue) })).toString('base64')
}

export function decodeCursor(cursor: string): { lastId: number } | null {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as { last_id?: unknown }
    return typeof parsed.last_id === 'number' ? { lastId: parsed.last_id } : null
  } catch {
    return null
  }
}

export function randomToken(prefix: string): string {
  return `${prefix}${randomBytes(16).toString('hex')}`
}

export function uuid(): string {
  return randomUUID()
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

// Money is kept in integer millionths so sums never drift.
const MICROS = 1_000_000

export function toMicros(amount: unknown): number | null {
  const value = typeof amount === 'number' ? amount : typeof amount === 'string' && amount.trim() !== '' ? Number(amount) : NaN
  return Number.isFinite(value) ? Math.round(value * MICROS) : null
}

/** Decimal scalar as Shopify serialises it (Ruby BigDecimal): "100.0", "0.05", "12.5". */
export function formatDecimal(micros: number): string {
  const text = (micros / MICROS).toFixed(6).replace(/0+$/, '')
  return text.endsWith('.') ? `${text}0` : text
}

export function isoSeconds(date: Date | number): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z')
}
