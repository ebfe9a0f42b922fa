import type { BackendDescriptor } from '../descriptor.server.ts'
import { createCpuStudioBackend } from './adapter.server.ts'
import { cpuStudioType } from './descriptor.ts'

/** Built into every process; nothing to configure. */
export const cpuStudioDescriptor: BackendDescriptor = {
  ...cpuStudioType,
  fromEnv: () => [createCpuStudioBackend()],
}
