import { AppError, isAppError } from '#app/lib/errors.ts'
import type { PublishCheckpoint } from '#app/modules/platforms/types.ts'
import { assertNoUserErrors } from '../admin/errors.ts'
import { sleep } from '#app/lib/sleep.ts'
import { STAGED_UPLOADS_CREATE } from '../documents.ts'
import type { ShopifyContext } from './context.ts'
import { refuseBlocked } from './images.server.ts'
import type { StagedTarget, Steps } from './steps.ts'

// Steps (a) and (b) of a publish: a staged upload target, and the file sent to it.

/** The file a publish uploads, named after its idempotency key. */
export interface PublishFile {
  filename: string
  mimeType: string
  size: number
  key: string
}

/** Uploads the image unless an earlier attempt did; returns the target it went to, saved. */
export async function ensureUploaded(
  ctx: ShopifyContext,
  image: Buffer,
  file: PublishFile,
  steps: Steps,
  checkpoint: PublishCheckpoint,
): Promise<StagedTarget> {
  let target = steps.target ?? null
  if (steps.uploaded && target) return target
  if (!target) {
    target = await stagedTarget(ctx, file)
    await checkpoint.save({ target })
  }
  const ok = await upload(ctx, target, image, file)
  if (!ok) {
    // why once more with a new target: a staged target expires; one saved by an old attempt may have.
    target = await stagedTarget(ctx, file)
    await checkpoint.save({ target })
    if (!(await upload(ctx, target, image, file)))
      throw new AppError('PUBLISH_FAILED', 'Shopify refused the image upload', { retryable: true })
  }
  await checkpoint.save({ uploaded: true })
  return target
}

async function stagedTarget(ctx: ShopifyContext, file: Omit<PublishFile, 'key'>): Promise<StagedTarget> {
  const data = await ctx.client.request(
    STAGED_UPLOADS_CREATE,
    {
      input: [
        {
          filename: file.filename,
          mimeType: file.mimeType,
          fileSize: String(file.size),
          resource: 'IMAGE',
          httpMethod: 'POST',
        },
      ],
    },
    // why idempotent: a second staged target is harmless; only the attach adds anything.
    { idempotent: true },
  )
  const payload = assertNoUserErrors(data.stagedUploadsCreate, 'Preparing the upload')
  const t = payload.stagedTargets?.[0]
  if (!t?.url || !t.resourceUrl) throw new AppError('PUBLISH_FAILED', 'Shopify gave no upload target', { retryable: true })
  return { url: t.url, resourceUrl: t.resourceUrl, parameters: t.parameters.map((p) => ({ name: p.name, value: p.value })) }
}

/** POSTs the file to the staged target. False when the target refuses it (expired); throws when unreachable. */
async function upload(
  ctx: ShopifyContext,
  target: StagedTarget,
  image: Buffer,
  file: { filename: string; mimeType: string },
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const form = new FormData()
    for (const p of target.parameters) form.append(p.name, p.value)
    // why last: the storage service reads the policy fields before the file.
    form.append('file', new Blob([new Uint8Array(image)], { type: file.mimeType }), file.filename)
    try {
      const response = await ctx.fetchImpl(target.url, { method: 'POST', body: form, signal: AbortSignal.timeout(120_000) })
      await response.body?.cancel()
      if (response.ok) return true
      if (response.status < 500 || attempt >= 3) {
        ctx.log.warn({ status: response.status, attempt }, 'staged upload refused')
        if (response.status < 500) return false
        throw new AppError('SHOPIFY_UNAVAILABLE', `The upload service answered ${response.status}`, { retryable: true })
      }
    } catch (e) {
      if (isAppError(e)) throw e
      refuseBlocked(e, 'The upload target')
      // why safe to repeat: uploading the same bytes to the same target is idempotent.
      if (attempt >= 3)
        throw new AppError('SHOPIFY_UNAVAILABLE', 'The upload service could not be reached', { cause: e, retryable: true })
    }
    await sleep(500 * attempt)
  }
}
