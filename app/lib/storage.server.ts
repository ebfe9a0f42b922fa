import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { mkdir, readFile, rename, stat, writeFile, unlink } from 'node:fs/promises'
import path from 'node:path'
import { AppError } from './errors.ts'
import { env } from './env.server.ts'

/**
 * A content-addressed image store: the key is the sha256 of the bytes, so a
 * retried write is a no-op and two renders of the same bytes share a file.
 * Behind a small interface so an object store can replace the folder later.
 */
export interface ImageStore {
  put(bytes: Buffer): Promise<string>
  get(key: string): Promise<Buffer>
  has(key: string): Promise<boolean>
  delete(key: string): Promise<void>
}

const KEY = /^[a-f0-9]{64}$/

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** A full disk in the merchant's words (retryable: space may be freed); anything else as it was. */
function storageError(e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new AppError('STORAGE_FULL', 'The image store is full: free space on its disk (STORAGE_DIR) or move it to a larger one, then try again.', {
      cause: e,
      retryable: true,
    })
  }
  return e
}

export function createFileStore(root: string): ImageStore {
  const fileOf = (key: string) => {
    if (!KEY.test(key)) throw new AppError('INVALID_INPUT', 'Invalid image key')
    return path.join(root, key.slice(0, 2), key.slice(2, 4), key)
  }
  return {
    async put(bytes) {
      const key = sha256(bytes)
      const file = fileOf(key)
      try {
        await stat(file)
        return key
      } catch {
        await mkdir(path.dirname(file), { recursive: true }).catch((e: unknown) => {
          throw storageError(e)
        })
        // why: write to a temp name and rename, so a crash never leaves a
        // half-written file under a valid content address. The name is unique
        // per write: concurrent puts of the same bytes (identical renders, one
        // source for many variants) must not share one temp file.
        const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`
        try {
          await writeFile(tmp, bytes)
          await rename(tmp, file)
        } catch (e) {
          // why: a half-written temp file on a full disk holds the space the next write needs.
          await unlink(tmp).catch(() => {})
          throw storageError(e)
        }
        return key
      }
    },
    async get(key) {
      const file = fileOf(key)
      try {
        return await readFile(file)
      } catch (e) {
        throw new AppError('STORAGE_MISSING', `Stored image ${key.slice(0, 12)}… is missing`, { cause: e })
      }
    },
    async has(key) {
      try {
        await stat(fileOf(key))
        return true
      } catch {
        return false
      }
    },
    async delete(key) {
      await unlink(fileOf(key)).catch(() => {})
    },
  }
}

let store: ImageStore | undefined
export function imageStore(): ImageStore {
  store ??= createFileStore(path.resolve(env().STORAGE_DIR))
  return store
}

// Signed, expiring URLs: images reach the browser only through these. The
// signature covers the whole path, which names the tenant where it matters,
// so a link works in an <img> (no session header) yet cannot be altered.

function signature(pathname: string, expires: number, secret: string): string {
  return createHmac('sha256', secret).update(`${pathname}\n${expires}`).digest('base64url')
}

export function signUrl(pathname: string, opts: { ttlSeconds?: number; now?: number } = {}): string {
  const e = env()
  const expires = Math.floor((opts.now ?? Date.now()) / 1000) + (opts.ttlSeconds ?? e.SIGNED_URL_TTL_SECONDS)
  const sep = pathname.includes('?') ? '&' : '?'
  return `${pathname}${sep}exp=${expires}&sig=${signature(pathname, expires, e.SIGNING_SECRET)}`
}

/** The signed URL of a stored image (a render result). */
export function signedImageUrl(key: string, opts: { ttlSeconds?: number; now?: number; /** A WebP preview this wide, not the image. */ width?: number } = {}): string {
  if (!KEY.test(key)) throw new AppError('INVALID_INPUT', 'Invalid image key')
  return signUrl(opts.width ? `/media/${key}?w=${opts.width}` : `/media/${key}`, opts)
}

/** Throws SIGNATURE_INVALID unless `url` carries a valid, unexpired signature. */
export function verifySignedUrl(url: URL, now = Date.now()): void {
  const exp = url.searchParams.get('exp')
  const sig = url.searchParams.get('sig')
  const expires = Number(exp)
  if (!sig || !Number.isInteger(expires)) throw new AppError('SIGNATURE_INVALID', 'This image link is not valid.')
  if (expires * 1000 < now) throw new AppError('SIGNATURE_INVALID', 'This image link has expired. Reload the page.')
  const rest = new URLSearchParams(url.searchParams)
  rest.delete('exp')
  rest.delete('sig')
  const pathname = rest.size > 0 ? `${url.pathname}?${rest.toString()}` : url.pathname
  const want = Buffer.from(signature(pathname, expires, env().SIGNING_SECRET))
  const got = Buffer.from(sig)
  if (want.length !== got.length || !timingSafeEqual(want, got)) {
    throw new AppError('SIGNATURE_INVALID', 'This image link is not valid.')
  }
}
