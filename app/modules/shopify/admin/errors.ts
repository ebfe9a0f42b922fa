import { AppError, type ErrorCode } from '#app/lib/errors.ts'
import { isRecord } from './payload.ts'

// Shopify's errors as AppErrors: GraphQL errors, HTTP statuses and a
// mutation's userErrors, each mapped to one code the callers can act on.

export interface GraphqlErrorEntry {
  message: string
  path?: (string | number)[]
  extensions?: { code?: string; [k: string]: unknown }
}

export interface UserErrorEntry {
  field?: readonly string[] | null
  message: string
  code?: string | null
}

/**
 * Throws a SHOPIFY_USER_ERROR when a mutation payload carries `userErrors`
 * (or `mediaUserErrors`); returns the payload, non-null, otherwise.
 */
export function assertNoUserErrors<
  P extends { userErrors?: readonly UserErrorEntry[]; mediaUserErrors?: readonly UserErrorEntry[] },
>(payload: P | null | undefined, what = 'Shopify mutation'): P {
  if (!payload) throw new AppError('INTERNAL', `${what} returned no payload`)
  const errors = [...(payload.userErrors ?? []), ...(payload.mediaUserErrors ?? [])]
  if (errors.length === 0) return payload
  const list = errors.map((e) => ({ field: e.field ? [...e.field] : null, code: e.code ?? null, message: e.message }))
  const [first] = list
  throw new AppError('SHOPIFY_USER_ERROR', `${what}: ${list.map((e) => e.message).join('; ')}`, {
    details: { field: first.field, code: first.code, message: first.message, errors: list },
  })
}

/** The user errors of a SHOPIFY_USER_ERROR, for callers that accept some codes. */
export function userErrorCodes(e: unknown): string[] {
  if (!(e instanceof AppError) || e.code !== 'SHOPIFY_USER_ERROR') return []
  const errors = (e.details?.errors ?? []) as { code: string | null }[]
  return errors.map((x) => x.code ?? '')
}

export function graphqlErrors(payload: unknown): GraphqlErrorEntry[] {
  if (!isRecord(payload)) return []
  const errors = payload.errors
  if (Array.isArray(errors))
    return errors.filter(isRecord).map((e) => ({ ...e, message: String(e.message ?? 'GraphQL error') }) as GraphqlErrorEntry)
  // why: Shopify answers some HTTP errors with `errors` as a plain string.
  if (typeof errors === 'string') return [{ message: errors }]
  return []
}

export function graphqlErrorCodes(payload: unknown): string[] {
  return graphqlErrors(payload).map((e) => String(e.extensions?.code ?? ''))
}

export function graphqlError(operation: string, errors: GraphqlErrorEntry[]): AppError {
  const list = errors.map((e) => ({ message: e.message, code: e.extensions?.code ?? null, path: e.path ?? null }))
  const code: ErrorCode = list.some((e) => e.code === 'ACCESS_DENIED') ? 'SHOPIFY_UNAUTHORIZED' : 'INTERNAL'
  return new AppError(code, `Shopify rejected ${operation}: ${list.map((e) => e.message).join('; ')}`, {
    details: { operation, errors: list },
  })
}

export function httpError(status: number, operation: string, payload: unknown): AppError {
  const message = graphqlErrors(payload)
    .map((e) => e.message)
    .join('; ')
  const suffix = message ? `: ${message}` : ''
  const details = { operation, status }
  if (status === 403)
    return new AppError('SHOPIFY_UNAUTHORIZED', `The app lacks a permission ${operation} needs${suffix}`, { details })
  // 402: the shop is frozen (unpaid); 423: locked; 404: no such shop.
  if (status === 402 || status === 423 || status === 404) {
    return new AppError('SHOPIFY_UNAVAILABLE', `The shop is not available to the app (HTTP ${status})${suffix}`, { details })
  }
  return new AppError('INTERNAL', `Shopify answered ${status} to ${operation}${suffix}`, { details })
}
