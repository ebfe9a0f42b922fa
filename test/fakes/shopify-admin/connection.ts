// Relay connections with Shopify's rules: first or last is required (except
// inside a bulk query, which pages through everything), at most 250, and
// opaque cursors.
import { GraphQLError } from 'graphql'
import { decodeCursor, encodeCursor } from './ids.ts'

export const MAX_PAGE_SIZE = 250

export interface ConnectionArgs {
  first?: number | null
  after?: string | null
  last?: number | null
  before?: string | null
  reverse?: boolean | null
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[]
  nodes: T[]
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null }
}

export function badRequest(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_REQUEST' } })
}

/**
 * One page of `items` (already filtered and sorted). `key` gives the numeric
 * id and sort value a cursor remembers; `view` turns a record into what the
 * resolvers return.
 */
export function paginate<R, T>(
  items: R[],
  args: ConnectionArgs,
  opts: { bulk: boolean; key: (item: R) => { id: number; value: string | number }; view: (item: R) => T },
): Connection<T> {
  const { first, last, after, before } = args
  if (!opts.bulk) {
    if (first == null && last == null) throw badRequest('you must provide one of first or last')
    if (first != null && last != null) throw badRequest('providing both first and last is not supported')
  }
  const size = first ?? last
  if (size != null && size < 0) throw badRequest(`${first != null ? 'first' : 'last'} cannot be negative`)
  if (size != null && size > MAX_PAGE_SIZE) {
    throw badRequest(`The page size of ${size} is greater than the maximum allowed of ${MAX_PAGE_SIZE}.`)
  }
  const ordered = args.reverse ? [...items].reverse() : items
  let start = 0
  let end = ordered.length
  if (after) start = positionAfter(ordered, after, opts.key)
  if (before) end = positionBefore(ordered, before, opts.key)
  let window = ordered.slice(start, Math.max(start, end))
  let hasNextPage = end < ordered.length
  let hasPreviousPage = start > 0
  if (first != null) {
    hasNextPage = window.length > first || hasNextPage
    window = window.slice(0, first)
  } else if (last != null) {
    hasPreviousPage = window.length > last || hasPreviousPage
    window = window.slice(Math.max(0, window.length - last))
  }
  const edges = window.map((item) => {
    const k = opts.key(item)
    return { cursor: encodeCursor(k.id, k.value), node: opts.view(item) }
  })
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: {
      hasNextPage,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  }
}

function indexOfCursor<R>(items: R[], cursor: string, key: (item: R) => { id: number }): number {
  const decoded = decodeCursor(cursor)
  if (!decoded) throw badRequest('Invalid cursor for current pagination sort.')
  return items.findIndex((item) => key(item).id === decoded.lastId)
}

function positionAfter<R>(items: R[], cursor: string, key: (item: R) => { id: number }): number {
  const index = indexOfCursor(items, cursor, key)
  // why: a cursor whose record has gone (deleted, filtered out) resumes at the end rather than restarting.
  return index < 0 ? items.length : index + 1
}

function positionBefore<R>(items: R[], cursor: string, key: (item: R) => { id: number }): number {
  const index = indexOfCursor(items, cursor, key)
  return index < 0 ? 0 : index
}
