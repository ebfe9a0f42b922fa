import { GraphQLError } from 'graphql'
import { parseGid } from '../ids.ts'
import type { Runtime } from '../runtime.ts'
import type { SearchWarning } from '../search.ts'
import type { ShopRecord } from '../store.ts'

/** Per-request state the resolvers share. */
export interface Ctx {
  rt: Runtime
  shop: ShopRecord
  /** When the request started; every status in one response is read at this instant. */
  now: number
  /** Inside a bulk operation: connections page through everything. */
  bulk: boolean
  /** Search warnings, returned as extensions.search like Shopify does. */
  search: { path: (string | number)[]; query: string; warnings: SearchWarning[] }[]
}

export interface UserError {
  field: string[] | null
  message: string
  code?: string | null
}

/** Shopify rejects a malformed gid argument before resolving anything. */
export function requireGid(value: unknown, type?: string): { type: string; id: string } {
  const parsed = parseGid(value)
  if (!parsed) {
    throw new GraphQLError(`Invalid global id '${String(value)}'`, {
      extensions: { code: 'argumentLiteralsIncompatible', typeName: 'CoercionError' },
    })
  }
  if (type && parsed.type !== type) return { type: parsed.type, id: '' }
  return parsed
}
