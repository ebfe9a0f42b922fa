// bulkOperationRunQuery: validates the inner query with Shopify's bulk rules
// (messages from live captures), then runs it over the whole catalog in the
// background — CREATED → RUNNING → COMPLETED — and serves the result as JSONL.
// Nested connection rows are flattened out with __parentId. With
// groupObjects: false (the default) a parent's children are written after the
// next parent, so they are never adjacent: apps must join on __parentId.
import {
  execute,
  getNamedType,
  isObjectType,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type FieldNode,
  type GraphQLObjectType,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql'
import { fieldsFor } from '../cost.ts'
import { validationErrors } from '../errors.ts'
import { gid } from '../ids.ts'
import type { BulkOperationRecord } from '../store.ts'
import { bulkFinishPayload } from '../webhooks.ts'
import type { Ctx, UserError } from './context.ts'
import { fieldResolver, typeResolver } from './execution.ts'
import { queryRoot } from './query.ts'
import { bulkOperationView } from './views.ts'

const MAX_CONCURRENT = 5
const MAX_CONNECTIONS = 5
const MAX_DEPTH = 2
// why these pauses: a real bulk run takes seconds; polling apps must see CREATED/RUNNING, tests must not wait long.
const START_MS = 25
const MIN_RUN_MS = 400

type Row = Record<string, unknown>

function invalid(message: string): UserError {
  return { field: ['query'], message, code: 'INVALID' }
}

interface ConnectionUse {
  name: string
  depth: number
  viaNodes: boolean
  parentSelectsId: boolean
  inList: boolean
}

function isConnectionType(type: GraphQLObjectType): boolean {
  return type.name.endsWith('Connection') && 'pageInfo' in type.getFields()
}

function collectConnections(ctx: Ctx, document: DocumentNode, op: OperationDefinitionNode): ConnectionUse[] {
  const schema = ctx.rt.schema
  const fragments = Object.fromEntries(
    document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  )
  const w = { schema, fragments, variables: {} }
  const found: ConnectionUse[] = []
  const walk = (
    selectionSet: SelectionSetNode,
    type: GraphQLObjectType,
    depth: number,
    parentSelectsId: boolean,
    inList: boolean,
  ): void => {
    for (const field of fieldsFor(w, selectionSet, type)) {
      const def = type.getFields()[field.name.value]
      if (!def || !field.selectionSet) continue
      const named = getNamedType(def.type)
      if (!isObjectType(named)) continue
      if (isConnectionType(named)) {
        const subs = fieldsFor(w, field.selectionSet, named)
        const nodes = subs.find((s) => s.name.value === 'nodes')
        const edges = subs.find((s) => s.name.value === 'edges')
        found.push({
          name: field.name.value,
          depth: depth + 1,
          viaNodes: !!nodes && !edges,
          parentSelectsId: parentSelectsId,
          inList,
        })
        const node = edges?.selectionSet
          ? fieldsFor(w, edges.selectionSet, getNamedType(named.getFields().edges.type) as GraphQLObjectType).find(
              (s) => s.name.value === 'node',
            )
          : undefined
        const target = node ?? nodes
        const nodeType = getNamedType(named.getFields().nodes?.type ?? named.getFields().edges.type)
        if (target?.selectionSet && isObjectType(nodeType)) {
          const selectsId = fieldsFor(w, target.selectionSet, nodeType).some((s) => s.name.value === 'id' && !s.alias)
          walk(target.selectionSet, nodeType, depth + 1, selectsId, false)
        }
        continue
      }
      const isList = def.type.toString().includes('[')
      walk(field.selectionSet, named, depth, parentSelectsId, inList || isList)
    }
  }
  const root = schema.getQueryType()
  if (root) walk(op.selectionSet, root, 0, true, false)
  return found
}

function validateBulkQuery(ctx: Ctx, query: string): { errors: UserError[]; document?: DocumentNode } {
  let document: DocumentNode
  try {
    document = parse(query)
  } catch (error) {
    const message =
      error instanceof Error && /<EOF>/.test(error.message) ? 'syntax error, unexpected end of file' : 'syntax error'
    return { errors: [invalid(`Invalid bulk query: ${message}`)] }
  }
  const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
  if (ops.some((op) => op.operation !== 'query'))
    return { errors: [invalid('Invalid operation type. Only `query` operations are supported.')] }
  const schemaErrors = validate(ctx.rt.schema, document)
  if (schemaErrors.length) {
    return {
      errors: validationErrors(ctx.rt.schema, document, schemaErrors).map((e) => invalid(`Invalid bulk query: ${e.message}`)),
    }
  }
  const errors: UserError[] = []
  const op = ops[0]
  const roots = op.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD)
  if (roots.some((f) => f.name.value === 'node' || f.name.value === 'nodes'))
    errors.push(invalid('Bulk queries cannot contain a top level `node` field.'))
  const connections = collectConnections(ctx, document, op)
  if (connections.length === 0) errors.push(invalid('Bulk queries must contain at least one connection.'))
  const viaNodes = connections.filter((c) => c.viaNodes).map((c) => c.name)
  if (viaNodes.length) {
    errors.push(
      invalid(
        `All connection fields in a bulk query must select their contents using 'edges' > 'node', e.g: '${viaNodes[0]} { edges { node {'. ` +
          `Selecting via 'nodes' is not supported. Invalid connection fields: ${viaNodes.map((n) => `'${n}'`).join(', ')}.`,
      ),
    )
  }
  if (connections.length > MAX_CONNECTIONS)
    errors.push(invalid(`Bulk queries cannot contain more than ${MAX_CONNECTIONS} connections.`))
  if (connections.some((c) => c.depth > MAX_DEPTH))
    errors.push(invalid(`Bulk queries cannot contain connections with a nesting depth greater than ${MAX_DEPTH}.`))
  if (connections.some((c) => c.inList))
    errors.push(invalid('Queries that contain a connection field within a list field are not currently supported.'))
  const orphans = connections.filter((c) => c.depth > 1 && !c.parentSelectsId)
  if (orphans.length) {
    errors.push(
      invalid(
        "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. " +
          `Connection fields without 'id': ${orphans.map((c) => c.name).join(', ')}.`,
      ),
    )
  }
  return { errors, document }
}

function isConnectionValue(value: unknown): value is { edges: { node: Row }[] } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { edges?: unknown }).edges)
}

// One block per root object: [root row, ...descendant rows], parents before their children.
function flatten(data: Record<string, unknown>): Row[][] {
  const blocks: Row[][] = []
  const rowsOf = (node: Row, parentId: string | null): Row[] => {
    const row: Row = {}
    const nested: Row[] = []
    for (const [key, value] of Object.entries(node)) {
      if (isConnectionValue(value)) {
        for (const edge of value.edges) nested.push(...rowsOf(edge.node, typeof node.id === 'string' ? node.id : null))
      } else {
        row[key] = value
      }
    }
    if (parentId) row.__parentId = parentId
    return [row, ...nested]
  }
  for (const value of Object.values(data)) {
    if (isConnectionValue(value)) for (const edge of value.edges) blocks.push(rowsOf(edge.node, null))
  }
  return blocks
}

function interleave(blocks: Row[][], groupObjects: boolean): Row[] {
  if (groupObjects) return blocks.flat()
  const out: Row[] = []
  let pending: Row[] = []
  for (const [root, ...children] of blocks) {
    out.push(root, ...pending)
    pending = children
  }
  return [...out, ...pending]
}

async function runBulk(ctx: Ctx, op: BulkOperationRecord, document: DocumentNode): Promise<void> {
  const { rt, shop } = ctx
  const bulkCtx: Ctx = { ...ctx, now: rt.now(), bulk: true, search: [] }
  const result = await execute({
    schema: rt.schema,
    document,
    rootValue: queryRoot(bulkCtx),
    contextValue: bulkCtx,
    fieldResolver,
    typeResolver,
  })
  const finishAt = op.createdAt.getTime() + MIN_RUN_MS
  rt.later(Math.max(0, finishAt - rt.now()), () => {
    op.completedAt = new Date(rt.now())
    if (result.errors?.length || !result.data) {
      op.status = 'FAILED'
      op.errorCode = 'INTERNAL_SERVER_ERROR'
    } else {
      const rows = interleave(flatten(result.data), op.groupObjects)
      op.status = 'COMPLETED'
      op.rootObjectCount = rows.filter((r) => !('__parentId' in r)).length
      op.objectCount = rows.length
      if (rows.length) {
        const body = Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join(''))
        const name = `bulk-${op.legacyId}.jsonl`
        shop.bulkResults.set(name, body)
        op.fileSize = body.length
        op.url = `${rt.shopBase(shop)}/bulk/${name}`
      }
    }
    rt.emitWebhook(shop, 'bulk_operations/finish', bulkFinishPayload(op))
  })
}

export function bulkOperationRunQuery(ctx: Ctx, args: { query: string; groupObjects?: boolean | null }) {
  const { shop, rt } = ctx
  const { errors, document } = validateBulkQuery(ctx, args.query)
  if (errors.length || !document) return { bulkOperation: null, userErrors: errors }
  const running = [...shop.bulkOperations.values()].filter((op) => op.status === 'CREATED' || op.status === 'RUNNING')
  if (running.length >= MAX_CONCURRENT) {
    return {
      bulkOperation: null,
      userErrors: [
        {
          field: null,
          message: `A bulk query operation for this app and shop is already in progress: ${running.map((op) => op.id).join(', ')}.`,
          code: 'OPERATION_IN_PROGRESS',
        },
      ],
    }
  }
  const legacyId = shop.nextId()
  const op: BulkOperationRecord = {
    id: gid('BulkOperation', legacyId),
    legacyId,
    status: 'CREATED',
    query: args.query,
    groupObjects: args.groupObjects ?? false,
    createdAt: new Date(rt.now()),
    completedAt: null,
    objectCount: 0,
    rootObjectCount: 0,
    fileSize: null,
    url: null,
    errorCode: null,
  }
  shop.bulkOperations.set(op.id, op)
  const view = bulkOperationView(op)
  rt.later(START_MS, () => {
    op.status = 'RUNNING'
    rt.track(runBulk(ctx, op, document))
  })
  return { bulkOperation: view, userErrors: [] }
}
