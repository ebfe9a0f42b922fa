import { AppError } from '#app/lib/errors.ts'
import { altTextGrammars } from './alt-text.ts'
import { markets } from './markets.ts'
import { personas } from './personas.ts'
import { scenes } from './scenes.ts'
import {
  lookChoiceSchema,
  type AspectRatio,
  type LookChoice,
  type Market,
  type Persona,
  type ResolvedLook,
  type Scene,
} from './schema.ts'

export { altText, resolveAltTextLanguage } from './alt-text.ts'
export { markets, personas, scenes }

/** What the look picker shows of every market, persona and scene (a page's loader sends it). */
export function lookOptions() {
  return {
    markets: markets.map((m) => ({ id: m.id, nameKey: m.nameKey, country: m.country, defaultScenes: m.defaultScenes, aspectRatio: m.aspectRatio })),
    personas: personas.map((p) => ({ id: p.id, nameKey: p.nameKey, swatch: p.swatch, bodySize: p.bodySize, ageBand: p.ageBand })),
    scenes: scenes.map((s) => ({ id: s.id, nameKey: s.nameKey, preview: s.preview, category: s.category })),
  }
}

const personaById = new Map(personas.map((p) => [p.id, p]))
const marketById = new Map(markets.map((m) => [m.id, m]))
const sceneById = new Map(scenes.map((s) => [s.id, s]))

// why: the data files are validated one by one; references between them
// (a market's defaults, alt-text phrases per scene) are checked here, at load,
// so a typo fails start-up with the id named instead of a render at 3 a.m.
function checkReferences(): void {
  const problems: string[] = []
  for (const m of markets) {
    for (const id of m.defaultPersonas)
      if (!personaById.has(id)) problems.push(`market "${m.id}": unknown default persona "${id}"`)
    for (const id of m.defaultScenes) if (!sceneById.has(id)) problems.push(`market "${m.id}": unknown default scene "${id}"`)
  }
  for (const s of scenes) {
    if (!s.backends['cpu-studio']) problems.push(`scene "${s.id}": missing cpu-studio settings`)
    for (const [lang, grammar] of Object.entries(altTextGrammars)) {
      if (!grammar.scenes[s.id]) problems.push(`scene "${s.id}": no alt-text phrase for "${lang}"`)
    }
  }
  if (problems.length > 0) throw new Error(`Invalid look data:\n  - ${problems.join('\n  - ')}`)
}
checkReferences()

function unknownLook(kind: 'persona' | 'market' | 'scene', id: string): AppError {
  return new AppError('LOOK_UNKNOWN', `Unknown ${kind} "${id}"`, { details: { kind, id } })
}

export function getPersona(id: string): Persona {
  const persona = personaById.get(id)
  if (!persona) throw unknownLook('persona', id)
  return persona
}

export function getMarket(id: string): Market {
  const market = marketById.get(id)
  if (!market) throw unknownLook('market', id)
  return market
}

export function getScene(id: string): Scene {
  const scene = sceneById.get(id)
  if (!scene) throw unknownLook('scene', id)
  return scene
}

/** Turns a merchant's choice into the exact look data (and versions) a render uses. */
export function resolveLook(choice: LookChoice): ResolvedLook {
  const parsed = lookChoiceSchema.safeParse(choice)
  if (!parsed.success) {
    throw new AppError('INVALID_INPUT', 'A look needs a market, a scene and an optional persona', { cause: parsed.error })
  }
  const { personaId, marketId, sceneId } = parsed.data
  return {
    persona: personaId === null ? null : getPersona(personaId),
    market: getMarket(marketId),
    scene: getScene(sceneId),
  }
}

/** The one-click look for a market: its first default persona and scene. */
export function defaultLookChoice(marketId: string): LookChoice {
  const market = getMarket(marketId)
  return { personaId: market.defaultPersonas[0], marketId: market.id, sceneId: market.defaultScenes[0] }
}

export interface LookVersions {
  personaId: string | null
  personaVersion: number | null
  marketId: string
  marketVersion: number
  sceneId: string
  sceneVersion: number
}

/** What a render records so it can be reproduced after the look data changes. */
export function lookVersions(look: ResolvedLook): LookVersions {
  return {
    personaId: look.persona?.id ?? null,
    personaVersion: look.persona?.version ?? null,
    marketId: look.market.id,
    marketVersion: look.market.version,
    sceneId: look.scene.id,
    sceneVersion: look.scene.version,
  }
}

const toEven = (n: number) => Math.max(2, Math.round(n / 2) * 2)

/**
 * Output size for an aspect ratio with the long edge at `maxEdge`. why even:
 * 4:2:0 chroma subsampling (JPEG, WebP, video encoders) needs even dimensions,
 * and odd ones get silently padded or cropped by a pixel.
 */
export function outputSize(aspect: AspectRatio, maxEdge: number): { width: number; height: number } {
  if (!Number.isFinite(maxEdge) || maxEdge < 2) {
    throw new AppError('INVALID_INPUT', `Output edge must be at least 2 px, got ${maxEdge}`)
  }
  const [w, h] = aspect.split(':').map(Number)
  const long = Math.floor(maxEdge / 2) * 2
  const short = toEven((long * Math.min(w, h)) / Math.max(w, h))
  return w >= h ? { width: long, height: short } : { width: short, height: long }
}

/** i18n keys describing a persona on its card (presentation, age, skin tone, size). */
export function personaTraitKeys(persona: Persona): string[] {
  return [
    `looks.presentation.${persona.presentation}`,
    `looks.ageBand.${persona.ageBand}`,
    `looks.skinTone.${persona.skinTone}`,
    `looks.bodySize.${persona.bodySize}`,
  ]
}
