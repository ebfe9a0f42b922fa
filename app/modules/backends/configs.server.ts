import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'
import { and, asc, eq, isNull, or } from 'drizzle-orm'
import { z } from 'zod'
import { decryptSecret, encryptSecret } from '#app/lib/crypto.server.ts'
import { db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { AppError, notFound } from '#app/lib/errors.ts'
import type { Operation } from '#app/modules/looks/schema.ts'
import { backendConfigs, type BackendCheck, type BackendConfig } from '#db/schema.ts'
import { allowedOperations, backendTypes, isConfigurableType, type ConfigurableType } from './capabilities.ts'

// The GPU backends a deployment (tenant_id null) or a shop connected in
// Settings: the only module that reads or writes backend_configs. Credentials
// are stored encrypted (crypto.server.ts) and decrypted only by
// readCredentials(), which the pool calls when it constructs a backend.

export const credentialsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('bearer'), token: z.string().min(1) }),
  z.object({ kind: z.literal('basic'), username: z.string().min(1), password: z.string() }),
  z.object({ kind: z.literal('apiKey'), apiKey: z.string().min(1) }),
])
export type BackendCredentials = z.infer<typeof credentialsSchema>

/** What an edit does to the stored secret: a stored one is only replaced when a new value was typed. */
export type CredentialsChange = { action: 'keep' } | { action: 'clear' } | { action: 'set'; credentials: BackendCredentials }

export interface BackendConfigInput {
  type: ConfigurableType
  name: string
  /** Empty for a hosted service's default endpoint (WeShop). */
  url: string
  slots: number
  operations: Operation[]
  costPerSecond: number
  enabled: boolean
  credentials: CredentialsChange
}

/** What a backend is built from: decrypted credentials, never stored or sent anywhere else. */
export interface BackendSpec {
  /** The pool's backend id (`cfg-<row id>`, or a throwaway id for a test connection). */
  id: string
  type: ConfigurableType
  url: string
  credentials: BackendCredentials | null
}

/** A row as pages may show it: no credentials, only whether some are stored. */
export interface BackendConfigView {
  id: string
  backendId: string
  scope: 'shop' | 'deployment'
  type: string
  name: string
  url: string
  slots: number
  operations: string[]
  costPerSecond: number
  enabled: boolean
  credentialsSet: boolean
  lastCheck: BackendCheck | null
  updatedAt: string
}

export const configBackendId = (configId: string) => `cfg-${configId}`

export function toBackendConfigView(row: BackendConfig): BackendConfigView {
  return {
    id: row.id,
    backendId: configBackendId(row.id),
    scope: row.tenantId === null ? 'deployment' : 'shop',
    type: row.type,
    name: row.name,
    url: row.url,
    slots: row.slots,
    operations: row.operations,
    costPerSecond: row.costPerSecond,
    enabled: row.enabled,
    credentialsSet: row.credentialsEnc !== null,
    lastCheck: row.lastCheck ?? null,
    updatedAt: row.updatedAt.toISOString(),
  }
}

/** The shop's own rows and the deployment's (read-only to a shop), oldest first. */
export async function listBackendConfigs(tenantId: string): Promise<{ shop: BackendConfig[]; deployment: BackendConfig[] }> {
  const rows = await db()
    .select()
    .from(backendConfigs)
    .where(or(isNull(backendConfigs.tenantId), eq(backendConfigs.tenantId, tenantId)))
    .orderBy(asc(backendConfigs.createdAt), asc(backendConfigs.name))
  return { shop: rows.filter((r) => r.tenantId !== null), deployment: rows.filter((r) => r.tenantId === null) }
}

/** One of the shop's own rows; another shop's id, a deployment row or a malformed id is not found. */
export async function getBackendConfig(tenantId: string, id: string): Promise<BackendConfig> {
  if (!z.uuid().safeParse(id).success) throw notFound('Backend')
  const row = await db().query.backendConfigs.findFirst({
    where: and(eq(backendConfigs.id, id), eq(backendConfigs.tenantId, tenantId)),
  })
  if (!row) throw notFound('Backend')
  return row
}

/** Enabled rows: the deployment's plus one shop's (`tenantId`), or every shop's (`'all'`, for health checks). */
export async function enabledBackendConfigs(scope: string | null | 'all'): Promise<BackendConfig[]> {
  const where =
    scope === 'all'
      ? eq(backendConfigs.enabled, true)
      : and(
          eq(backendConfigs.enabled, true),
          scope === null
            ? isNull(backendConfigs.tenantId)
            : or(isNull(backendConfigs.tenantId), eq(backendConfigs.tenantId, scope)),
        )
  return db().select().from(backendConfigs).where(where).orderBy(asc(backendConfigs.createdAt), asc(backendConfigs.id))
}

/** Decrypts a row's credentials. Only for constructing its backend: never log, return or store the result. */
export function readCredentials(row: Pick<BackendConfig, 'id' | 'credentialsEnc'>): BackendCredentials | null {
  if (row.credentialsEnc === null) return null
  let raw: unknown
  try {
    raw = JSON.parse(decryptSecret(row.credentialsEnc))
  } catch (e) {
    if (e instanceof AppError) throw e
    raw = undefined
  }
  const parsed = credentialsSchema.safeParse(raw)
  // why no zod message: it could quote the secret it failed to read.
  if (!parsed.success)
    throw new AppError('INTERNAL', `The stored credentials of backend ${row.id} are unreadable; enter them again.`)
  return parsed.data
}

/** The spec a row builds from. */
export function specOf(row: BackendConfig): BackendSpec {
  if (!isConfigurableType(row.type)) throw new AppError('INVALID_INPUT', `Backend type "${row.type}" cannot be configured`)
  return { id: configBackendId(row.id), type: row.type, url: row.url, credentials: readCredentials(row) }
}

/** Whether a form still points at the row's server with the row's credentials (so a check of one is a check of the other). */
export function sameServer(row: BackendConfig, input: BackendConfigInput): boolean {
  const sameCredentials =
    input.credentials.action === 'keep' || (input.credentials.action === 'clear' && row.credentialsEnc === null)
  return row.type === input.type && row.url === input.url && sameCredentials
}

/** The spec a submitted form builds from ("Test connection", before or without saving); `existing` supplies kept credentials. */
export async function specOfInput(tenantId: string, input: BackendConfigInput, existing?: BackendConfig): Promise<BackendSpec> {
  await checkInput(tenantId, input)
  const credentials =
    input.credentials.action === 'set'
      ? input.credentials.credentials
      : input.credentials.action === 'keep' && existing
        ? readCredentials(existing)
        : null
  return { id: `test-${existing?.id ?? 'new'}`, type: input.type, url: input.url, credentials }
}

function encodeCredentials(change: CredentialsChange, current: string | null): string | null {
  if (change.action === 'keep') return current
  if (change.action === 'clear') return null
  return encryptSecret(JSON.stringify(change.credentials))
}

export async function createBackendConfig(tenantId: string | null, input: BackendConfigInput): Promise<BackendConfig> {
  await checkInput(tenantId, input)
  const [row] = await db()
    .insert(backendConfigs)
    .values({
      tenantId,
      type: input.type,
      name: input.name,
      url: input.url,
      credentialsEnc: encodeCredentials(input.credentials, null),
      slots: input.slots,
      operations: allowedOperations(input.type, input.operations),
      costPerSecond: input.costPerSecond,
      enabled: input.enabled,
    })
    .returning()
    .catch(nameTaken(input.name))
  return row
}

export async function updateBackendConfig(tenantId: string, id: string, input: BackendConfigInput): Promise<BackendConfig> {
  const current = await getBackendConfig(tenantId, id)
  await checkInput(tenantId, input)
  const credentialsEnc = encodeCredentials(input.credentials, current.credentialsEnc)
  const [row] = await db()
    .update(backendConfigs)
    .set({
      type: input.type,
      name: input.name,
      url: input.url,
      credentialsEnc,
      slots: input.slots,
      operations: allowedOperations(input.type, input.operations),
      costPerSecond: input.costPerSecond,
      enabled: input.enabled,
      // why: a check of another server (or with other credentials) says nothing about this one.
      lastCheck: sameServer(current, input) ? current.lastCheck : null,
      updatedAt: new Date(),
    })
    .where(and(eq(backendConfigs.id, id), eq(backendConfigs.tenantId, tenantId)))
    .returning()
    .catch(nameTaken(input.name))
  if (!row) throw notFound('Backend')
  return row
}

export async function deleteBackendConfig(tenantId: string, id: string): Promise<void> {
  await getBackendConfig(tenantId, id)
  await db()
    .delete(backendConfigs)
    .where(and(eq(backendConfigs.id, id), eq(backendConfigs.tenantId, tenantId)))
}

/** Records a health check or test connection. why not updatedAt: that would make the pool rebuild the backend. */
export async function saveBackendCheck(id: string, check: BackendCheck): Promise<void> {
  await db().update(backendConfigs).set({ lastCheck: check }).where(eq(backendConfigs.id, id))
}

function nameTaken(name: string) {
  return (e: unknown): never => {
    const code = (e as { code?: string }).code ?? (e as { cause?: { code?: string } }).cause?.code
    if (code === '23505') {
      throw new AppError('INVALID_INPUT', `A backend named "${name}" already exists`, { details: { field: 'name' } })
    }
    throw e
  }
}

async function checkInput(tenantId: string | null, input: BackendConfigInput): Promise<void> {
  const info = backendTypes[input.type]
  if (input.operations.length === 0 || allowedOperations(input.type, input.operations).length !== input.operations.length) {
    throw new AppError('INVALID_INPUT', `A ${input.type} backend can do ${info.operations.join(', ')}`, {
      details: { field: 'operations' },
    })
  }
  if (!input.url && !info.urlOptional)
    throw new AppError('INVALID_INPUT', 'The server URL is required', { details: { field: 'url' } })
  // why only a shop's own rows: deployment rows come from the operator, whose GPUs often sit on a private network.
  if (input.url && tenantId !== null) await assertPublicServer(input.url)
}

const privateRanges = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  privateRanges.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  privateRanges.addSubnet(net, prefix, 'ipv6')

/** Loopback, private, link-local (cloud metadata), carrier-grade NAT, multicast or unspecified. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1]
  if (mapped) return isPrivateAddress(mapped)
  const family = isIP(address)
  if (family === 0) return true
  return privateRanges.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/**
 * In Shopify mode a shop's server must be on the public internet. why: the
 * app fetches whatever URL a merchant types ("Test connection", renders),
 * and must not become a way to reach our own network or cloud metadata.
 * A name is resolved once here; the server itself is trusted after that.
 */
async function assertPublicServer(url: string): Promise<void> {
  if (env().APP_MODE !== 'shopify') return
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  let addresses: string[]
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address)
  } catch {
    throw new AppError('INVALID_INPUT', `The server name "${host}" could not be found`, { details: { field: 'url' } })
  }
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) {
    throw new AppError(
      'INVALID_INPUT',
      `"${host}" is a private or local address; a GPU server must be reachable from the internet`,
      {
        details: { field: 'url' },
      },
    )
  }
}
