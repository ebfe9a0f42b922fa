import { appSubscriptionCreate, appUsageRecordCreate } from './billing.ts'
import { bulkOperationRunQuery } from './bulk.ts'
import type { Ctx } from './context.ts'
import { fileDelete, fileUpdate, productReorderMedia, productUpdate } from './media-mutations.ts'
import { stagedUploadsCreate } from './staged-uploads-create.ts'

export { fieldResolver, typeResolver } from './execution.ts'
export { queryRoot } from './query.ts'
export type { Ctx } from './context.ts'

// Each mutation is (ctx, args); mutationRoot binds it to the request.
type Mutation = (ctx: Ctx, args: never) => unknown

const MUTATIONS: Record<string, Mutation> = {
  stagedUploadsCreate,
  productUpdate,
  productReorderMedia,
  fileUpdate,
  fileDelete,
  appSubscriptionCreate,
  appUsageRecordCreate,
  bulkOperationRunQuery,
}

export function mutationRoot(ctx: Ctx): Record<string, unknown> {
  return Object.fromEntries(Object.entries(MUTATIONS).map(([name, run]) => [name, (args: never) => run(ctx, args)]))
}
