import { existsSync } from 'node:fs'
import { z } from 'zod'

// why: one schema, checked at start-up, so a bad deployment fails with a
// readable list instead of a stack trace deep inside a request.
const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

const DEV_SIGNING_SECRET = 'atelier-dev-only-signing-secret-change-me'

export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    APP_MODE: z.enum(['local', 'shopify', 'taobao']).default('local'),
    HOST: z.string().default('127.0.0.1'),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    APP_URL: z.string().url().optional(),
    DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/atelier'),
    REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
    QUEUE_PREFIX: z.string().regex(/^[a-z0-9_-]+$/i).default('atelier'),
    STORAGE_DIR: z.string().default('./var/storage'),
    CATALOG_DIR: z.string().default('./catalog'),
    SIGNING_SECRET: z.string().min(16).default(DEV_SIGNING_SECRET),
    SIGNED_URL_TTL_SECONDS: z.coerce.number().int().min(10).max(86_400).default(900),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOG_PRETTY: boolish.optional(),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
    RENDER_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
    RENDER_BACKOFF_MS: z.coerce.number().int().min(10).default(2000),
    RENDER_TIMEOUT_MS: z.coerce.number().int().min(1000).default(300_000),
    /** Longest a render waits for a backend that is not answering (no other can take it) before it fails, ms. */
    RENDER_WAIT_TIMEOUT: z.coerce.number().int().min(100).default(180_000),
    /** On SIGTERM a worker lets running renders finish for at most this long, then exits non-zero naming them. */
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    /** OS niceness of a worker process (0-19): on a host it shares with the web process, pages go first. */
    WORKER_NICE: z.coerce.number().int().min(0).max(19).default(5),
    /** Worker threads that run the fidelity check (default: cores − 1, none on two cores); 0 runs it on the main thread. */
    FIDELITY_THREADS: z.coerce.number().int().min(0).max(64).optional(),
    MAX_UPLOAD_BYTES: z.coerce.number().int().min(1024).default(25 * 1024 * 1024),
    /** Largest request body of a page action, bytes (webhooks, /api/renders and the mask upload have their own). */
    MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
    MAX_INPUT_PIXELS: z.coerce.number().int().min(10_000).default(40_000_000),
    MAX_OUTPUT_EDGE: z.coerce.number().int().min(256).max(8192).default(2048),
    FIDELITY_THRESHOLD: z.coerce.number().min(0).max(100).default(70),
    /** QA gate: re-renders with a new seed when a render scores below FIDELITY_THRESHOLD. */
    GATE_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
    /** The app's language until a merchant picks one (default: zh-CN with APP_MODE=taobao, else en). */
    DEFAULT_LOCALE: z.enum(['en', 'zh-CN']).optional(),
    /** Bulk runs: how often the feeder tops up running runs and polls catalog reads, ms. */
    BULK_TICK_MS: z.coerce.number().int().min(100).max(600_000).default(2000),
    /** Bulk runs: at most this many renders of one run queued or running at once (per run, unless the run says otherwise). */
    BULK_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(500).default(20),
    // Shopify (APP_MODE=shopify)
    SHOPIFY_API_KEY: z.string().default(''),
    SHOPIFY_API_SECRET: z.string().default(''),
    SHOPIFY_APP_URL: z.string().url().optional(),
    SCOPES: z.string().default('read_products,write_products,write_files'),
    /** Where the Admin API lives; `{shop}` is the shop's myshopify domain. Tests point it at the fake. */
    SHOPIFY_ADMIN_ORIGIN: z.string().default('https://{shop}'),
    /** Billing: price of one render and the monthly cap of the usage plan, in BILLING_CURRENCY. */
    BILLING_PRICE_PER_RENDER: z.coerce.number().min(0).default(0.05),
    BILLING_CAPPED_AMOUNT: z.coerce.number().min(1).default(100),
    BILLING_CURRENCY: z.string().regex(/^[A-Z]{3}$/).default('USD'),
    /** Billing test charges (no real money); on by default outside production. */
    BILLING_TEST: boolish.optional(),
    // Taobao (APP_MODE=taobao): a standalone app with Taobao OAuth login
    TAOBAO_APP_KEY: z.string().default(''),
    TAOBAO_APP_SECRET: z.string().default(''),
    /** This app's public origin: Taobao sends the seller back to <TAOBAO_APP_URL>/auth/taobao/callback. */
    TAOBAO_APP_URL: z.string().url().optional(),
    /** Taobao's OAuth server and TOP gateway; tests point them at the fake. */
    TAOBAO_OAUTH_URL: z.string().url().default('https://oauth.taobao.com'),
    TAOBAO_GATEWAY_URL: z.string().url().default('https://eco.taobao.com/router/rest'),
    TAOBAO_SIGN_METHOD: z.enum(['md5', 'hmac', 'hmac-sha256']).default('hmac-sha256'),
    /** TOP calls per second for the whole app, and for one seller, shared by every process (set under the app's quota). */
    TAOBAO_APP_CALLS_PER_SECOND: z.coerce.number().min(0.1).max(10_000).default(10),
    TAOBAO_SELLER_CALLS_PER_SECOND: z.coerce.number().min(0.1).max(10_000).default(5),
    /** How long a login to the standalone app lasts, seconds (the seller logs in again after). */
    SESSION_TTL_SECONDS: z.coerce.number().int().min(300).max(30 * 86_400).default(7 * 86_400),
    /** Final JPEG encoder: the native libjpeg-turbo addon when built (auto), always it (native), or sharp. */
    JPEG_ENCODER: z.enum(['auto', 'native', 'sharp']).default('auto'),
    /** 32+ byte key (hex or base64) encrypting secrets at rest (backend API keys). */
    ENCRYPTION_KEY: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    if (env.APP_MODE === 'shopify') {
      for (const key of ['SHOPIFY_API_KEY', 'SHOPIFY_API_SECRET'] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when APP_MODE=shopify (Partner Dashboard → your app → Client credentials)' })
      }
      if (!env.SHOPIFY_APP_URL) ctx.addIssue({ code: 'custom', path: ['SHOPIFY_APP_URL'], message: 'is required when APP_MODE=shopify (`shopify app dev` sets it)' })
    }
    if (env.APP_MODE === 'taobao') {
      for (const key of ['TAOBAO_APP_KEY', 'TAOBAO_APP_SECRET'] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when APP_MODE=taobao (Taobao Open Platform → your app → App Key / App Secret)' })
      }
      if (!env.TAOBAO_APP_URL) ctx.addIssue({ code: 'custom', path: ['TAOBAO_APP_URL'], message: 'is required when APP_MODE=taobao (the public https origin Taobao redirects sellers back to)' })
      if (env.NODE_ENV === 'production' && !env.ENCRYPTION_KEY) {
        ctx.addIssue({ code: 'custom', path: ['ENCRYPTION_KEY'], message: 'is required in production with APP_MODE=taobao: sellers’ tokens are encrypted with it' })
      }
    }
    if (env.NODE_ENV === 'production' && env.SIGNING_SECRET === DEV_SIGNING_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['SIGNING_SECRET'],
        message: 'must be set to a random secret in production (e.g. `openssl rand -hex 32`)',
      })
    }
  })

export type Env = z.infer<typeof envSchema>

export class EnvError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid environment configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}\nSee .env.example for every variable and its default.`)
    this.name = 'EnvError'
  }
}

export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''))
  const result = envSchema.safeParse(cleaned)
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`))
  }
  return result.data
}

let cached: Env | undefined

let loadedDotenv = false

export function env(): Env {
  if (!cached && !loadedDotenv) {
    loadedDotenv = true
    // why: a developer's .env is read once; real environment variables win.
    if (process.env.NODE_ENV !== 'test' && existsSync('.env')) process.loadEnvFile('.env')
  }
  cached ??= parseEnv()
  return cached
}

/** Tests and scripts that change process.env after import call this. */
export function resetEnvCache(): void {
  cached = undefined
}

/** The language a page falls back to: DEFAULT_LOCALE, else Simplified Chinese for Taobao sellers and English elsewhere. */
export function defaultLocale(): 'en' | 'zh-CN' {
  const e = env()
  return e.DEFAULT_LOCALE ?? (e.APP_MODE === 'taobao' ? 'zh-CN' : 'en')
}
