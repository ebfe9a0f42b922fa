import { createHash } from 'node:crypto'
import { Kind, parse, type DocumentNode, type FieldNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql'
import { AppError } from '#app/lib/errors.ts'
import { isFiniteNumber, isRecord } from './payload.ts'

// What an operation costs: estimated from its document before Shopify has
// priced it, then read from the `extensions.cost` Shopify sends back.

export type Vars = Record<string, unknown>

export interface ThrottleStatus {
  maximumAvailable: number
  currentlyAvailable: number
  restoreRate: number
}

export interface OperationInfo {
  name: string
  kind: 'query' | 'mutation'
  /** Key under which the last requested cost of this operation (at these sizes) is remembered. */
  costKey: string
  /** Requested cost computed from the document, used until Shopify has told us the real one. */
  estimate: number
}

const parsed = new Map<string, DocumentNode>()

export function describeOperation(document: string, variables: Vars = {}): OperationInfo {
  let doc = parsed.get(document)
  if (!doc) {
    try {
      doc = parse(document)
    } catch (e) {
      throw new AppError('INTERNAL', `Invalid GraphQL document: ${(e as Error).message}`, { cause: e })
    }
    if (parsed.size > 500) parsed.clear()
    parsed.set(document, doc)
  }
  const operation = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
  if (!operation || operation.operation === 'subscription')
    throw new AppError('INTERNAL', 'The GraphQL document has no query or mutation')
  const fragments = new Map(
    doc.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])),
  )
  const name = operation.name?.value ?? `anonymous-${createHash('sha1').update(document).digest('hex').slice(0, 10)}`
  const selectionCost = costOf(operation.selectionSet, variables, fragments)
  // why capped: Shopify refuses any single query above 1000 points.
  const estimate = Math.min(1000, operation.operation === 'mutation' ? 10 + selectionCost : Math.max(1, selectionCost))
  // why the sizes in the key: `first: 10` and `first: 250` of one query cost very differently.
  const sizes = Object.entries(variables)
    .filter(([, v]) => typeof v === 'number')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
  return { name, kind: operation.operation, costKey: sizes ? `${name}?${sizes}` : name, estimate }
}

/**
 * Shopify's rules, approximately: an object 1, a scalar 0, a mutation 10, a
 * connection 2 + its element × a page multiplier. why not `first ×`: the
 * requested costs Shopify reports now grow with the log of the page size
 * (e.g. 25, not 503, for `product { variants(first: 250) { nodes {
 * inventoryItem { id } } } }`, community.shopify.dev thread 23101), which
 * max(1, ⌊2·ln n⌋) fits. Without the schema an object is "a field with a
 * selection" and alternatives (inline fragments) are summed, so this errs
 * high; the first response replaces it with Shopify's own figure.
 */
function costOf(set: SelectionSetNode | undefined, variables: Vars, fragments: Map<string, SelectionSetNode>, depth = 0): number {
  if (!set || depth > 20) return 0
  let total = 0
  for (const selection of set.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) total += costOf(selection.selectionSet, variables, fragments, depth + 1)
    else if (selection.kind === Kind.FRAGMENT_SPREAD)
      total += costOf(fragments.get(selection.name.value), variables, fragments, depth + 1)
    else total += fieldCost(selection, variables, fragments, depth)
  }
  return total
}

function fieldCost(field: FieldNode, variables: Vars, fragments: Map<string, SelectionSetNode>, depth: number): number {
  if (!field.selectionSet) return 0
  const size = pageSize(field, variables)
  if (size === null) {
    // why 0 for these: they are the connection's own wrappers, priced in the connection.
    if (['nodes', 'edges', 'node', 'pageInfo'].includes(field.name.value) && depth > 0) {
      return costOf(field.selectionSet, variables, fragments, depth + 1)
    }
    return 1 + costOf(field.selectionSet, variables, fragments, depth + 1)
  }
  const element = Math.max(1, elementCost(field.selectionSet, variables, fragments, depth + 1))
  return 2 + pageMultiplier(size) * element
}

function pageMultiplier(n: number): number {
  return n > 0 ? Math.max(1, Math.floor(2 * Math.log(n))) : 0
}

function elementCost(set: SelectionSetNode, variables: Vars, fragments: Map<string, SelectionSetNode>, depth: number): number {
  let total = 0
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD && (s.name.value === 'nodes' || s.name.value === 'edges')) {
      total += 1 + costOf(s.selectionSet, variables, fragments, depth + 1)
    }
  }
  return total
}

function pageSize(field: FieldNode, variables: Vars): number | null {
  for (const arg of field.arguments ?? []) {
    if (arg.name.value !== 'first' && arg.name.value !== 'last') continue
    if (arg.value.kind === Kind.INT) return Number(arg.value.value)
    if (arg.value.kind === Kind.VARIABLE) {
      const v = variables[arg.value.name.value]
      if (typeof v === 'number') return v
    }
  }
  return null
}

// ---------------------------------------------------------------------------
// What Shopify charged

export interface CostExtension {
  requestedQueryCost: number | null
  actualQueryCost: number | null
  throttleStatus: ThrottleStatus | null
}

export function readCost(payload: unknown): CostExtension | null {
  if (!isRecord(payload) || !isRecord(payload.extensions) || !isRecord(payload.extensions.cost)) return null
  const cost = payload.extensions.cost
  const t = cost.throttleStatus
  const throttleStatus =
    isRecord(t) &&
    isFiniteNumber(t.maximumAvailable) &&
    isFiniteNumber(t.currentlyAvailable) &&
    isFiniteNumber(t.restoreRate) &&
    t.restoreRate > 0
      ? { maximumAvailable: t.maximumAvailable, currentlyAvailable: t.currentlyAvailable, restoreRate: t.restoreRate }
      : null
  return {
    requestedQueryCost: isFiniteNumber(cost.requestedQueryCost) ? cost.requestedQueryCost : null,
    actualQueryCost: isFiniteNumber(cost.actualQueryCost) ? cost.actualQueryCost : null,
    throttleStatus,
  }
}
