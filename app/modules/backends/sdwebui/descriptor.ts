import { resolves, type BackendTypeInfo } from '../descriptor.ts'
import { personaSettings, sceneSettings } from './look-settings.ts'

/**
 * An SD WebUI server. The operations are what the adapter implements (a test
 * keeps them equal to its capabilities()); a pooled backend may do these ∩
 * what its row allows.
 */
export const sdwebuiType = {
  type: 'sdwebui',
  operations: ['scene_swap', 'model_swap', 'product_scene'],
  personas: true,
  realisesScene: (scene) => resolves(() => sceneSettings(scene)),
  realisesPersona: (persona) => resolves(() => personaSettings(persona)),
  configurable: true,
  inProcess: false,
  credentials: 'http-auth',
  // why basic only: SD WebUI's --api-auth is HTTP basic auth.
  authSchemes: ['basic'],
  urlOptional: false,
} satisfies BackendTypeInfo
