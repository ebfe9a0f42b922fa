import { data } from '@remix-run/node'
import { ZodError } from 'zod'
import { AppError, isAppError, toErrorBody } from './errors.ts'
import { logger } from './logger.server.ts'

export interface ActionError {
  ok: false
  error: { code: string; message: string; details?: Record<string, unknown> }
}

/** Maps any error to the one JSON shape the UI understands, with its HTTP status. */
export function errorResponse(e: unknown) {
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

/** For loaders: AppErrors become real HTTP responses (404 for another shop's id). */
export function throwAsResponse(e: unknown): never {
  if (isAppError(e)) throw data({ code: e.code, message: e.message }, { status: e.status })
  throw e
}

export { AppError }
