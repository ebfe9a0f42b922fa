import { z } from 'zod'

// Looks are versioned data. A render records the id AND version of each part
// it used, so it can be reproduced after a look changes. Bump `version` on any
// change that alters pixels.

export const operations = ['scene_swap', 'model_swap', 'mannequin_to_model', 'tryon', 'product_scene'] as const
export const operationSchema = z.enum(operations)
export type Operation = z.infer<typeof operationSchema>

export const backendTypes = ['cpu-studio', 'comfyui', 'sdwebui', 'weshop'] as const
export const backendTypeSchema = z.enum(backendTypes)
export type BackendType = z.infer<typeof backendTypeSchema>

const id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'ids are lower-case kebab-case')
const rgb = z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)])
/** i18n key into the locale files, e.g. `looks.persona.amara.name`. */
const i18nKey = z.string().regex(/^[a-zA-Z0-9_.-]+$/)

export const personaSchema = z.object({
  id,
  version: z.number().int().positive(),
  nameKey: i18nKey,
  presentation: z.enum(['feminine', 'masculine', 'androgynous']),
  ageBand: z.enum(['18-24', '25-34', '35-44', '45-54', '55+']),
  skinTone: z.enum(['I', 'II', 'III', 'IV', 'V', 'VI']), // Fitzpatrick scale
  bodySize: z.enum(['XS', 'S', 'M', 'L', 'XL', '2XL', '3XL']),
  hair: z.string().min(1),
  /** Swatch for the visual card (the CPU backend cannot render people). */
  swatch: rgb,
  /** How GPU backends realise this persona. */
  prompt: z.string().min(1),
  backends: z.partialRecord(backendTypeSchema, z.record(z.string(), z.unknown())).default({}),
})
export type Persona = z.infer<typeof personaSchema>

export const sceneBackgroundSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('solid'), color: rgb }),
  z.object({ kind: z.literal('linear'), from: rgb, to: rgb, angle: z.number().min(0).max(360) }),
  z.object({ kind: z.literal('radial'), inner: rgb, outer: rgb }),
  z.object({
    kind: z.literal('procedural'),
    /** Named generators the CPU backend knows (street, beach, cafe, loft, magazine). */
    generator: z.enum(['street', 'beach', 'cafe', 'loft', 'magazine']),
    palette: z.array(rgb).min(2),
  }),
])

export const cpuStudioSceneSchema = z.object({
  background: sceneBackgroundSchema,
  /** Product height as a share of the canvas height. */
  productScale: z.number().min(0.2).max(0.95),
  /** Vertical anchor of the product's bottom edge, share of canvas height. */
  floorY: z.number().min(0.5).max(1),
  shadow: z.object({ opacity: z.number().min(0).max(1), blur: z.number().min(0), offsetY: z.number() }),
  /** Light matching: how far the product's white point moves toward the scene's light (0 = none). */
  lightMatch: z.number().min(0).max(0.3),
  lightColor: rgb,
})
export type CpuStudioScene = z.infer<typeof cpuStudioSceneSchema>

export const sceneSchema = z.object({
  id,
  version: z.number().int().positive(),
  nameKey: i18nKey,
  category: z.enum(['studio', 'outdoor', 'indoor', 'lifestyle', 'editorial']),
  /** Preview swatch/gradient for the visual card. */
  preview: z.object({ from: rgb, to: rgb }),
  prompt: z.string().min(1),
  backends: z.object({
    'cpu-studio': cpuStudioSceneSchema.optional(),
    comfyui: z.record(z.string(), z.unknown()).optional(),
    sdwebui: z.record(z.string(), z.unknown()).optional(),
    weshop: z.record(z.string(), z.unknown()).optional(),
  }),
})
export type Scene = z.infer<typeof sceneSchema>

export const aspectRatioSchema = z.enum(['1:1', '3:4', '4:5', '2:3', '9:16'])
export type AspectRatio = z.infer<typeof aspectRatioSchema>

export const marketSchema = z.object({
  id,
  version: z.number().int().positive(),
  nameKey: i18nKey,
  country: z.string().regex(/^[A-Z]{2}$/),
  flag: z.string().min(1),
  defaultPersonas: z.array(id).min(1),
  defaultScenes: z.array(id).min(1),
  aspectRatio: aspectRatioSchema,
  /** BCP 47 language for alt text on this market. */
  altTextLanguage: z.string().regex(/^[a-z]{2}(-[A-Z][a-zA-Z]{1,3})?$/),
})
export type Market = z.infer<typeof marketSchema>

/** The three parts of a look, as chosen by a merchant. */
export const lookChoiceSchema = z.object({
  personaId: id.nullable(),
  marketId: id,
  sceneId: id,
})
export type LookChoice = z.infer<typeof lookChoiceSchema>

/** A resolved look with exact versions: what a render stores. */
export interface ResolvedLook {
  persona: Persona | null
  market: Market
  scene: Scene
}

/**
 * Validates one kind of look data at module load. why: a bad edit to the data
 * files must fail at start-up with the look's id named, not deep inside a render.
 */
export function parseLookData<S extends z.ZodType>(kind: string, schema: S, raw: readonly unknown[]): readonly z.output<S>[] {
  const seen = new Set<string>()
  const parsed = raw.map((item, index) => {
    const label = lookLabel(item, index)
    const result = schema.safeParse(item)
    if (!result.success) throw new Error(`Invalid ${kind} ${label}:\n${z.prettifyError(result.error)}`)
    if (seen.has(label)) throw new Error(`Duplicate ${kind} id ${label}`)
    seen.add(label)
    return result.data
  })
  return Object.freeze(parsed)
}

function lookLabel(item: unknown, index: number): string {
  const id = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined
  return typeof id === 'string' ? `"${id}"` : `#${index} (no id)`
}
