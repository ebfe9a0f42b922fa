import { sharedGuard } from '#app/lib/outbound.server.ts'
import type { BackendTypeInfo } from './descriptor.ts'
import type { BackendSpec } from './rows.server.ts'
import type { Backend } from './types.ts'

// The server half of a backend type's descriptor (<type>/descriptor.server.ts,
// listed in registry.server.ts): how the deployment's environment and a stored
// config (a backend_configs row, a Settings form) become backends.

/** A backend that may hold something open (a ComfyUI WebSocket) until closed. */
export type Closable = Backend & { close?: () => Promise<void> | void }

export interface BackendDescriptor extends BackendTypeInfo {
  /** The deployment's own backends of this type, from the environment; nothing connects yet. */
  fromEnv(source?: Record<string, string | undefined>): Backend[]
  /** Builds one from a stored config; only configurable types have it. The caller closes it. */
  build?(spec: BackendSpec): Promise<Closable>
}

/** The outbound guard a stored config connects through: public addresses only, or none. */
export const guardFor = (publicOnly: boolean) => (publicOnly ? sharedGuard() : undefined)
