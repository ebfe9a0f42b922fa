import type { BackendType } from '#app/modules/looks/schema.ts'
import { comfyuiType } from './comfyui/descriptor.ts'
import { cpuStudioType } from './cpu-studio/descriptor.ts'
import type { BackendTypeInfo } from './descriptor.ts'
import { sdwebuiType } from './sdwebui/descriptor.ts'
import { weshopType } from './weshop/descriptor.ts'

// Every backend type, one line each (how each is built: registry.server.ts).
// why the mapped type: a type in looks/schema.ts without its descriptor, or
// a descriptor under another type's key, fails the typecheck here.
const descriptors = {
  'cpu-studio': cpuStudioType,
  comfyui: comfyuiType,
  sdwebui: sdwebuiType,
  weshop: weshopType,
} satisfies { [T in BackendType]: BackendTypeInfo & { type: T } }

export const backendTypes: Readonly<Record<BackendType, BackendTypeInfo>> = descriptors

/** The types a merchant or operator connects in Settings (the CPU studio is built in). */
export type ConfigurableType = {
  [T in BackendType]: (typeof descriptors)[T]['configurable'] extends true ? T : never
}[BackendType]

export const configurableTypes = Object.values(backendTypes)
  .filter((d) => d.configurable)
  .map((d) => d.type) as readonly ConfigurableType[] as readonly [ConfigurableType, ...ConfigurableType[]]

export function isConfigurableType(type: string): type is ConfigurableType {
  return (configurableTypes as readonly string[]).includes(type)
}
