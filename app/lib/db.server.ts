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
