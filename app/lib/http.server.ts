import { data, redirect } from '@remix-run/node'
import { ZodError } from 'zod'
import { AppError, isAppError, toErrorBody } from './errors.ts'
import { logger } from './logger.server.ts'

export interface ActionError {
  ok: false
  error: { code: string; message: string; details?: Record<string, unknown> }
}

/**
 * Maps any error to the one JSON shape the UI understands, with its HTTP status.
 * A thrown Response is already an answer (authentication's 401 with App
 * Bridge's retry header, its redirects): it is re-thrown untouched.
 */
export function errorResponse(e: unknown) {
  if (isThrownResponse(e)) throw e
  if (needsLogin(e)) throw redirect('/login?error=expired')
  if (e instanceof ZodError) {
    return data<ActionError>(
      { ok: false, error: { code: 'INVALID_INPUT', message: e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } },
      { status: 400 },
    )
  }
  if (!isAppError(e)) logger().error({ err: e }, 'unexpected error')
  const body = toErrorBody(e)
  return data<ActionError>(
    { ok: false, error: { ...body, details: isAppError(e) ? e.details : undefined } },
    { status: isAppError(e) ? e.status : 500 },
  )
}

/** A Response, or Remix's `data()` with an init, thrown to end the request. */
export function isThrownResponse(e: unknown): boolean {
  if (e instanceof Response) return true
  return typeof e === 'object' && e !== null && (e as { type?: unknown }).type === 'DataWithResponseInit'
}

/** For loaders: AppErrors become real HTTP responses (404 for another shop's id). */
/** Taobao ended the seller's session mid-request (TOP error 27, or a grant that cannot be renewed): the login page brings them back. */
function needsLogin(e: unknown): boolean {
  return isAppError(e) && (e.code === 'LOGIN_REQUIRED' || e.code === 'TAOBAO_SESSION_INVALID')
}

export function throwAsResponse(e: unknown): never {
  if (needsLogin(e)) throw redirect('/login?error=expired')
  if (isAppError(e)) throw data({ code: e.code, message: e.message }, { status: e.status })
  throw e
}

export { AppError }
