import type { BackendTypeInfo } from '../descriptor.ts'
import { comfyuiPersonaSettingsSchema, comfyuiSceneSettingsSchema } from './look-settings.ts'
import { templates } from './templates.ts'

/** A ComfyUI server: what its workflow templates do, for every look with a valid `backends.comfyui` section. */
export const comfyuiType = {
  type: 'comfyui',
  operations: [...new Set(templates.map((t) => t.operation))],
  personas: templates.some((t) => t.persona === 'required'),
  realisesScene: (scene) => comfyuiSceneSettingsSchema.safeParse(scene.backends.comfyui).success,
  realisesPersona: (persona) => comfyuiPersonaSettingsSchema.safeParse(persona.backends.comfyui).success,
  configurable: true,
  inProcess: false,
  credentials: 'http-auth',
  authSchemes: ['bearer', 'basic'],
  urlOptional: false,
} satisfies BackendTypeInfo
