import { AppError } from '#app/lib/errors.ts'
import { assertNoUserErrors, userErrorCodes } from '../admin/errors.ts'
import { FILE_DELETE, FILE_UPDATE } from '../documents.ts'
import type { ShopifyContext } from './context.ts'
import { checkProduct, MEDIA_IMAGE_GID } from './ids.ts'

// Removing what a publish added: only media our publications table says is ours.

export async function unpublishImage(ctx: ShopifyContext, productId: string, externalId: string): Promise<void> {
  const product = checkProduct(productId)
  if (!MEDIA_IMAGE_GID.test(externalId) || !(await ctx.isOurs([externalId])).has(externalId)) {
    throw new AppError('INVALID_INPUT', `${externalId} was not published by Atelier; only our own images can be removed`)
  }
  const data = await ctx.client.request(
    FILE_UPDATE,
    { files: [{ id: externalId, referencesToRemove: [product] }] },
    { idempotent: true },
  )
  try {
    assertNoUserErrors(data.fileUpdate, 'Removing the image from the product')
  } catch (e) {
    const codes = userErrorCodes(e)
    // Already gone: undo is done. Still processing: deleting the file below removes it everywhere.
    if (codes.length === 0 || !codes.every((c) => c === 'FILE_DOES_NOT_EXIST' || c === 'NON_READY_STATE')) throw e
    if (codes.every((c) => c === 'FILE_DOES_NOT_EXIST')) return
  }
  await deleteFiles(ctx, [externalId])
}

/** Deletes files; one already gone counts as deleted. */
export async function deleteFiles(ctx: ShopifyContext, ids: string[]): Promise<void> {
  const data = await ctx.client.request(FILE_DELETE, { fileIds: ids }, { idempotent: true })
  try {
    assertNoUserErrors(data.fileDelete, 'Deleting the image')
  } catch (e) {
    if (!userErrorCodes(e).every((c) => c === 'FILE_DOES_NOT_EXIST')) throw e
  }
}
