import { z } from 'zod'
import { AppError } from '#app/lib/errors.ts'
import type { Market, Persona, Scene } from '#app/modules/looks/schema.ts'
import { generatedContents, poses, tryonAspectRatios, type TryonAspectRatio } from './api.ts'

// How Atelier's looks become WeShop run parameters, keyed by the look ids in
// app/modules/looks. The text comes from the look's own prompt (so WeShop, ComfyUI
// and SD WebUI cannot drift apart); what is WeShop's own lives here: pose,
// generation mode and preset ids.
//
// why preset ids are empty: WeShop's preset ids (`locationId`, `fashionModelId`)
// are integers listed per agent by `GET /openapi/v1/agent/info?agentName=…` for
// an account's key, and we hold no list of the real ones. Until someone fills
// them in here (or in WESHOP_PRESET_IDS, env.server.ts), runs describe the
// scene and the persona in words, which the reference allows ("provide at
// least one of locationId, fashionModelId, or textDescription"). The looks'
// own `backends.weshop` sections carry string placeholders WeShop would
// refuse (it wants integers), so they are not read.

/** Elements WeShop is asked to avoid; the same drift the other backends' negatives fight. */
export const WESHOP_NEGATIVE =
  'altered garment, changed print, changed colour, different fabric, extra straps, distorted logo, deformed hands, ' +
  'extra fingers, distorted face, watermark, text, frame, border'

const presetId = z.number().int().positive()

export const weshopSceneSettingsSchema = z.object({
  /** Replaces the scene's prompt as WeShop's `textDescription` (default: the scene's prompt). */
  textDescription: z.string().min(1).max(1000).optional(),
  /** aimodel's pose control. */
  pose: z.enum(poses),
  /** aimodel / aiproduct generation mode when a preset id is sent (without one it is always freeCreation). */
  generatedContent: z.enum(generatedContents),
  /** Preset scene ids per agent (aimodel and aiproduct list their own). */
  locationId: z.object({ aimodel: presetId.optional(), aiproduct: presetId.optional() }).default({}),
})
export type WeshopSceneSettings = z.infer<typeof weshopSceneSettingsSchema>

export const weshopPersonaSettingsSchema = z.object({
  /** Replaces the persona's prompt in WeShop's `textDescription` (default: the persona's prompt). */
  textDescription: z.string().min(1).max(600).optional(),
  /** aimodel's preset fashion model. */
  fashionModelId: presetId.optional(),
})
export type WeshopPersonaSettings = z.infer<typeof weshopPersonaSettingsSchema>

/** Preset ids found with `GET /openapi/v1/agent/info`, by look id; they win over the tables below. */
export const weshopPresetIdsSchema = z.object({
  aimodel: z
    .object({
      locations: z.record(z.string(), presetId).default({}),
      fashionModels: z.record(z.string(), presetId).default({}),
    })
    .default({ locations: {}, fashionModels: {} }),
  aiproduct: z.object({ locations: z.record(z.string(), presetId).default({}) }).default({ locations: {} }),
})
export type WeshopPresetIds = z.infer<typeof weshopPresetIdsSchema>
export type WeshopPresetIdsInput = z.input<typeof weshopPresetIdsSchema>

// why originalImagePose everywhere: aimodel keeps the garment's pixels where
// they are; a new pose moves the body under a garment that does not move.
// why referToOrigin for the studio scenes: they are the photo's own light made
// cleaner, not a new place (it applies only once a preset id is set).
const studio = { pose: 'originalImagePose', generatedContent: 'referToOrigin' } as const
const elsewhere = { pose: 'originalImagePose', generatedContent: 'freeCreation' } as const

const sceneTable: Record<string, z.input<typeof weshopSceneSettingsSchema>> = {
  'studio-white': studio,
  'grey-seamless': studio,
  'warm-gradient': studio,
  'cream-minimal': studio,
  street: elsewhere,
  beach: elsewhere,
  'cafe-interior': elsewhere,
  loft: elsewhere,
  'magazine-cover': elsewhere,
}

// Every persona is described by its prompt until its preset model is known.
const personaTable: Record<string, z.input<typeof weshopPersonaSettingsSchema>> = Object.fromEntries(
  [
    'amara',
    'sofia',
    'mei',
    'hana',
    'seoyeon',
    'camille',
    'chloe',
    'ingrid',
    'grace',
    'lucia',
    'noor',
    'marcus',
    'kenji',
    'minho',
    'hao',
    'lukas',
    'omar',
    'rafael',
    'henri',
    'river',
    'jun',
  ].map((id) => [id, {}]),
)

/** The look ids this file maps (tests check they are exactly the looks' ids). */
export const mappedSceneIds = Object.keys(sceneTable)
export const mappedPersonaIds = Object.keys(personaTable)

export interface ResolvedScene {
  textDescription: string
  pose: WeshopSceneSettings['pose']
  generatedContent: WeshopSceneSettings['generatedContent']
  locationId: { aimodel?: number; aiproduct?: number }
}

export interface ResolvedPersona {
  textDescription: string
  fashionModelId?: number
}

export function sceneSettings(scene: Scene, presets?: WeshopPresetIds): ResolvedScene {
  const parsed = weshopSceneSettingsSchema.safeParse(sceneTable[scene.id])
  if (!parsed.success) {
    throw new AppError('INVALID_INPUT', `Scene "${scene.id}" has no usable WeShop settings:\n${z.prettifyError(parsed.error)}`, {
      details: { sceneId: scene.id, sceneVersion: scene.version },
    })
  }
  const s = parsed.data
  return {
    textDescription: s.textDescription ?? scene.prompt,
    pose: s.pose,
    generatedContent: s.generatedContent,
    locationId: {
      aimodel: presets?.aimodel.locations[scene.id] ?? s.locationId.aimodel,
      aiproduct: presets?.aiproduct.locations[scene.id] ?? s.locationId.aiproduct,
    },
  }
}

export function personaSettings(persona: Persona, presets?: WeshopPresetIds): ResolvedPersona {
  const parsed = weshopPersonaSettingsSchema.safeParse(personaTable[persona.id])
  if (!parsed.success) {
    throw new AppError(
      'INVALID_INPUT',
      `Persona "${persona.id}" has no usable WeShop settings:\n${z.prettifyError(parsed.error)}`,
      { details: { personaId: persona.id, personaVersion: persona.version } },
    )
  }
  const fashionModelId = presets?.aimodel.fashionModels[persona.id] ?? parsed.data.fashionModelId
  return { textDescription: parsed.data.textDescription ?? persona.prompt, ...(fashionModelId ? { fashionModelId } : {}) }
}

/** virtualtryon's output ratio nearest to a frame (it offers no 4:5: 3:4 is nearest). */
export function tryonAspectRatio(size: { width: number; height: number }): TryonAspectRatio {
  const target = Math.log(size.width / size.height)
  let best: TryonAspectRatio = '1:1'
  let distance = Infinity
  for (const ratio of tryonAspectRatios) {
    const [w, h] = ratio.split(':').map(Number)
    const d = Math.abs(Math.log(w / h) - target)
    if (d < distance) {
      distance = d
      best = ratio
    }
  }
  return best
}

/** The try-on ratio for a market's images (its aspect ratio, nearest WeShop offers). */
export function marketAspectRatio(market: Market): TryonAspectRatio {
  const [w, h] = market.aspectRatio.split(':').map(Number)
  return tryonAspectRatio({ width: w, height: h })
}
