// Calculated query cost, the way Shopify's Admin API reports it.
//
// The documented rules (shopify.dev "GraphQL Admin API rate limits"): scalars
// and enums cost 0, objects 1, interfaces/unions the most expensive possible
// selection, mutations a base of 10, connections "sized by first/last".
//
// How a connection is sized is not spelled out any more, and it is no longer
// the old `2 + first × child`. We fitted it on live responses captured from a
// 2026 store (the conformance fixtures of airhorns/shopify-draft-proxy): for a
// page of n, the node cost is multiplied by max(1, ⌊2·ln n⌋) — 1 for n = 1,
// 4 for 10, 7 for 50, 9 for 100, 11 for 250 — and n = 0 or no first/last
// multiplies by 0. The same captures give these details, all reproduced here:
//   - value objects cost 0: MoneyV2, MoneyBag, addresses, Count, PageInfo,
//     StagedUploadParameter and every user-error type;
//   - a list of objects that is not a connection costs like one object;
//   - in a mutation payload the returned object itself is free (its nested
//     connections are not) and userErrors are free;
//   - productCreate/productUpdate add 2 per `media` input.
// Checked values (cost.test.ts): product { media(first: 10) { nodes {…preview
// { image }… on MediaImage { image } } } } = 19; products(first: 250) { nodes
// { id } pageInfo } = 13; productUpdate(media: [1]) returning product { media(first: 10) } = 30.
//
// actualQueryCost applies the same rules to what was returned: the multiplier
// uses the number of nodes returned and null objects cost nothing.
import {
  getNamedType,
  isAbstractType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  valueFromASTUntyped,
  type DirectiveNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql'

export const MAX_SINGLE_QUERY_COST = 1000
export const MUTATION_BASE_COST = 10
const CONNECTION_BASE_COST = 2
const MEDIA_INPUT_COST = 2

const FREE_TYPES = new Set([
  'MoneyV2',
  'MoneyBag',
  'MailingAddress',
  'LocationAddress',
  'ShopAddress',
  'Count',
  'PageInfo',
  'StagedUploadParameter',
  'UserError',
])

/** How many times a connection's node cost counts for a page of `n`. */
export function pageMultiplier(n: number): number {
  if (!(n > 0)) return 0
  return Math.max(1, Math.floor(2 * Math.log(n)))
}

interface Walk {
  schema: GraphQLSchema
  fragments: Record<string, FragmentDefinitionNode>
  variables: Record<string, unknown>
}

export interface CostInput {
  schema: GraphQLSchema
  operation: OperationDefinitionNode
  fragments: Record<string, FragmentDefinitionNode>
  variables: Record<string, unknown>
}

/** The cost Shopify charges up front, before running the operation. */
export function requestedQueryCost(input: CostInput): number {
  return operationCost(input, undefined)
}

/** The cost of what `data` actually holds; the difference is refunded. */
export function actualQueryCost(input: CostInput, data: Record<string, unknown> | null | undefined): number {
  if (!data) return input.operation.operation === 'mutation' ? MUTATION_BASE_COST * rootFields(input).length : 0
  return operationCost(input, data)
}

function rootFields(input: CostInput): FieldNode[] {
  const root = input.operation.operation === 'mutation' ? input.schema.getMutationType() : input.schema.getQueryType()
  return root ? fieldsFor(walkOf(input), input.operation.selectionSet, root) : []
}

function walkOf(input: CostInput): Walk {
  return { schema: input.schema, fragments: input.fragments, variables: input.variables }
}

// `data` undefined = requested cost (static); an object = actual cost of that result.
function operationCost(input: CostInput, data: Record<string, unknown> | undefined): number {
  const w = walkOf(input)
  if (input.operation.operation === 'mutation') {
    const root = input.schema.getMutationType()
    if (!root) return 0
    let cost = 0
    for (const field of fieldsFor(w, input.operation.selectionSet, root)) {
      const def = root.getFields()[field.name.value]
      if (!def) continue
      cost += MUTATION_BASE_COST + mediaInputCost(w, field)
      const payloadType = getNamedType(def.type)
      const payload = data === undefined ? undefined : data[responseKey(field)]
      if (data !== undefined && payload == null) continue
      if (!isObjectType(payloadType) || !field.selectionSet) continue
      for (const sub of fieldsFor(w, field.selectionSet, payloadType)) {
        cost += payloadFieldCost(w, sub, payloadType, payload as Record<string, unknown> | undefined)
      }
    }
    return cost
  }
  const root = input.schema.getQueryType()
  return root ? selectionCost(w, input.operation.selectionSet, root, data) : 0
}

function mediaInputCost(w: Walk, field: FieldNode): number {
  if (field.name.value !== 'productUpdate' && field.name.value !== 'productCreate') return 0
  const media = argumentValue(w, field, 'media')
  return Array.isArray(media) ? MEDIA_INPUT_COST * media.length : 0
}

// The payload's own object (product, bulkOperation…) is free, so are its userErrors.
function payloadFieldCost(
  w: Walk,
  field: FieldNode,
  payloadType: GraphQLObjectType,
  payload: Record<string, unknown> | undefined,
): number {
  const def = payloadType.getFields()[field.name.value]
  if (!def) return 0
  const named = getNamedType(def.type)
  if (isLeafType(named) || isFree(named)) return 0
  const value = payload === undefined ? undefined : payload[responseKey(field)]
  if (payload !== undefined && value == null) return 0
  if (!isListType(unwrapNonNull(def.type)) && !isConnection(named) && field.selectionSet) {
    return selectionCost(w, field.selectionSet, named as GraphQLCompositeType, value as Record<string, unknown> | undefined)
  }
  return fieldCost(w, field, payloadType, payload)
}

function selectionCost(
  w: Walk,
  selectionSet: SelectionSetNode,
  type: GraphQLCompositeType,
  data: Record<string, unknown> | undefined,
): number {
  if (!isAbstractType(type)) {
    return sum(fieldsFor(w, selectionSet, type), (f) => fieldCost(w, f, type, data))
  }
  // The most expensive runtime type; on actual data, fields of other types are absent and cost 0.
  let best = 0
  for (const candidate of w.schema.getPossibleTypes(type)) {
    best = Math.max(
      best,
      sum(fieldsFor(w, selectionSet, candidate), (f) => fieldCost(w, f, candidate, data)),
    )
  }
  return best
}

function fieldCost(w: Walk, field: FieldNode, parent: GraphQLObjectType, data: Record<string, unknown> | undefined): number {
  const def = parent.getFields()[field.name.value]
  if (!def) return 0
  const named = getNamedType(def.type)
  if (isLeafType(named)) return 0
  const value = data === undefined ? undefined : data[responseKey(field)]
  if (data !== undefined && value == null) return 0
  const own = isFree(named) ? 0 : 1
  if (!field.selectionSet) return own
  if (isConnection(named))
    return connectionCost(w, field, named as GraphQLObjectType, value as Record<string, unknown> | undefined, data !== undefined)
  if (isListType(unwrapNonNull(def.type))) {
    if (data === undefined) return own + selectionCost(w, field.selectionSet, named as GraphQLCompositeType, undefined)
    const items = (value as unknown[]).filter((item): item is Record<string, unknown> => item != null)
    if (items.length === 0) return own
    return own + Math.max(...items.map((item) => selectionCost(w, field.selectionSet!, named as GraphQLCompositeType, item)))
  }
  return own + selectionCost(w, field.selectionSet, named as GraphQLCompositeType, value as Record<string, unknown> | undefined)
}

function connectionCost(
  w: Walk,
  field: FieldNode,
  type: GraphQLObjectType,
  value: Record<string, unknown> | undefined,
  actual: boolean,
): number {
  const fields = type.getFields()
  let perNode = 0
  let returned = 0
  for (const sub of fieldsFor(w, field.selectionSet!, type)) {
    const name = sub.name.value
    if (name === 'nodes' && fields.nodes && sub.selectionSet) {
      const nodeType = getNamedType(fields.nodes.type) as GraphQLCompositeType
      const items = actual ? ((value?.[responseKey(sub)] as Record<string, unknown>[] | undefined) ?? []) : undefined
      returned = Math.max(returned, items?.length ?? 0)
      perNode += 1 + maxOver(items, (item) => selectionCost(w, sub.selectionSet!, nodeType, item))
    } else if (name === 'edges' && fields.edges && sub.selectionSet) {
      const edgeType = getNamedType(fields.edges.type) as GraphQLObjectType
      const edges = actual ? ((value?.[responseKey(sub)] as Record<string, unknown>[] | undefined) ?? []) : undefined
      returned = Math.max(returned, edges?.length ?? 0)
      for (const edgeField of fieldsFor(w, sub.selectionSet, edgeType)) {
        if (edgeField.name.value !== 'node' || !edgeField.selectionSet) continue
        const nodeType = getNamedType(edgeType.getFields().node.type) as GraphQLCompositeType
        perNode +=
          1 +
          maxOver(edges, (edge) =>
            selectionCost(
              w,
              edgeField.selectionSet!,
              nodeType,
              edge?.[responseKey(edgeField)] as Record<string, unknown> | undefined,
            ),
          )
      }
    }
  }
  const size = actual ? returned : pageSize(w, field)
  return CONNECTION_BASE_COST + pageMultiplier(size) * perNode
}

function maxOver<T>(items: T[] | undefined, cost: (item: T) => number): number {
  if (items === undefined) return cost(undefined as T)
  return items.length === 0 ? 0 : Math.max(...items.map(cost))
}

function pageSize(w: Walk, field: FieldNode): number {
  const first = argumentValue(w, field, 'first')
  const last = argumentValue(w, field, 'last')
  const n = typeof first === 'number' ? first : typeof last === 'number' ? last : 0
  return n
}

function argumentValue(w: Walk, field: FieldNode, name: string): unknown {
  const arg = field.arguments?.find((a) => a.name.value === name)
  return arg ? literal(w, arg.value) : undefined
}

function literal(w: Walk, value: ValueNode): unknown {
  return valueFromASTUntyped(value, w.variables)
}

function isConnection(type: GraphQLNamedType): boolean {
  return isObjectType(type) && type.name.endsWith('Connection') && 'pageInfo' in type.getFields()
}

function isFree(type: GraphQLNamedType): boolean {
  return FREE_TYPES.has(type.name) || (isObjectType(type) && type.getInterfaces().some((i) => i.name === 'DisplayableError'))
}

function unwrapNonNull(type: GraphQLOutputType): GraphQLOutputType {
  return isNonNullType(type) ? type.ofType : type
}

function responseKey(field: FieldNode): string {
  return field.alias?.value ?? field.name.value
}

function sum<T>(items: T[], cost: (item: T) => number): number {
  let total = 0
  for (const item of items) total += cost(item)
  return total
}

/** The field nodes that apply when the runtime type is `runtime`, fragments flattened, @skip/@include honoured. */
export function fieldsFor(
  w: Walk,
  selectionSet: SelectionSetNode,
  runtime: GraphQLObjectType | GraphQLCompositeType,
): FieldNode[] {
  const out: FieldNode[] = []
  for (const selection of selectionSet.selections) {
    if (!included(w, selection.directives)) continue
    if (selection.kind === Kind.FIELD) {
      out.push(selection)
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (!selection.typeCondition || applies(w, selection.typeCondition.name.value, runtime)) {
        out.push(...fieldsFor(w, selection.selectionSet, runtime))
      }
    } else {
      const fragment = w.fragments[selection.name.value]
      if (fragment && applies(w, fragment.typeCondition.name.value, runtime))
        out.push(...fieldsFor(w, fragment.selectionSet, runtime))
    }
  }
  return out
}

function applies(w: Walk, condition: string, runtime: GraphQLCompositeType): boolean {
  if (condition === runtime.name) return true
  const type = w.schema.getType(condition)
  if (!type || !isAbstractType(type)) return false
  return isObjectType(runtime) ? w.schema.isSubType(type, runtime) : false
}

function included(w: Walk, directives: readonly DirectiveNode[] | undefined): boolean {
  for (const directive of directives ?? []) {
    const arg = directive.arguments?.find((a) => a.name.value === 'if')
    const condition = arg ? literal(w, arg.value) === true : false
    if (directive.name.value === 'skip' && condition) return false
    if (directive.name.value === 'include' && !condition) return false
  }
  return true
}
