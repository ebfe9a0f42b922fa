import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  primaryKey,
  pgTable,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'

export const platformEnum = pgEnum('platform', ['shopify', 'taobao', 'local'])

export const renderStatusEnum = pgEnum('render_status', [
  'queued',
  'running',
  'retrying',
  'succeeded',
  'failed',
  'canceled',
])

export const reviewStateEnum = pgEnum('review_state', [
  'pending',
  'approved',
  'rejected',
  'published',
  'unpublished',
  'publish_failed',
])

export const tenants = pgTable(
  'tenants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    platform: platformEnum('platform').notNull(),
    externalId: text('external_id').notNull(),
    displayName: text('display_name').notNull(),
    settings: jsonb('settings').$type<TenantSettings>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    uninstalledAt: timestamp('uninstalled_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('tenants_platform_external_id').on(t.platform, t.externalId)],
)

export interface TenantSettings {
  locale?: 'en' | 'zh-CN'
  /** Renders that pass the gate with at least this fidelity score are approved without review. */
  autoApproveAbove?: number
  defaultMarketId?: string
  variantsPerRender?: number
  /** Local mode: the catalog folder this tenant's products live in (default CATALOG_DIR). */
  catalogDir?: string
}

/**
 * A browser's login to the standalone app (Taobao): the cookie holds a random
 * id, the row its SHA-256, so a database read never yields a usable cookie.
 */
export const appSessions = pgTable(
  'app_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('app_sessions_tenant').on(t.tenantId)],
)

/**
 * A Taobao seller's OAuth grant: the tokens encrypted (crypto.server.ts), and
 * when each lapses. The access token is the TOP `session`; `w1`/`r1` bound
 * normal writes and reads, the refresh token renews until `refreshExpiresAt`.
 */
export const taobaoGrants = pgTable('taobao_grants', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenants.id, { onDelete: 'cascade' }),
  accessToken: text('access_token').notNull(),
  refreshToken: text('refresh_token'),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  w1ExpiresAt: timestamp('w1_expires_at', { withTimezone: true }),
  r1ExpiresAt: timestamp('r1_expires_at', { withTimezone: true }),
  refreshExpiresAt: timestamp('refresh_expires_at', { withTimezone: true }),
  nick: text('nick').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
})

// The table @shopify/shopify-app-session-storage-drizzle reads and writes.
// Column names are the package's (camelCase), not ours.
export const sessionTable = pgTable('session', {
  id: text('id').primaryKey(),
  shop: text('shop').notNull(),
  state: text('state').notNull(),
  isOnline: boolean('isOnline').default(false).notNull(),
  scope: text('scope'),
  expires: timestamp('expires', { mode: 'date' }),
  accessToken: text('accessToken').notNull(),
  userId: bigint('userId', { mode: 'number' }),
  firstName: text('firstName'),
  lastName: text('lastName'),
  email: text('email'),
  accountOwner: boolean('accountOwner'),
  locale: text('locale'),
  collaborator: boolean('collaborator'),
  emailVerified: boolean('emailVerified'),
  refreshToken: text('refreshToken'),
  refreshTokenExpires: timestamp('refreshTokenExpires', { mode: 'date' }),
})

export interface FidelityReason {
  /** i18n key under fidelity.reason.* */
  code:
    | 'colour_shifted'
    | 'detail_lost'
    | 'edge_changed'
    | 'product_cut_off'
    | 'structure_changed'
    | 'part_changed'
    | 'print_colour_changed'
    | 'print_warped'
    | 'shape_changed'
  /** How strong, 0..1, for ordering. */
  severity: number
  /** Where on the result image (fractions of width/height), when known. */
  region?: { x: number; y: number; width: number; height: number }
}

export interface FidelityMetrics {
  version: number
  ssim: number
  deltaEMean: number
  deltaEP95: number
  maskCoverage: number
  [extra: string]: unknown
}

/** What a variant varied (app/modules/looks/variation.ts `AppliedVariation`). */
export interface RenderVariation {
  light: 'front' | 'left' | 'right'
  framing?: { position: 'centre' | 'left' | 'right'; size: 'standard' | 'wide' | 'wider' }
}

export const renders = pgTable(
  'renders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    // why: a stable hash of (tenant, product, source sha256, look versions,
    // operation, seed) so a double click or a re-run never renders twice.
    idempotencyKey: text('idempotency_key').notNull(),
    batchId: uuid('batch_id'),
    productRef: text('product_ref').notNull(),
    productTitle: text('product_title').notNull(),
    sourceImageRef: text('source_image_ref').notNull(),
    sourceSha256: text('source_sha256').notNull(),
    sourceKey: text('source_key').notNull(),
    maskKey: text('mask_key'),
    operation: text('operation').notNull(),
    personaId: text('persona_id'),
    personaVersion: integer('persona_version'),
    marketId: text('market_id').notNull(),
    marketVersion: integer('market_version').notNull(),
    sceneId: text('scene_id').notNull(),
    sceneVersion: integer('scene_version').notNull(),
    /** Set when the platform says the source image is gone (products/update, products/delete). */
    sourceMissingAt: timestamp('source_missing_at', { withTimezone: true }),
    backend: text('backend').notNull(),
    workflow: text('workflow'),
    seed: bigint('seed', { mode: 'number' }).notNull(),
    /** What this variant varied, as its backend expressed it (looks/variation.ts); null before it finished. */
    variation: jsonb('variation').$type<RenderVariation>(),
    outputWidth: integer('output_width').notNull(),
    outputHeight: integer('output_height').notNull(),
    status: renderStatusEnum('status').notNull().default('queued'),
    progress: integer('progress').notNull().default(0),
    progressMessage: text('progress_message'),
    resultKey: text('result_key'),
    fidelity: jsonb('fidelity').$type<FidelityMetrics>(),
    fidelityScore: real('fidelity_score'),
    reviewState: reviewStateEnum('review_state').notNull().default('pending'),
    /** The QA gate: did the kept attempt reach FIDELITY_THRESHOLD, after how many re-renders. */
    gatePassed: boolean('gate_passed'),
    gateRetries: integer('gate_retries').notNull().default(0),
    /** Why a render needs the merchant's eyes, as reason codes (i18n keys) with where on the image. */
    reviewReasons: jsonb('review_reasons').$type<FidelityReason[]>().notNull().default([]),
    queuedAt: timestamp('queued_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    backendMs: integer('backend_ms'),
    attempts: integer('attempts').notNull().default(0),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    /** Why the backend failed it, in the connection test's words (backends.checkReason.*), when that is known. */
    errorReason: text('error_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('renders_tenant_idempotency').on(t.tenantId, t.idempotencyKey),
    index('renders_tenant_product').on(t.tenantId, t.productRef, t.createdAt),
    index('renders_tenant_status').on(t.tenantId, t.status),
    check('renders_progress_range', sql`${t.progress} between 0 and 100`),
  ],
)

export const publications = pgTable(
  'publications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    renderId: uuid('render_id')
      .notNull()
      .references(() => renders.id, { onDelete: 'cascade' }),
    platform: platformEnum('platform').notNull(),
    productRef: text('product_ref').notNull(),
    /** The platform's id of what we added (media id, file name); null until it exists. */
    externalId: text('external_id'),
    altText: text('alt_text').notNull(),
    // why: a publish is several platform calls (staged upload, attach, wait
    // for READY); each step is recorded so a retry or a killed worker resumes
    // instead of creating a second image.
    state: text('state', { enum: ['pending', 'live', 'failed', 'undone'] }).notNull().default('pending'),
    steps: jsonb('steps').$type<Record<string, unknown>>().notNull().default({}),
    publishedAt: timestamp('published_at', { withTimezone: true }).notNull().defaultNow(),
    undoneAt: timestamp('undone_at', { withTimezone: true }),
  },
  (t) => [
    // why: at most one live publication per render, whatever retries happen.
    uniqueIndex('publications_live_render').on(t.renderId).where(sql`${t.undoneAt} is null`),
    index('publications_tenant').on(t.tenantId, t.publishedAt),
  ],
)

export const usageLedger = pgTable(
  'usage_ledger',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    renderId: uuid('render_id').references(() => renders.id, { onDelete: 'set null' }),
    kind: text('kind').notNull(),
    backend: text('backend').notNull(),
    units: integer('units').notNull().default(1),
    backendMs: integer('backend_ms').notNull().default(0),
    idempotencyKey: text('idempotency_key').notNull(),
    /** Platform charge (Shopify usage record) for this row, once made. */
    chargeExternalId: text('charge_external_id'),
    chargedAt: timestamp('charged_at', { withTimezone: true }),
    amount: real('amount'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('usage_ledger_idempotency').on(t.tenantId, t.idempotencyKey),
    index('usage_ledger_tenant_time').on(t.tenantId, t.createdAt),
  ],
)

/**
 * Webhooks we have handled, by Shopify's webhook id and by its event id (one
 * event reaches every subscription of a topic): a redelivery is a no-op.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    webhookId: text('webhook_id').primaryKey(),
    eventId: text('event_id'),
    shop: text('shop').notNull(),
    topic: text('topic').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webhook_events_shop').on(t.shop, t.receivedAt), uniqueIndex('webhook_events_topic_event').on(t.topic, t.eventId)],
)

/** A product's images as last read from the platform (refreshed by products/update). */
export const productCache = pgTable(
  'product_cache',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    productRef: text('product_ref').notNull(),
    title: text('title').notNull(),
    imageIds: jsonb('image_ids').$type<string[]>().notNull().default([]),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    refreshedAt: timestamp('refreshed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.productRef] })],
)

/** A tenant's billing plan on its platform (Shopify: an app subscription with a capped usage line item). */
export const subscriptions = pgTable(
  'subscriptions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    externalId: text('external_id').notNull(),
    usageLineItemId: text('usage_line_item_id'),
    status: text('status').notNull(),
    cappedAmount: real('capped_amount').notNull(),
    pricePerRender: real('price_per_render').notNull(),
    currency: text('currency').notNull().default('USD'),
    test: boolean('test').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('subscriptions_external').on(t.tenantId, t.externalId)],
)

/**
 * A GPU backend a deployment (tenantId null) or one shop connected in Settings.
 * Credentials (API keys, basic-auth passwords) are AES-256-GCM encrypted JSON
 * (app/lib/crypto.server.ts) and never leave the server: not in job payloads,
 * not in logs, not in loader data.
 */
export const backendConfigs = pgTable(
  'backend_configs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    name: text('name').notNull(),
    url: text('url').notNull(),
    credentialsEnc: text('credentials_enc'),
    slots: integer('slots').notNull().default(1),
    /** Operations this server is allowed to take (a subset of what its type can do). */
    operations: jsonb('operations').$type<string[]>().notNull().default([]),
    costPerSecond: real('cost_per_second').notNull().default(0),
    enabled: boolean('enabled').notNull().default(true),
    /** Last "test connection" / health check: ok, detail, latency, when. */
    lastCheck: jsonb('last_check').$type<BackendCheck>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('backend_configs_tenant_name').on(sql`coalesce(${t.tenantId}, '00000000-0000-0000-0000-000000000000'::uuid)`, t.name),
    check('backend_configs_slots_range', sql`${t.slots} between 1 and 64`),
  ],
)

export interface BackendCheck {
  ok: boolean
  detail?: string
  /** Why it failed, as a word the Settings page translates (CheckReason in backends/failure.server.ts). */
  reason?: string
  latencyMs?: number
  models?: string[]
  checkedAt: string
}

export const bulkRunStatusEnum = pgEnum('bulk_run_status', [
  'estimating',
  'awaiting_confirmation',
  'running',
  'paused',
  'canceled',
  'completed',
  'failed',
])

/**
 * "Regenerate all listings": a selection of products × one or more looks,
 * which images per product. Items are the unit of work; renders carry the
 * run's id in renders.batch_id.
 */
export const bulkRuns = pgTable(
  'bulk_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    /** Hash of (selection, looks, images): starting the same run twice returns the first. */
    idempotencyKey: text('idempotency_key').notNull(),
    status: bulkRunStatusEnum('status').notNull().default('estimating'),
    selection: jsonb('selection').$type<BulkSelection>().notNull(),
    looks: jsonb('looks').$type<BulkLook[]>().notNull(),
    images: jsonb('images').$type<BulkImages>().notNull(),
    estimate: jsonb('estimate').$type<BulkEstimate>(),
    /** Admission control: at most this many of the run's renders queued or running at once. */
    maxInFlight: integer('max_in_flight').notNull().default(20),
    total: integer('total').notNull().default(0),
    done: integer('done').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    /** Shopify bulk operation reading the catalog (gid), while it runs. */
    sourceOperation: text('source_operation'),
    errorMessage: text('error_message'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('bulk_runs_tenant_idempotency').on(t.tenantId, t.idempotencyKey),
    index('bulk_runs_tenant_time').on(t.tenantId, t.createdAt),
  ],
)

export type BulkSelection =
  | { kind: 'all' }
  | { kind: 'collection'; collectionId: string }
  | { kind: 'query'; query: string }
  | { kind: 'products'; productIds: string[] }

export interface BulkLook {
  operation: string
  marketId: string
  sceneId: string
  personaId: string | null
}

export type BulkImages = { kind: 'featured' } | { kind: 'all' } | { kind: 'first'; count: number }

export interface BulkEstimate {
  products: number
  images: number
  renders: number
  /** Backend time from measured throughput (usage_ledger), seconds. */
  backendSeconds: number
  /** The backend time per render it was computed from, and whose renders measured it (absent on older runs). */
  renderMs?: number
  timingFrom?: 'shop' | 'deployment' | 'default'
  /** Wall-clock estimate with the slots this shop can use, seconds. */
  wallSeconds: number
  cost: number
  currency: string
}

export const bulkItemStatusEnum = pgEnum('bulk_item_status', [
  'pending',
  'queued',
  'succeeded',
  'failed',
  'canceled',
])

export const bulkRunItems = pgTable(
  'bulk_run_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    runId: uuid('run_id')
      .notNull()
      .references(() => bulkRuns.id, { onDelete: 'cascade' }),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    productRef: text('product_ref').notNull(),
    productTitle: text('product_title').notNull(),
    imageRef: text('image_ref').notNull(),
    /** Index into bulk_runs.looks. */
    lookIndex: integer('look_index').notNull(),
    status: bulkItemStatusEnum('status').notNull().default('pending'),
    renderId: uuid('render_id').references(() => renders.id, { onDelete: 'set null' }),
    attempts: integer('attempts').notNull().default(0),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('bulk_run_items_unique').on(t.runId, t.productRef, t.imageRef, t.lookIndex),
    index('bulk_run_items_run_status').on(t.runId, t.status),
    index('bulk_run_items_render').on(t.renderId),
  ],
)

export type Tenant = typeof tenants.$inferSelect
export type TaobaoGrant = typeof taobaoGrants.$inferSelect
export type Render = typeof renders.$inferSelect
export type NewRender = typeof renders.$inferInsert
export type Publication = typeof publications.$inferSelect
export type Subscription = typeof subscriptions.$inferSelect
export type BackendConfig = typeof backendConfigs.$inferSelect
export type BulkRun = typeof bulkRuns.$inferSelect
export type BulkRunItem = typeof bulkRunItems.$inferSelect
