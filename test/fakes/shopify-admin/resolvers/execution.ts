import { isNonNullType, type GraphQLFieldResolver, type GraphQLTypeResolver } from 'graphql'
import { notImplemented } from '../errors.ts'
import type { Ctx } from './context.ts'

/**
 * Values are plain objects: a property is the field's value, or a function of
 * (args, ctx, info). A field the fake does not model resolves to null when the
 * schema allows it and fails loudly when it does not.
 */
export const fieldResolver: GraphQLFieldResolver<unknown, Ctx> = (source, args, ctx, info) => {
  const value = (source as Record<string, unknown> | null)?.[info.fieldName]
  if (typeof value === 'function') return (value as (a: unknown, c: Ctx, i: typeof info) => unknown).call(source, args, ctx, info)
  if (value !== undefined) return value
  if (isNonNullType(info.returnType)) throw notImplemented(info.parentType.name, info.fieldName)
  return null
}

/** Interfaces and unions (Media, Node, AppPricingDetails…) resolve by the view's __typename. */
export const typeResolver: GraphQLTypeResolver<unknown, Ctx> = (value) => (value as { __typename?: string }).__typename
