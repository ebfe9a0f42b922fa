import { z } from 'zod'
import { AppError } from '#app/lib/errors.ts'
import type { Persona, Scene } from '#app/modules/looks/schema.ts'
import { controlnetControlModes, type InpaintingFill } from './api.ts'

// How SD WebUI realises each scene and persona. Two halves, both keyed by the
// look's id:
//
// - the look's own `backends.sdwebui` section (looks/scenes.ts, personas.ts):
//   checkpoint, prompts, denoise, steps, cfg, sampler, scheduler, ControlNet
//   units. why there and not here: those sections are versioned with the look
//   (a render records the look's version), so a change to them is a new
//   version; copies here would drift from it unseen.
// - the tuning below, which only this backend has: inpainting (mask blur, what
//   the sampler starts from), the work frame, product-in-scene denoise, and
//   per persona how far the person is repainted and how firmly the pose holds.
//   A change here alters pixels too: bump the look's version with it.
//
// Both are validated here, at the edge of this backend, with the look's id in
// the error; look-settings.test.ts checks that every scene and persona has both.

const controlnetUnitSettingsSchema = z.object({
  /** Preprocessor, e.g. `depth_midas`, `canny` (GET /controlnet/module_list). */
  module: z.string().min(1),
  /** Model name without the hash (resolved against GET /controlnet/model_list). */
  model: z.string().min(1),
  weight: z.number().min(0).max(2),
  control_mode: z.enum(controlnetControlModes),
})
export type ControlnetUnitSettings = z.infer<typeof controlnetUnitSettingsSchema>

/** A scene's `backends.sdwebui`, as scenes.ts writes it. */
export const sdwebuiSceneSectionSchema = z.object({
  /** Checkpoint file name as the server lists it, without the `[hash]`. */
  checkpoint: z.string().min(1),
  prompt: z.string().min(1),
  negative_prompt: z.string().default(''),
  /** Share of the repainted area the sampler may change. */
  denoising_strength: z.number().min(0).max(1),
  steps: z.number().int().min(1).max(150),
  cfg_scale: z.number().min(1).max(30),
  sampler_name: z.string().min(1),
  scheduler: z.string().min(1),
  controlnet: z.array(controlnetUnitSettingsSchema).max(3).default([]),
})

/** A persona's `backends.sdwebui`: its prompt (with its LoRA tag) and negative prompt. */
export const sdwebuiPersonaSectionSchema = z.object({
  prompt: z.string().min(1),
  negative_prompt: z.string().default(''),
})

export const sdwebuiSceneTuningSchema = z.object({
  /** Longest edge of the frame the checkpoint works in (SD 1.5 is trained at 512–768). */
  workEdge: z.number().int().min(256).max(2048).multipleOf(64),
  /** Gaussian blur of the mask edge, px at the work frame (mask_blur). */
  maskBlur: z.number().int().min(0).max(64),
  /**
   * Denoise for a product placed on the scene's plain colour: there is no
   * photo around it to keep, so the sampler must invent the whole set.
   */
  productSceneDenoise: z.number().min(0.5).max(1),
})
export type SdwebuiSceneTuning = z.infer<typeof sdwebuiSceneTuningSchema>

export const sdwebuiPersonaTuningSchema = z.object({
  /** Share of the person and the set repainted in a model swap (the garment is masked out and kept). */
  denoise: z.number().min(0.5).max(1),
  /** Weight of the openpose unit that holds the source's pose. */
  poseWeight: z.number().min(0).max(2),
})
export type SdwebuiPersonaTuning = z.infer<typeof sdwebuiPersonaTuningSchema>

/** Everything a scene needs on SD WebUI: the look's section and this backend's tuning. */
export type SdwebuiSceneSettings = z.infer<typeof sdwebuiSceneSectionSchema> & SdwebuiSceneTuning
export type SdwebuiPersonaSettings = z.infer<typeof sdwebuiPersonaSectionSchema> & SdwebuiPersonaTuning

// why: studio backdrops meet the product along a clean edge, so a narrow blur
// keeps the seam tight; outdoor and interior sets change the backdrop
// wholesale, and a wider blur hides where the new set meets the product.
const studio = (productSceneDenoise: number): SdwebuiSceneTuning => ({ workEdge: 768, maskBlur: 4, productSceneDenoise })
const location = (productSceneDenoise: number): SdwebuiSceneTuning => ({ workEdge: 768, maskBlur: 8, productSceneDenoise })

/** Per scene id (looks/scenes.ts). */
export const sceneTuning: Readonly<Record<string, SdwebuiSceneTuning>> = {
  'studio-white': studio(0.75),
  'grey-seamless': studio(0.8),
  'warm-gradient': studio(0.8),
  'cream-minimal': studio(0.8),
  street: location(1),
  beach: location(1),
  'cafe-interior': location(1),
  loft: location(1),
  'magazine-cover': { ...studio(0.9), maskBlur: 6 },
}

// why by figure: openpose holds limbs where the source model's were; for a
// fuller figure a softer hold lets arms sit naturally on the body, and a
// slightly higher denoise lets the silhouette around the garment change.
const slim: SdwebuiPersonaTuning = { denoise: 0.88, poseWeight: 0.85 }
const regular: SdwebuiPersonaTuning = { denoise: 0.9, poseWeight: 0.8 }
const full: SdwebuiPersonaTuning = { denoise: 0.92, poseWeight: 0.7 }

/** Per persona id (looks/personas.ts). */
export const personaTuning: Readonly<Record<string, SdwebuiPersonaTuning>> = {
  amara: slim,
  sofia: slim,
  mei: slim,
  hana: slim,
  seoyeon: slim,
  camille: regular,
  chloe: regular,
  ingrid: regular,
  grace: full,
  lucia: full,
  noor: regular,
  marcus: regular,
  kenji: regular,
  minho: slim,
  hao: regular,
  lukas: regular,
  omar: full,
  rafael: full,
  henri: regular,
  river: slim,
  jun: slim,
}

/**
 * What the sampler starts from under the mask: the pixels sent (the photo, or
 * the scene's colour around a placed product). why not latent noise: it needs
 * denoise near 1 to vanish, and the looks repaint at 0.35–0.92 so the photo's
 * light and floor carry into the new scene; at those strengths leftover noise
 * would show as grain.
 */
export const INPAINTING_FILL: InpaintingFill = 'original'

/**
 * The pose unit of a model swap. why openpose and not the scene's canny or
 * depth: those trace the source model's outline and face, which is exactly
 * what the persona replaces; a skeleton keeps only the pose.
 */
export const MODEL_SWAP_POSE_UNIT: Omit<ControlnetUnitSettings, 'weight'> = {
  module: 'openpose_full',
  model: 'control_v11p_sd15_openpose',
  control_mode: 'Balanced',
}

/**
 * Server settings that change pixels, pinned per request (override_settings,
 * kept afterwards). why: a server's own choice of VAE or CLIP skip (set by
 * whoever used its UI last) would otherwise change our colours and faces.
 */
export const PINNED_SETTINGS = { sd_vae: 'Automatic', CLIP_stop_at_last_layers: 1 } as const

/** The preprocessor thresholds sent with a unit: the module's own meaning, or -1 (its default) where it has none. */
export function moduleThresholds(module: string): { threshold_a: number; threshold_b: number } {
  // why explicit canny thresholds: -1 would take whatever the server's ControlNet version defaults to.
  if (module === 'canny') return { threshold_a: 100, threshold_b: 200 }
  return { threshold_a: -1, threshold_b: -1 }
}

function unusable(kind: 'Scene' | 'Persona', look: { id: string; version: number }, why: string): AppError {
  return new AppError('INVALID_INPUT', `${kind} "${look.id}" has no usable SD WebUI settings:\n${why}`, {
    details: { [`${kind.toLowerCase()}Id`]: look.id, [`${kind.toLowerCase()}Version`]: look.version },
  })
}

export function sceneSettings(scene: Scene): SdwebuiSceneSettings {
  const section = sdwebuiSceneSectionSchema.safeParse(scene.backends.sdwebui)
  if (!section.success) throw unusable('Scene', scene, z.prettifyError(section.error))
  const tuning = sdwebuiSceneTuningSchema.safeParse(sceneTuning[scene.id])
  if (!tuning.success) throw unusable('Scene', scene, `no SD WebUI tuning for this scene in sdwebui/look-settings.ts`)
  return { ...section.data, ...tuning.data }
}

export function personaSettings(persona: Persona): SdwebuiPersonaSettings {
  const section = sdwebuiPersonaSectionSchema.safeParse(persona.backends.sdwebui)
  if (!section.success) throw unusable('Persona', persona, z.prettifyError(section.error))
  const tuning = sdwebuiPersonaTuningSchema.safeParse(personaTuning[persona.id])
  if (!tuning.success) throw unusable('Persona', persona, `no SD WebUI tuning for this persona in sdwebui/look-settings.ts`)
  return { ...section.data, ...tuning.data }
}
