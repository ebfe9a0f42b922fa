// Error bodies exactly as Shopify's Admin API sends them. Shopify runs
// graphql-ruby, so static validation errors carry graphql-ruby's messages and
// camelCase codes (undefinedField, argumentNotAccepted…), a `path` that starts
// with the operation ("query Name"), and no extensions.cost — verified against
// live captures (airhorns/shopify-draft-proxy, graphql-base-validation-unhappy-paths).
// graphql-js finds the same problems; this module rewrites its messages.
import {
  BREAK,
  GraphQLError,
  Kind,
  print,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DocumentNode,
  type GraphQLSchema,
  type VariableDefinitionNode,
} from 'graphql'
import type { ThrottleStatus } from './bucket.ts'

export const UNAUTHORIZED_BODY = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' }
export const NOT_FOUND_BODY = { errors: 'Not Found' }
const RATE_LIMITS_DOC = 'https://shopify.dev/api/usage/rate-limits'

export interface ShopifyError {
  message: string
  locations?: { line: number; column: number }[]
  path?: (string | number)[]
  extensions: Record<string, unknown>
}

export function costExtension(requested: number | null, actual: number | null, status: ThrottleStatus) {
  return { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: status } }
}

export function throttledBody(requested: number, status: ThrottleStatus) {
  return {
    errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: RATE_LIMITS_DOC } }],
    extensions: costExtension(requested, null, status),
  }
}

export function maxCostBody(requested: number, max: number, status: ThrottleStatus) {
  return {
    errors: [
      {
        message:
          `Query cost is ${requested}, which exceeds the single query max cost limit (${max}).\n\n` +
          'See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n' +
          'cost of a query is calculated.\n\n' +
          'To query larger amounts of data with fewer limits, bulk operations should be used instead.\n' +
          'See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n',
        extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: max, documentation: RATE_LIMITS_DOC },
      },
    ],
    extensions: costExtension(requested, null, status),
  }
}

export function parseErrorBody(error: GraphQLError) {
  const location = error.locations?.[0] ?? { line: 1, column: 1 }
  const found = /found (.+?)\.?$/.exec(error.message)?.[1]
  const what = !found || found === '<EOF>' ? 'unexpected end of file' : `unexpected ${found.replace(/^"|"$/g, '')}`
  return {
    errors: [
      {
        message: `syntax error, ${what} at [${location.line}, ${location.column}]`,
        locations: [location],
        extensions: { code: 'PARSE_ERROR' },
      },
    ],
  }
}

/** graphql-js validation errors rewritten the way graphql-ruby (Shopify) words them. */
export function validationErrors(schema: GraphQLSchema, document: DocumentNode, errors: readonly GraphQLError[]): ShopifyError[] {
  return errors.map((error) => {
    const node = error.nodes?.[0]
    const where = node
      ? locate(schema, document, node)
      : { path: [] as string[], argument: null, argumentType: null, operation: null }
    const { message, extensions } = rewrite(error.message, node, where)
    const out: ShopifyError = { message, extensions }
    if (error.locations) out.locations = [...error.locations]
    if (where.path.length) out.path = where.path
    return { message: out.message, locations: out.locations, path: out.path, extensions: out.extensions }
  })
}

interface Where {
  path: string[]
  argument: string | null
  argumentType: string | null
  operation: string | null
}

function rewrite(
  message: string,
  node: ASTNode | undefined,
  where: Where,
): { message: string; extensions: Record<string, unknown> } {
  let m: RegExpExecArray | null
  if ((m = /^Cannot query field "(.+?)" on type "(.+?)"/.exec(message))) {
    return {
      message: `Field '${m[1]}' doesn't exist on type '${m[2]}'`,
      extensions: { code: 'undefinedField', typeName: m[2], fieldName: m[1] },
    }
  }
  if ((m = /^Field "(.+?)" of type "(.+?)" must have a selection of subfields/.exec(message))) {
    const type = m[2].replace(/[[\]!]/g, '')
    return {
      message: `Field must have selections (field '${m[1]}' returns ${type} but has no selections. Did you mean '${m[1]} { ... }'?)`,
      extensions: { code: 'selectionMismatch', nodeName: `field '${m[1]}'`, typeName: type },
    }
  }
  if ((m = /^Field "(.+?)" must not have a selection since type "(.+?)" has no subfields/.exec(message))) {
    const type = m[2].replace(/[[\]!]/g, '')
    const selected =
      node?.kind === Kind.FIELD
        ? (node.selectionSet?.selections ?? []).map((s) => (s.kind === Kind.FIELD ? s.name.value : '...'))
        : []
    return {
      message: `Selections can't be made on scalars (field '${m[1]}' returns ${type} but has selections [${selected.join(', ')}])`,
      extensions: { code: 'selectionMismatch', nodeName: `field '${m[1]}'`, typeName: type },
    }
  }
  if ((m = /^Unknown argument "(.+?)" on field "(.+?)\.(.+?)"/.exec(message))) {
    return {
      message: `Field '${m[3]}' doesn't accept argument '${m[1]}'`,
      extensions: { code: 'argumentNotAccepted', name: m[3], typeName: 'Field', argumentName: m[1] },
    }
  }
  if ((m = /^Field "(.+?)" is not defined by type "(.+?)"/.exec(message))) {
    return {
      message: `InputObject '${m[2]}' doesn't accept argument '${m[1]}'`,
      extensions: { code: 'argumentNotAccepted', name: m[2], typeName: 'InputObject', argumentName: m[1] },
    }
  }
  if ((m = /^Field "(.+?)" argument "(.+?)" of type "(.+?)" is required/.exec(message))) {
    return {
      message: `Field '${m[1]}' is missing required arguments: ${m[2]}`,
      extensions: { code: 'missingRequiredArguments', className: 'Field', name: m[1], arguments: m[2] },
    }
  }
  if ((m = /^Variable "\$(.+?)" is never used/.exec(message))) {
    return {
      message: `Variable $${m[1]} is declared by ${where.operation ?? 'anonymous query'} but not used`,
      extensions: { code: 'variableNotUsed', variableName: m[1] },
    }
  }
  if ((m = /^Variable "\$(.+?)" is not defined/.exec(message))) {
    return {
      message: `Variable $${m[1]} is used by ${where.operation ?? 'anonymous query'} but not declared`,
      extensions: { code: 'variableNotDefined', variableName: m[1] },
    }
  }
  if ((m = /^Unknown type "(.+?)"/.exec(message))) {
    return {
      message: `No such type ${m[1]}, so it can't be a fragment condition`,
      extensions: { code: 'undefinedType', typeName: m[1] },
    }
  }
  if ((m = /^Unknown fragment "(.+?)"/.exec(message))) {
    return {
      message: `Fragment ${m[1]} was used, but not defined`,
      extensions: { code: 'undefinedFragment', fragmentName: m[1] },
    }
  }
  if ((m = /^Fragment "(.+?)" is never used/.exec(message))) {
    return {
      message: `Fragment ${m[1]} was defined, but not used`,
      extensions: { code: 'useAndDefineFragment', fragmentName: m[1] },
    }
  }
  if ((m = /^There can be only one operation named "(.+?)"/.exec(message))) {
    return { message: `Operation name "${m[1]}" must be unique`, extensions: { code: 'operationNotUnique', operationName: m[1] } }
  }
  if (where.argument && node && 'kind' in node && isValueNode(node)) {
    const field = where.path.at(-2) ?? ''
    return {
      message: `Argument '${where.argument}' on Field '${field}' has an invalid value (${print(node)}). Expected type '${where.argumentType}'.`,
      extensions: { code: 'argumentLiteralsIncompatible', typeName: 'Field', argumentName: where.argument },
    }
  }
  return { message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }
}

function isValueNode(node: ASTNode): boolean {
  return (
    node.kind === Kind.INT ||
    node.kind === Kind.FLOAT ||
    node.kind === Kind.STRING ||
    node.kind === Kind.BOOLEAN ||
    node.kind === Kind.NULL ||
    node.kind === Kind.ENUM ||
    node.kind === Kind.LIST ||
    node.kind === Kind.OBJECT ||
    node.kind === Kind.VARIABLE
  )
}

// graphql-ruby paths name the operation, then fields (by response key) and arguments.
function locate(schema: GraphQLSchema, document: DocumentNode, target: ASTNode): Where {
  const typeInfo = new TypeInfo(schema)
  const where: Where = { path: [], argument: null, argumentType: null, operation: null }
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      enter(node, _key, _parent, _path, ancestors) {
        if (node !== target) return undefined
        const chain = [...ancestors, node].filter(
          (a): a is ASTNode => !Array.isArray(a) && typeof a === 'object' && a !== null && 'kind' in a,
        )
        for (const a of chain) {
          switch (a.kind) {
            case Kind.OPERATION_DEFINITION:
              where.operation = `${a.operation}${a.name ? ` ${a.name.value}` : ''}`
              where.path.push(where.operation)
              break
            case Kind.FRAGMENT_DEFINITION:
              where.path.push(`fragment ${a.name.value}`)
              break
            case Kind.FIELD:
              where.path.push(a.alias?.value ?? a.name.value)
              break
            case Kind.INLINE_FRAGMENT:
              where.path.push(a.typeCondition ? `... on ${a.typeCondition.name.value}` : '...')
              break
            case Kind.ARGUMENT:
              where.argument = a.name.value
              where.path.push(a.name.value)
              break
            case Kind.OBJECT_FIELD:
              where.path.push(a.name.value)
              break
          }
        }
        const argument = typeInfo.getArgument()
        if (argument) where.argumentType = String(argument.type)
        return BREAK
      },
    }),
  )
  return where
}

/** Variable coercion failures, in Shopify's INVALID_VARIABLE shape. */
export function variableErrors(
  document: DocumentNode,
  errors: readonly GraphQLError[],
  variables: Record<string, unknown>,
): ShopifyError[] {
  const definitions = new Map<string, VariableDefinitionNode>()
  visit(document, {
    VariableDefinition(node) {
      definitions.set(node.variable.name.value, node)
    },
  })
  return errors.map((error) => {
    const name = /^Variable "\$(.+?)"/.exec(error.message)?.[1] ?? ''
    const definition = definitions.get(name)
    const type = definition ? print(definition.type) : 'unknown'
    const at = /got invalid value .*? at "(.+?)";/.exec(error.message)?.[1]
    const subPath = at ? at.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '' && p !== name) : []
    const reason = /; (.*)$/.exec(error.message)?.[1] ?? ''
    const explanation = /was not provided|not to be null/.test(error.message)
      ? 'Expected value to not be null'
      : /is not defined by type/.test(reason)
        ? `Field is not defined on ${/type "(.+?)"/.exec(reason)?.[1] ?? type}`
        : reason || error.message
    const path = subPath.map((p) => (/^\d+$/.test(p) ? Number(p) : p))
    const fieldPath = /Field "(.+?)" (?:is not defined|of required type)/.exec(reason)?.[1]
    if (fieldPath) path.push(fieldPath)
    const suffix = path.length ? ` for ${path.join('.')} (${explanation})` : ''
    return {
      message: `Variable $${name} of type ${type} was provided invalid value${suffix}`,
      locations: error.locations ? [...error.locations] : undefined,
      extensions: { code: 'INVALID_VARIABLE', value: variables[name] ?? null, problems: [{ path, explanation }] },
    }
  })
}

/** Errors thrown by a resolver become GraphQL errors with Shopify's codes. */
export function notImplemented(typeName: string, fieldName: string): GraphQLError {
  return new GraphQLError(`${typeName}.${fieldName} is not implemented by the Atelier Shopify fake`, {
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  })
}
