import { resolves, type BackendTypeInfo } from '../descriptor.ts'
import { personaSettings, sceneSettings } from './look-settings.ts'

/** WeShop's hosted API: a shop's own API key, WeShop's public endpoint unless a URL is given. */
export const weshopType = {
  type: 'weshop',
  operations: ['scene_swap', 'model_swap', 'mannequin_to_model', 'tryon', 'product_scene'],
  personas: true,
  realisesScene: (scene) => resolves(() => sceneSettings(scene)),
  realisesPersona: (persona) => resolves(() => personaSettings(persona)),
  configurable: true,
  inProcess: false,
  credentials: 'api-key',
  authSchemes: [],
  urlOptional: true,
} satisfies BackendTypeInfo
