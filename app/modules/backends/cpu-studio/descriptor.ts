import type { BackendTypeInfo } from '../descriptor.ts'

// why a copy of the adapter's operations and not an import: the adapter loads
// sharp; descriptors are read without it (a test keeps the two equal).

/** The built-in studio: every scene through its painted backdrop, never a person. */
export const cpuStudioType = {
  type: 'cpu-studio',
  operations: ['product_scene', 'scene_swap'],
  personas: false,
  realisesScene: (scene) => scene.backends['cpu-studio'] !== undefined,
  realisesPersona: () => false,
  configurable: false,
  inProcess: true,
  credentials: 'none',
  authSchemes: [],
  urlOptional: true,
} satisfies BackendTypeInfo
