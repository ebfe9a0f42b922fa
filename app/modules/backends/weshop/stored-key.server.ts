import { decryptSecret, encryptSecret } from '#app/lib/crypto.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { createWeshopBackend, type WeshopBackend, type WeshopBackendOptions } from './adapter.server.ts'
import { weshopConfig } from './env.server.ts'

// A tenant's own WeShop API key: stored encrypted (storeWeshopApiKey) and
// decrypted per request by the backend (weshopBackendForStoredKey).

/** A key as it goes into the database: checked for shape, then encrypted (crypto.server.ts). */
export function storeWeshopApiKey(plain: string): string {
  const key = plain.trim()
  if (!/^[\x21-\x7e]{8,512}$/.test(key)) {
    throw new AppError('INVALID_INPUT', 'That does not look like a WeShop API key. Copy it again from open.weshop.ai → API keys.')
  }
  return encryptSecret(key)
}

/**
 * A tenant's WeShop backend from its stored key. The key is decrypted for
 * each request and dropped after it; the backend object never holds it.
 */
export function weshopBackendForStoredKey(
  storedKey: string,
  opts: Omit<WeshopBackendOptions, 'apiKey' | 'baseUrl' | 'presets'> & { env?: Record<string, string | undefined> } = {},
): WeshopBackend {
  const { env, ...rest } = opts
  const config = weshopConfig(env)
  return createWeshopBackend({
    ...rest,
    apiKey: () => decryptSecret(storedKey),
    baseUrl: config.baseUrl,
    presets: config.presets,
  })
}
