import { readFileSync } from 'node:fs'
import { buildClientSchema, type GraphQLSchema, type IntrospectionQuery } from 'graphql'
import { ensureAdminSchema } from '../../../scripts/shopify-schema.ts'

// why a per-process cache: the introspection JSON is ~11 MB and building the
// schema takes ~0.5 s; every fake started in one test worker shares it.
const schemas = new Map<string, GraphQLSchema>()

/** The real Admin API schema of `apiVersion`, from Shopify's own introspection result. */
export function adminSchema(apiVersion: string): GraphQLSchema {
  let schema = schemas.get(apiVersion)
  if (!schema) {
    const raw = JSON.parse(readFileSync(ensureAdminSchema(apiVersion), 'utf8')) as {
      data?: IntrospectionQuery
    } & Partial<IntrospectionQuery>
    schema = buildClientSchema(raw.data ?? (raw as IntrospectionQuery))
    schemas.set(apiVersion, schema)
  }
  return schema
}
