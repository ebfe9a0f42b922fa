import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { env } from './env.server.ts'
import { AppError } from './errors.ts'

// Secrets at rest (Shopify access and refresh tokens, backend API keys):
// AES-256-GCM with a random 96-bit nonce, stored as `enc:v1:<base64url>`.

const PREFIX = 'enc:v1:'

function key(): Buffer {
  const e = env()
  const raw = e.ENCRYPTION_KEY
  if (raw) {
    const bytes = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64')
    if (bytes.length !== 32) throw new AppError('INTERNAL', 'ENCRYPTION_KEY must be 32 bytes (64 hex characters or base64)')
    return bytes
  }
  if (e.NODE_ENV === 'production') throw new AppError('INTERNAL', 'ENCRYPTION_KEY must be set in production')
  // why: development and tests still encrypt, with a key derived from the
  // (development) signing secret, so the code path is the production one.
  return createHash('sha256').update(`atelier-dev-encryption:${e.SIGNING_SECRET}`).digest()
}

export function isEncrypted(value: string): boolean {
  return value.startsWith(PREFIX)
}

export function encryptSecret(plain: string): string {
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key(), nonce)
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
  return PREFIX + Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64url')
}

/** Decrypts what encryptSecret made; a value stored before encryption existed passes through. */
export function decryptSecret(stored: string): string {
  if (!isEncrypted(stored)) return stored
  const raw = Buffer.from(stored.slice(PREFIX.length), 'base64url')
  const decipher = createDecipheriv('aes-256-gcm', key(), raw.subarray(0, 12))
  decipher.setAuthTag(raw.subarray(12, 28))
  try {
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
  } catch (e) {
    throw new AppError('INTERNAL', 'A stored secret could not be decrypted (wrong ENCRYPTION_KEY?)', { cause: e })
  }
}
