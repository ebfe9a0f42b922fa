import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import { Redis } from 'ioredis'
import pg from 'pg'

const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../db/migrations')

export class SetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SetupError'
  }
}

function explainPg(url: string, e: unknown): SetupError {
  const u = new URL(url)
  const code = (e as { code?: string }).code
  const where = `${u.hostname}:${u.port || 5432}`
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT') {
    return new SetupError(
      `PostgreSQL is not reachable at ${where}.\n` +
        `  Start it:   pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start   (Debian)\n` +
        `  or install: apt-get install -y postgresql\n` +
        `  or point DATABASE_URL at your server (now: ${u.protocol}//${u.username || '?'}@${where}${u.pathname}).`,
      { cause: e },
    )
  }
  if (code === '28P01' || code === '28000') {
    return new SetupError(`PostgreSQL at ${where} refused the credentials in DATABASE_URL (user "${u.username}").`, { cause: e })
  }
  return new SetupError(`PostgreSQL at ${where}: ${(e as Error).message}`, { cause: e })
}

/** Creates the database named in `url` when it does not exist yet. */
export async function ensureDatabase(url: string): Promise<'created' | 'exists'> {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.slice(1))
  if (!/^[a-zA-Z0-9_-]+$/.test(name)) throw new SetupError(`Unusual database name "${name}" in DATABASE_URL`)
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 })
  try {
    await client.connect()
  } catch (e) {
    throw explainPg(url, e)
  }
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name])
    if (found.rowCount) return 'exists'
    try {
      await client.query(`create database "${name}"`)
    } catch (e) {
      // why: two processes (parallel test workers) may race to create it.
      if ((e as { code?: string }).code !== '42P04') throw e
    }
    return 'created'
  } finally {
    await client.end()
  }
}

export async function applyMigrations(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5_000 })
  try {
    await migrate(drizzle(pool), { migrationsFolder })
  } catch (e) {
    throw explainPg(url, e)
  } finally {
    await pool.end()
  }
}

/** A service URL fit for a log line: user and password left out. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString().replace(/\/$/, '')
  } catch {
    return '(an unparsable URL)'
  }
}

/**
 * Resolves when Redis answers a PING within `timeoutMs`; otherwise rejects
 * with one line naming the server and the fix. why no retries: a process
 * that cannot reach Redis at start should say so once and stop.
 */
export async function checkRedis(url: string, timeoutMs = 3_000): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    // why: a server that accepts and never answers must not hang the check.
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
  } catch (e) {
    throw new SetupError(
      `Redis at ${displayUrl(url)} is not answering (${(e as Error).message}): start it ` +
        '(`redis-server --daemonize yes --bind 127.0.0.1 --port 6379`, or `apt-get install -y redis-server`) or set REDIS_URL',
      { cause: e },
    )
  } finally {
    client.disconnect()
  }
}

/** Resolves when PostgreSQL answers `select 1`; otherwise rejects with what is wrong and the fix. */
export async function checkPostgres(url: string, timeoutMs = 5_000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('select 1')
  } catch (e) {
    throw explainPg(url, e)
  } finally {
    await client.end().catch(() => {})
  }
}
