import { AppError, type ErrorCode } from '#app/lib/errors.ts'
import type { BanScope } from './budget.server.ts'

// TOP's `error_response`, mapped once to the AppError callers act on.

export interface TopErrorBody {
  code: number
  msg: string
  sub_code?: string
  sub_msg?: string
  request_id?: string
}

/** What the client does next with an error: wait out a ban, back off, or give up. */
export type TopErrorKind = 'ban' | 'retry' | 'fatal'

export interface MappedError {
  error: AppError
  kind: TopErrorKind
  /** For a ban: its length and who it holds. */
  ban?: { ms: number; scope: BanScope }
}

// why a default: a code 7 without readable seconds still means "stop for a while".
const UNREADABLE_BAN_MS = 10_000

/** The ban's length from `sub_msg` ("This ban will last for 71 more seconds"). */
export function banMs(subMsg: string | undefined): number {
  const seconds = /(\d+)\s*more\s*seconds?/i.exec(subMsg ?? '')?.[1] ?? /(\d+)/.exec(subMsg ?? '')?.[1]
  return seconds ? Number(seconds) * 1000 : UNREADABLE_BAN_MS
}

/** Whom a code 7 holds: a seller's session, or the whole app (per-app and per-API counts). */
export function banScope(subCode: string | undefined): BanScope {
  return /session|user|nick/i.test(subCode ?? '') ? 'seller' : 'app'
}

export function isTopErrorBody(v: unknown): v is TopErrorBody {
  return typeof v === 'object' && v !== null && typeof (v as { code?: unknown }).code !== 'undefined'
}

export function mapTopError(method: string, body: TopErrorBody, opts: { idempotent: boolean }): MappedError {
  const code = Number(body.code)
  const subCode = body.sub_code ?? ''
  const details = {
    method,
    topCode: code,
    msg: body.msg,
    subCode: body.sub_code ?? null,
    subMsg: body.sub_msg ?? null,
    requestId: body.request_id ?? null,
    // why: the TAOBAO_USER_ERROR message shows Taobao's own words in {detail}.
    detail: body.sub_msg || body.msg,
  }
  const text = `${method}: ${code} ${body.msg}${subCode ? ` (${subCode}${body.sub_msg ? `: ${body.sub_msg}` : ''})` : ''}`
  const make = (c: ErrorCode, retryable = false) => new AppError(c, `Taobao refused ${text}`, { retryable, details })

  if (code === 7) {
    const ban = { ms: banMs(body.sub_msg), scope: banScope(subCode) }
    return { error: make('TAOBAO_CALL_LIMITED', true), kind: 'ban', ban }
  }
  if (code === 25) return { error: make('TAOBAO_SIGNATURE_INVALID'), kind: 'fatal' }
  if (code === 26 || code === 27) return { error: make('TAOBAO_SESSION_INVALID'), kind: 'fatal' }
  if (code === 11 || code === 12) return { error: make('TAOBAO_PERMISSION_DENIED'), kind: 'fatal' }
  if (subCode.startsWith('isp.') || code === 10) {
    // why: a timed-out write may have run on Taobao's side; sending it again could add twice.
    const retry = opts.idempotent || !/timeout/i.test(subCode)
    return { error: make('TAOBAO_UNAVAILABLE', true), kind: retry ? 'retry' : 'fatal' }
  }
  if (subCode.startsWith('isv.') || code === 40 || code === 41 || code === 43 || code === 15) {
    return { error: make('TAOBAO_USER_ERROR'), kind: 'fatal' }
  }
  return { error: make('INTERNAL'), kind: 'fatal' }
}

/** True when the error means the seller must log in with Taobao again. */
export function isSessionError(e: unknown): boolean {
  return e instanceof AppError && e.code === 'TAOBAO_SESSION_INVALID'
}
