// POST /admin/api/{version}/graphql.json, in Shopify's order: token, parse,
// validate against the real schema, coerce variables, price the operation,
// refuse it above 1000 points (MAX_COST_EXCEEDED) or when the bucket lacks the
// points (THROTTLED, HTTP 200, not executed), run it, refund the difference
// between requested and actual cost. Every executed response carries
// extensions.cost; static errors (parse, validation, variables) do not, as on Shopify.
import {
  execute,
  getArgumentValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  isInputObjectType,
  Kind,
  parse,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql'
import { actualQueryCost, MAX_SINGLE_QUERY_COST, requestedQueryCost } from './cost.ts'
import {
  costExtension,
  maxCostBody,
  parseErrorBody,
  throttledBody,
  UNAUTHORIZED_BODY,
  validationErrors,
  variableErrors,
  type ShopifyError,
} from './errors.ts'
import { uuid } from './ids.ts'
import { fieldResolver, mutationRoot, queryRoot, typeResolver, type Ctx } from './resolvers/index.ts'
import type { Runtime } from './runtime.ts'
import type { ShopRecord } from './store.ts'

const MAX_INPUT_ARRAY = 250
const DEPRECATION_NOTICE = 'https://shopify.dev/api/usage/versioning#deprecation-practices'

export interface HttpResult {
  status: number
  body: unknown
  headers?: Record<string, string>
}

interface GraphqlBody {
  query?: unknown
  variables?: unknown
  operationName?: unknown
}

/** Operation name and root field names, for failure injection and stats; empty when the body does not parse. */
export function describeOperation(body: unknown): { operationName: string | null; rootFields: string[] } {
  const { query, operationName } = (body ?? {}) as GraphqlBody
  if (typeof query !== 'string') return { operationName: null, rootFields: [] }
  try {
    const op = getOperationAST(parse(query), typeof operationName === 'string' ? operationName : undefined)
    const rootFields = (op?.selectionSet.selections ?? [])
      .filter((s): s is FieldNode => s.kind === Kind.FIELD)
      .map((s) => s.name.value)
    return { operationName: op?.name?.value ?? null, rootFields }
  } catch {
    return { operationName: null, rootFields: [] }
  }
}

export function tokenIsValid(rt: Runtime, shop: ShopRecord, token: string | undefined): boolean {
  const record = token ? shop.tokens.get(token) : undefined
  return !!record && (record.expiresAt === null || record.expiresAt > rt.now())
}

function ok(rt: Runtime, body: unknown, extraHeaders: Record<string, string> = {}): HttpResult {
  return { status: 200, body, headers: { 'X-Shopify-API-Version': rt.apiVersion, 'X-Request-Id': uuid(), ...extraHeaders } }
}

export async function handleGraphql(
  rt: Runtime,
  shop: ShopRecord,
  token: string | undefined,
  body: unknown,
): Promise<HttpResult> {
  const started = rt.now()
  if (!tokenIsValid(rt, shop, token)) return { status: 401, body: UNAUTHORIZED_BODY }
  const { query, variables: rawVariables, operationName } = (body ?? {}) as GraphqlBody
  if (typeof query !== 'string' || query.trim() === '')
    return { status: 400, body: { errors: { query: 'Required parameter missing or invalid' } } }
  const variables = (rawVariables && typeof rawVariables === 'object' ? rawVariables : {}) as Record<string, unknown>

  let document: DocumentNode
  try {
    document = parse(query)
  } catch (error) {
    return ok(rt, parseErrorBody(error as GraphQLError))
  }
  const schema = rt.schema
  const invalid = validate(schema, document)
  if (invalid.length) return ok(rt, { errors: validationErrors(schema, document, invalid) })

  const op = getOperationAST(document, typeof operationName === 'string' ? operationName : undefined)
  if (!op) {
    const message = typeof operationName === 'string' ? `No operation named "${operationName}"` : 'An operation name is required'
    return ok(rt, { errors: [{ message, extensions: { code: 'OPERATION_NAME_REQUIRED' } }] })
  }
  const coerced = getVariableValues(schema, op.variableDefinitions ?? [], variables)
  if (coerced.errors) return ok(rt, { errors: variableErrors(document, coerced.errors, variables) })

  const fragments: Record<string, FragmentDefinitionNode> = {}
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d
  const costInput = { schema, operation: op, fragments, variables: coerced.coerced }
  const requested = requestedQueryCost(costInput)
  if (requested > MAX_SINGLE_QUERY_COST) return ok(rt, maxCostBody(requested, MAX_SINGLE_QUERY_COST, shop.bucket.status()))
  if (!shop.bucket.take(requested)) {
    rt.stats.throttled++
    return ok(rt, throttledBody(requested, shop.bucket.status()))
  }

  const headers: Record<string, string> = usesDeprecatedFields(schema, document)
    ? { 'X-Shopify-API-Deprecated-Reason': DEPRECATION_NOTICE }
    : {}
  const tooLarge = oversizedInputs(schema, op, coerced.coerced)
  if (tooLarge.length) {
    rt.stats.costSpent += requested
    return ok(rt, { errors: tooLarge, extensions: costExtension(requested, null, shop.bucket.status()) }, headers)
  }

  const ctx: Ctx = { rt, shop, now: started, bulk: false, search: [] }
  const result = await execute({
    schema,
    document,
    operationName: op.name?.value,
    variableValues: variables,
    contextValue: ctx,
    rootValue: op.operation === 'mutation' ? mutationRoot(ctx) : queryRoot(ctx),
    fieldResolver,
    typeResolver,
  })
  const actual = Math.min(requested, actualQueryCost(costInput, result.data as Record<string, unknown> | null | undefined))
  shop.bucket.refund(requested - actual)
  rt.stats.costSpent += actual

  const response: Record<string, unknown> = {}
  if (result.errors?.length) response.errors = result.errors.map((e) => e.toJSON())
  response.data = result.data ?? null
  response.extensions = {
    ...costExtension(requested, actual, shop.bucket.status()),
    ...(ctx.search.length ? { search: ctx.search } : {}),
  }
  return ok(rt, response, headers)
}

function usesDeprecatedFields(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema)
  let deprecated = false
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        if (typeInfo.getFieldDef()?.deprecationReason) deprecated = true
      },
    }),
  )
  return deprecated
}

// Shopify rejects any input list longer than 250 before running the operation.
function oversizedInputs(schema: GraphQLSchema, op: OperationDefinitionNode, variables: Record<string, unknown>): ShopifyError[] {
  const root = op.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType()
  if (!root) return []
  const errors: ShopifyError[] = []
  const check = (value: unknown, path: (string | number)[], field: FieldNode): void => {
    if (Array.isArray(value)) {
      if (value.length > MAX_INPUT_ARRAY) {
        errors.push({
          message: `The input array size of ${value.length} is greater than the maximum allowed of ${MAX_INPUT_ARRAY}.`,
          locations: field.loc ? [{ line: field.loc.startToken.line, column: field.loc.startToken.column }] : undefined,
          path,
          extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' },
        })
        return
      }
      // why no index: Shopify's path names the list field, not the element.
      for (const item of value) check(item, path, field)
    } else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) check(inner, [...path, key], field)
    }
  }
  for (const selection of op.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue
    const def = root.getFields()[selection.name.value]
    if (!def) continue
    const args = getArgumentValues(def, selection, variables)
    for (const arg of def.args) {
      if (args[arg.name] === undefined) continue
      const named = getNamedType(arg.type)
      if (Array.isArray(args[arg.name]) || isInputObjectType(named))
        check(args[arg.name], [selection.name.value, arg.name], selection)
    }
  }
  return errors
}
