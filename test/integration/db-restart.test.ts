import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeDb, db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { sleep, waitFor } from '#test/support/queue.ts'
import { startPrivatePostgres, type PrivateService } from '#test/support/services.ts'

// PostgreSQL restarts while a connection is checked out of the pool (a
// transaction waiting on other work, as a render or a bulk pass does). The
// process must see a failed query, not die of an unhandled 'error' event.

let pg: PrivateService

beforeAll(async () => {
  pg = await startPrivatePostgres()
  process.env.DATABASE_URL = pg.url.replace(/\/atelier_chaos$/, '/postgres')
  resetEnvCache()
  await closeDb()
}, 60_000)

afterAll(async () => {
  await closeDb()
  await pg.destroy()
})

describe('the database pool when PostgreSQL restarts', () => {
  it('fails the open transaction and serves the next query, without crashing the process', async () => {
    const open = db().transaction(async (tx) => {
      await tx.execute(sql`select 1`)
      await sleep(1_500)
      await tx.execute(sql`select 1`)
    })
    const outcome = open.then(
      () => 'committed',
      () => 'failed',
    )
    await sleep(300)
    await pg.restart('kill')
    expect(await outcome).toBe('failed')
    await waitFor('the pool to answer again', async () => (await db().execute(sql`select 1 as one`).catch(() => null))?.rows.length === 1, {
      timeoutMs: 20_000,
      intervalMs: 200,
    })
  }, 60_000)
})
