import type { IncomingMessage } from 'node:http'
import { Transform, type TransformCallback } from 'node:stream'
import type { RequestHandler } from 'express'
import { env } from './env.server.ts'
import { AppError } from './errors.ts'
import { refuse } from './refuse.server.ts'

/**
 * Largest mask upload. why 8 MB: a two-tone 40-megapixel mask compresses to
 * well under 2 MB; anything bigger is not a brush mask.
 */
export const MAX_MASK_BYTES = 8 * 1024 * 1024
/** Room for the studio form's other fields next to a mask of the largest size. */
export const MASK_FORM_BYTES = MAX_MASK_BYTES + 64 * 1024

const KIB = 1024
const MIB = 1024 * KIB

/** Routes whose bodies differ from a page form's; a `.data` suffix is the same route's fetcher call. */
const routeLimits: { path: RegExp; bytes: () => number }[] = [
  // The studio's Generate carries the merchant's mask PNG. why the spare MB: the studio itself refuses a declared
  // size over MASK_FORM_BYTES with a message that names the mask; the edge bounds whatever is streamed.
  { path: /^\/app\/products\/[^/]+(?:\.data)?$/, bytes: () => MASK_FORM_BYTES + MIB },
  // why 5 MB: products/update for a product with thousands of variants runs to a few MB, and a refused webhook is lost.
  { path: /^\/webhooks(?:\.data)?$/, bytes: () => 5 * MIB },
  // At most 50 product ids and a look.
  { path: /^\/api\/renders(?:\.data)?$/, bytes: () => 64 * KIB },
]

/** The most bytes a request to this path may send. */
export function bodyLimitFor(path: string): number {
  return routeLimits.find((r) => r.path.test(path))?.bytes() ?? env().MAX_BODY_BYTES
}

function readable(bytes: number): string {
  return bytes >= MIB ? `${+(bytes / MIB).toFixed(1)} MB` : `${Math.ceil(bytes / KIB)} KB`
}

function bodyTooLarge(limit: number): AppError {
  return new AppError('BODY_TOO_LARGE', `The request body is over its ${readable(limit)} limit`, { details: { maxBytes: limit } })
}

/** Express middleware: a declared Content-Length over the route's limit is refused before a byte is read. */
export function refuseDeclaredOversize(): RequestHandler {
  return (req, res, next) => {
    const limit = bodyLimitFor(req.path)
    if (Number(req.headers['content-length'] ?? 0) > limit) return refuse(req, res, 'BODY_TOO_LARGE', { limit: readable(limit) })
    next()
  }
}

class ByteLimit extends Transform {
  private seen = 0
  constructor(
    private readonly limit: number,
    private readonly onOverflow: () => void,
  ) {
    super()
  }

  _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length
    if (this.seen <= this.limit) return done(null, chunk)
    this.onOverflow()
    done(bodyTooLarge(this.limit))
  }
}

/**
 * The request body as a stream that stops at the route's limit: a chunked
 * body (no Content-Length) is counted as it arrives, and the first byte over
 * the limit answers 413 and stops reading from the socket.
 */
export function boundedBody(req: IncomingMessage & { path: string }, refuseNow: (limit: string) => void): NodeJS.ReadableStream {
  const limit = bodyLimitFor(req.path)
  const counted = new ByteLimit(limit, () => {
    req.unpipe(counted)
    req.pause()
    refuseNow(readable(limit))
  })
  return req.pipe(counted)
}
