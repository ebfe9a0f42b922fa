import { z } from 'zod'
import { AppError } from '#app/lib/errors.ts'
import type { PublishCheckpoint } from '#app/modules/platforms/types.ts'
import { MEDIA_IMAGE_GID } from './ids.ts'

// How far a publish got, as its checkpoint (publications.steps) records it.

/** What a publish has done so far, as saved in the checkpoint (publications.steps). */
const stepsSchema = z.object({
  target: z
    .object({ url: z.string(), resourceUrl: z.string(), parameters: z.array(z.object({ name: z.string(), value: z.string() })) })
    .nullish(),
  uploaded: z.boolean().nullish(),
  /** Set just before productUpdate: from here on, a media of ours may exist without its id saved. */
  attachRequestedAt: z.string().nullish(),
  externalId: z.string().regex(MEDIA_IMAGE_GID).nullish(),
  ready: z.boolean().nullish(),
  reordered: z.boolean().nullish(),
})
export type Steps = z.infer<typeof stepsSchema>
export type StagedTarget = NonNullable<Steps['target']>

/** Steps that start a publish over from a new upload. */
export const CLEAN_STEPS: Record<string, unknown> = {
  target: null,
  uploaded: false,
  attachRequestedAt: null,
  externalId: null,
  ready: false,
  reordered: false,
}

export function parseSteps(raw: Record<string, unknown>): Steps {
  const parsed = stepsSchema.safeParse(raw)
  // why refuse: guessing past a corrupt record could attach a second image.
  if (!parsed.success) throw new AppError('INTERNAL', `The publish record is malformed: ${z.prettifyError(parsed.error)}`)
  return parsed.data
}

export function memoryCheckpoint(): PublishCheckpoint {
  let steps: Record<string, unknown> = {}
  return {
    load: async () => steps,
    save: async (patch) => {
      steps = { ...steps, ...patch }
    },
  }
}
