import { DrizzleQueryError } from 'drizzle-orm/errors'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import * as schema from '#db/schema.ts'
import { env } from './env.server.ts'

export type Db = NodePgDatabase<typeof schema>

let pool: pg.Pool | undefined
let database: Db | undefined

export function db(): Db {
  if (!database) {
    pool = new pg.Pool({ connectionString: env().DATABASE_URL, max: 10, connectionTimeoutMillis: 5_000 })
    // why: a client that loses its server must not crash the process: the
    // pool covers idle ones; a checked-out one (a transaction waiting on other
    // work) emits on itself, and its running query rejects anyway.
    pool.on('error', () => {})
    pool.on('connect', (client) => client.on('error', () => {}))
    database = drizzle(pool, { schema })
  }
  return database
}

export async function closeDb(): Promise<void> {
  const p = pool
  pool = undefined
  database = undefined
  await p?.end()
}

// Errors meaning "the database cannot be reached now", not "this query is wrong":
// Node's socket errors, and PostgreSQL's admin shutdown / starting up / connection classes.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'])
const UNAVAILABLE_SQLSTATE = /^(57P0[1-3]|08...)$/
const POOL_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/

/**
 * True when `e` (or what caused it) says PostgreSQL could not be reached: a
 * caller can retry the work later instead of recording a failure it cannot
 * write anyway. why the query or port check: a socket error of another
 * service (a GPU server) must not pass for the database's.
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  const port = Number(new URL(env().DATABASE_URL).port || 5432)
  let viaQuery = false
  for (let cur: unknown = e, depth = 0; cur instanceof Error && depth < 6; cur = cur.cause, depth++) {
    if (cur instanceof DrizzleQueryError) viaQuery = true
    const { code, port: errPort } = cur as { code?: unknown; port?: unknown }
    if (typeof code === 'string' && UNAVAILABLE_SQLSTATE.test(code)) return true
    if (typeof code === 'string' && SOCKET_CODES.has(code) && (viaQuery || errPort === port)) return true
    if (POOL_MESSAGES.test(cur.message)) return true
  }
  return false
}
