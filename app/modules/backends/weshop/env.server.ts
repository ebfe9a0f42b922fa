import { z } from 'zod'
import { personas } from '#app/modules/looks/personas.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import { createWeshopBackend, type WeshopBackend } from './adapter.server.ts'
import { WESHOP_BASE_URL } from './client.server.ts'
import { weshopPresetIdsSchema, type WeshopPresetIds } from './look-settings.ts'

// The deployment's WeShop settings, read here rather than in
// app/lib/env.server.ts so the backend module owns them:
//   WESHOP_BASE_URL    default https://openapi.weshop.ai. WeShop asks that its key
//                      go to that host only; anything else must be a loopback
//                      address (the test fake).
//   WESHOP_PRESET_IDS  JSON preset ids by look id, from GET /openapi/v1/agent/info:
//                      {"aimodel": {"locations": {"beach": 12}, "fashionModels": {"amara": 34}},
//                       "aiproduct": {"locations": {"studio-white": 56}}}
// A deployment-wide key is WESHOP_API_KEY; a tenant's own is stored
// encrypted (stored-key.server.ts).

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

const weshopEnvSchema = z.object({
  WESHOP_BASE_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .default(WESHOP_BASE_URL)
    .transform((value) => value.replace(/\/+$/, ''))
    .refine((value) => value === WESHOP_BASE_URL || LOOPBACK.has(new URL(value).hostname), {
      error: `must be ${WESHOP_BASE_URL} (the API key may go to WeShop's host only) or a loopback address`,
    }),
  WESHOP_PRESET_IDS: z
    .string()
    .default('{}')
    .transform((value, ctx) => {
      try {
        return JSON.parse(value) as unknown
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' })
        return z.NEVER
      }
    })
    .pipe(weshopPresetIdsSchema),
})

export interface WeshopConfig {
  baseUrl: string
  presets: WeshopPresetIds
}

export function weshopConfig(source: Record<string, string | undefined> = process.env): WeshopConfig {
  const parsed = weshopEnvSchema.safeParse({
    WESHOP_BASE_URL: source.WESHOP_BASE_URL || undefined,
    WESHOP_PRESET_IDS: source.WESHOP_PRESET_IDS || undefined,
  })
  const issues = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
  if (parsed.success) {
    // why: a preset id under a look id we don't have is a typo that would silently do nothing.
    const sceneIds = new Set(scenes.map((s) => s.id))
    const personaIds = new Set(personas.map((p) => p.id))
    const { aimodel, aiproduct } = parsed.data.WESHOP_PRESET_IDS
    for (const [where, ids, known] of [
      ['aimodel.locations', aimodel.locations, sceneIds],
      ['aimodel.fashionModels', aimodel.fashionModels, personaIds],
      ['aiproduct.locations', aiproduct.locations, sceneIds],
    ] as const) {
      for (const lookId of Object.keys(ids))
        if (!known.has(lookId)) issues.push(`WESHOP_PRESET_IDS.${where}: unknown look id "${lookId}"`)
    }
  }
  if (!parsed.success || issues.length > 0) {
    throw new Error(`Invalid environment configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`)
  }
  return { baseUrl: parsed.data.WESHOP_BASE_URL, presets: parsed.data.WESHOP_PRESET_IDS }
}

/** A deployment-wide WeShop account (WESHOP_API_KEY); shops can also connect their own key in Settings. */
export function weshopBackendsFromEnv(source: Record<string, string | undefined> = process.env): WeshopBackend[] {
  if (!source.WESHOP_API_KEY) return []
  const config = weshopConfig(source)
  // why a function: the key is read per request and never kept on the backend object (logs, JSON).
  return [
    createWeshopBackend({
      id: 'weshop',
      apiKey: () => process.env.WESHOP_API_KEY ?? '',
      baseUrl: config.baseUrl,
      presets: config.presets,
    }),
  ]
}
