import { createHash, createHmac } from 'node:crypto'

// TOP request signing, as the gateway checks it: every parameter except
// `sign` and the file parts, empty values left out, names in ASCII order,
// `name + value` concatenated as UTF-8, digest in upper-case hex.

export const SIGN_METHODS = ['md5', 'hmac', 'hmac-sha256'] as const
export type SignMethod = (typeof SIGN_METHODS)[number]

/** The string the digest is taken over (without the secret around it for `md5`). */
export function signingString(params: Record<string, string | undefined>): string {
  return Object.keys(params)
    .filter((name) => name !== 'sign' && params[name] !== undefined && params[name] !== '')
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => `${name}${params[name]}`)
    .join('')
}

/**
 * The `sign` parameter for these params. `md5` is MD5(secret + s + secret);
 * `hmac` is HMAC-MD5 keyed with the secret; `hmac-sha256` HMAC-SHA256.
 */
export function signTopRequest(params: Record<string, string | undefined>, secret: string, method: SignMethod): string {
  const s = signingString(params)
  const digest =
    method === 'md5'
      ? createHash('md5').update(`${secret}${s}${secret}`, 'utf8')
      : createHmac(method === 'hmac' ? 'md5' : 'sha256', Buffer.from(secret, 'utf8')).update(s, 'utf8')
  return digest.digest('hex').toUpperCase()
}
