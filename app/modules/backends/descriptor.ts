import type { BackendType, Operation, Persona, Scene } from '#app/modules/looks/schema.ts'

// What a backend TYPE is, one descriptor per type in its own folder
// (<type>/descriptor.ts, listed in descriptors.ts): what it can do, how it
// realises looks, and what Settings asks to connect one. Safe for any module:
// how a backend is built is its server half (descriptor.server.ts).

export type HttpAuthScheme = 'bearer' | 'basic'

export interface BackendTypeInfo {
  type: BackendType
  /** Everything a backend of this type may be asked to do; a server or a merchant can narrow it. */
  operations: readonly Operation[]
  /** Whether the type generates people at all. */
  personas: boolean
  realisesScene(scene: Scene): boolean
  realisesPersona(persona: Persona): boolean
  /** Whether a merchant or operator connects one in Settings (the CPU studio is built in). */
  configurable: boolean
  /** Runs inside the worker process: no server to be down, and its slots are the workers'. */
  inProcess: boolean
  /** What Settings asks for: an optional HTTP auth for self-hosted servers, an API key for a hosted service. */
  credentials: 'none' | 'http-auth' | 'api-key'
  /** The HTTP auth schemes its client can send. */
  authSchemes: readonly HttpAuthScheme[]
  /** Whether the URL may be left empty (the service's public endpoint is the default). */
  urlOptional: boolean
}

/** Whether a backend's own look-settings module resolves the look (they throw when the mapping is missing or invalid). */
export function resolves(settings: () => unknown): boolean {
  try {
    settings()
    return true
  } catch {
    return false
  }
}
