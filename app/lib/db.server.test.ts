import net from 'node:net'
import { sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { closeDb, db, isDatabaseUnavailable } from './db.server.ts'
import { env, resetEnvCache } from './env.server.ts'

async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const failure = (work: Promise<unknown>) => work.then(() => undefined, (e: unknown) => e)

afterAll(async () => {
  await closeDb()
})

describe('isDatabaseUnavailable', () => {
  it('is false for a query the database refuses, and for another service’s refused connection', async () => {
    const wrong = await failure(db().execute(sql`select * from no_such_table_here`))
    expect(wrong).toBeInstanceOf(Error)
    expect(isDatabaseUnavailable(wrong)).toBe(false)
    const port = await closedPort()
    const otherService = await failure(
      new Promise((resolve, reject) => net.connect(port, '127.0.0.1').once('connect', resolve).once('error', reject)),
    )
    expect((otherService as { code?: string }).code).toBe('ECONNREFUSED')
    expect(isDatabaseUnavailable(otherService)).toBe(false)
  })

  it('is true when the database cannot be reached, through a query or a transaction', async () => {
    const saved = process.env.DATABASE_URL
    const url = new URL(env().DATABASE_URL)
    url.port = String(await closedPort())
    process.env.DATABASE_URL = url.toString()
    resetEnvCache()
    await closeDb()
    try {
      const viaQuery = await failure(db().execute(sql`select 1`))
      expect(isDatabaseUnavailable(viaQuery)).toBe(true)
      const viaTransaction = await failure(db().transaction(async (tx) => tx.execute(sql`select 1`)))
      expect(isDatabaseUnavailable(viaTransaction)).toBe(true)
    } finally {
      process.env.DATABASE_URL = saved
      resetEnvCache()
      await closeDb()
    }
  })
})
