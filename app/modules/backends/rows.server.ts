import { and, asc, eq, isNull, or } from 'drizzle-orm'
import { z } from 'zod'
import { decryptSecret, encryptSecret } from '#app/lib/crypto.server.ts'
import { db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { AppError, notFound } from '#app/lib/errors.ts'
import { assertPublicUrl, blockedBy } from '#app/lib/outbound.server.ts'
import type { Operation } from '#app/modules/looks/schema.ts'
import { backendConfigs, type BackendCheck, type BackendConfig } from '#db/schema.ts'
import { allowedOperations } from './capabilities.ts'
import { backendTypes, isConfigurableType, type ConfigurableType } from './descriptors.ts'

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
  /** Connect only to public addresses, checked at every connection (see publicOnly). */
  publicOnly: boolean
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
  return { id: configBackendId(row.id), type: row.type, url: row.url, credentials: readCredentials(row), publicOnly: publicOnly(row.tenantId) }
}

/** Whether a form still points at the row's server with the row's credentials (so a check of one is a check of the other). */
export function sameServer(row: BackendConfig, input: BackendConfigInput): boolean {
  const sameCredentials =
    input.credentials.action === 'keep' || (input.credentials.action === 'clear' && row.credentialsEnc === null)
  return row.type === input.type && row.url === input.url && sameCredentials
}

/** The spec a submitted form builds from ("Test connection", before or without saving); `existing` supplies kept credentials. */
export async function specOfInput(tenantId: string, input: BackendConfigInput, existing?: BackendConfig): Promise<BackendSpec> {
  // why no address check here: the test connects through the guard and reports a refused address in its result.
  await checkInput(tenantId, input, { addresses: false })
  const credentials =
    input.credentials.action === 'set'
      ? input.credentials.credentials
      : input.credentials.action === 'keep' && existing
        ? readCredentials(existing)
        : null
  return { id: `test-${existing?.id ?? 'new'}`, type: input.type, url: input.url, credentials, publicOnly: publicOnly(tenantId) }
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

async function checkInput(tenantId: string | null, input: BackendConfigInput, opts = { addresses: true }): Promise<void> {
  const info = backendTypes[input.type]
  if (input.operations.length === 0 || allowedOperations(input.type, input.operations).length !== input.operations.length) {
    throw new AppError('INVALID_INPUT', `A ${input.type} backend can do ${info.operations.join(', ')}`, {
      details: { field: 'operations' },
    })
  }
  if (!input.url && !info.urlOptional)
    throw new AppError('INVALID_INPUT', 'The server URL is required', { details: { field: 'url' } })
  if (input.url && opts.addresses && publicOnly(tenantId)) await assertPublicServer(input.url)
}

/**
 * Whether a backend may be reached only on public addresses. why only a
 * shop's own rows in Shopify mode: deployment rows come from the operator, and
 * a local install's GPUs, often on a private network; a shop's URL is typed by
 * anyone who installs the app and must not reach our network or cloud metadata.
 */
export function publicOnly(tenantId: string | null): boolean {
  return env().APP_MODE === 'shopify' && tenantId !== null
}

/**
 * Says before saving that a shop's server is private or unknown. The outbound
 * guard is what enforces it, at every connection; this is the early, friendly word.
 */
async function assertPublicServer(url: string): Promise<void> {
  try {
    await assertPublicUrl(url)
  } catch (e) {
    const host = new URL(url).hostname
    const blocked = blockedBy(e)
    if (!blocked) throw new AppError('INVALID_INPUT', `The server name "${host}" could not be found`, { details: { field: 'url' } })
    throw new AppError(
      'INVALID_INPUT',
      `"${host}" is a private or local address (${blocked.range}); a GPU server must be reachable from the internet`,
      { details: { field: 'url' } },
    )
  }
}
