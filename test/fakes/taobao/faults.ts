import type { Runtime, Seller } from './store.ts'

// TOP's error answers as exceptions, what a method handler gets, and the
// parameter readers every handler shares.

export class TopFault extends Error {
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly subCode?: string,
    readonly subMsg?: string,
  ) {
    super(`${code} ${msg}${subCode ? ` ${subCode}` : ''}`)
  }
}

export const isvError = (subCode: string, subMsg: string) => new TopFault(15, 'Remote service error', subCode, subMsg)

export interface UploadedFile {
  bytes: Buffer
  contentType: string
  filename: string
}

export interface MethodContext {
  rt: Runtime
  params: Record<string, string>
  files: Map<string, UploadedFile>
  seller: Seller | null
}

export interface MethodSpec {
  /** `required`: a valid session; `optional`: used when given. */
  session: 'required' | 'optional'
  /** Writes also need the grant's w1 level unexpired. */
  write?: boolean
  handle(ctx: MethodContext): Record<string, unknown> | Promise<Record<string, unknown>>
}

export function requireParam(params: Record<string, string>, name: string): string {
  const v = params[name]
  if (v === undefined || v === '') throw new TopFault(40, `Missing required arguments:${name}`)
  return v
}

export function intParam(params: Record<string, string>, name: string, fallback?: number): number {
  const v = params[name]
  if (v === undefined || v === '') {
    if (fallback === undefined) throw new TopFault(40, `Missing required arguments:${name}`)
    return fallback
  }
  if (!/^-?\d+$/.test(v))
    throw new TopFault(41, `Invalid arguments:${name}`, `isv.invalid-parameter:${name}`, `${name} 必须是整数`)
  return Number(v)
}

export function needSeller(ctx: MethodContext): Seller {
  if (!ctx.seller) throw new TopFault(27, 'Invalid session', 'invalid-sessionkey', 'SessionKey非法或已过期，请重新授权')
  return ctx.seller
}
