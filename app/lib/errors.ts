// One application error type: a stable code (also the i18n key of the message
// a merchant sees), an HTTP status, and whether retrying can ever help.

export const errorCodes = {
  // input images
  IMAGE_EMPTY: 422,
  IMAGE_TOO_LARGE: 413,
  IMAGE_UNSUPPORTED_FORMAT: 415,
  IMAGE_SVG_REJECTED: 415,
  IMAGE_NOT_AN_IMAGE: 415,
  IMAGE_CORRUPT: 422,
  IMAGE_TRUNCATED: 422,
  IMAGE_PIXEL_LIMIT: 413,
  IMAGE_ASPECT_RATIO: 422,
  IMAGE_TOO_SMALL: 422,
  // backends
  BACKEND_NEEDS_MASK: 422,
  GARMENT_MASK_REQUIRED: 422,
  BACKEND_BUSY_BACKGROUND: 422,
  BACKEND_NEEDS_GPU: 422,
  BACKEND_UNAVAILABLE: 503,
  BACKEND_TIMEOUT: 504,
  BACKEND_FAILED: 502,
  BACKEND_AUTH_FAILED: 502,
  // domain
  NOT_FOUND: 404,
  INVALID_INPUT: 400,
  INVALID_TRANSITION: 409,
  RENDER_CANCELED: 409,
  LOOK_UNKNOWN: 400,
  PUBLISH_FAILED: 502,
  STORAGE_MISSING: 500,
  STORAGE_FULL: 507,
  SIGNATURE_INVALID: 403,
  BODY_TOO_LARGE: 413,
  HOST_NOT_ALLOWED: 421,
  ORIGIN_REFUSED: 403,
  // platforms
  SHOPIFY_USER_ERROR: 422,
  SHOPIFY_THROTTLED: 429,
  SHOPIFY_UNAUTHORIZED: 401,
  SHOPIFY_UNAVAILABLE: 503,
  MEDIA_FAILED: 422,
  TAOBAO_CALL_LIMITED: 429,
  TAOBAO_SESSION_INVALID: 401,
  TAOBAO_SIGNATURE_INVALID: 502,
  TAOBAO_PERMISSION_DENIED: 403,
  TAOBAO_USER_ERROR: 422,
  TAOBAO_UNAVAILABLE: 503,
  TAOBAO_SLOTS_FULL: 409,
  TAOBAO_SLOT_TAKEN: 409,
  TAOBAO_IMAGE_FIDELITY: 422,
  // billing
  BILLING_REQUIRED: 402,
  BILLING_CAP_REACHED: 402,
  UNAUTHORIZED: 401,
  // logins (the standalone Taobao app)
  LOGIN_REQUIRED: 401,
  LOGIN_FAILED: 502,
  INTERNAL: 500,
} as const

export type ErrorCode = keyof typeof errorCodes

export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly retryable: boolean
  readonly details?: Record<string, unknown>

  constructor(
    code: ErrorCode,
    message: string,
    opts: { cause?: unknown; retryable?: boolean; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: opts.cause })
    this.name = 'AppError'
    this.code = code
    this.status = errorCodes[code]
    this.retryable = opts.retryable ?? false
    this.details = opts.details
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError
}

export function notFound(what: string): AppError {
  return new AppError('NOT_FOUND', `${what} not found`)
}

/** The shape an error takes in JSON responses and in the render row. */
export function toErrorBody(e: unknown): { code: ErrorCode; message: string } {
  if (isAppError(e)) return { code: e.code, message: e.message }
  return { code: 'INTERNAL', message: 'Something went wrong on our side. Please try again.' }
}
