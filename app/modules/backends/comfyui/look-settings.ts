import { z } from 'zod'
import { AppError } from '#app/lib/errors.ts'
import type { Persona, Scene } from '#app/modules/looks/schema.ts'

// What a scene's and a persona's `backends.comfyui` section must hold. The
// look schema keeps these sections open (a record), so they are checked here,
// at the edge of this backend, with the look's id in the error.

export const comfyuiSceneSettingsSchema = z.object({
  checkpoint: z.string().min(1),
  prompt: z.string().min(1),
  negative: z.string().default(''),
  /** Share of the masked area the sampler may change (KSampler denoise). */
  denoise: z.number().min(0).max(1),
  steps: z.number().int().min(1).max(150),
  cfg: z.number().min(0).max(30),
  sampler: z.string().min(1),
  scheduler: z.string().min(1),
  controlnet: z
    .array(z.object({ type: z.string().min(1), model: z.string().min(1), strength: z.number().min(0).max(10) }))
    .default([]),
})
export type ComfyuiSceneSettings = z.infer<typeof comfyuiSceneSettingsSchema>

export const comfyuiPersonaSettingsSchema = z.object({
  promptFragment: z.string().min(1),
  negativeFragment: z.string().default(''),
  lora: z.string().min(1),
  loraStrength: z.number().min(-10).max(10),
})
export type ComfyuiPersonaSettings = z.infer<typeof comfyuiPersonaSettingsSchema>

export function sceneSettings(scene: Scene): ComfyuiSceneSettings {
  const parsed = comfyuiSceneSettingsSchema.safeParse(scene.backends.comfyui)
  if (!parsed.success) {
    throw new AppError('INVALID_INPUT', `Scene "${scene.id}" has no usable ComfyUI settings:\n${z.prettifyError(parsed.error)}`, {
      details: { sceneId: scene.id, sceneVersion: scene.version },
    })
  }
  return parsed.data
}

export function personaSettings(persona: Persona): ComfyuiPersonaSettings {
  const parsed = comfyuiPersonaSettingsSchema.safeParse(persona.backends.comfyui)
  if (!parsed.success) {
    throw new AppError(
      'INVALID_INPUT',
      `Persona "${persona.id}" has no usable ComfyUI settings:\n${z.prettifyError(parsed.error)}`,
      {
        details: { personaId: persona.id, personaVersion: persona.version },
      },
    )
  }
  return parsed.data
}
