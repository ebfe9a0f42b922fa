import net from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { closeDb } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { refreshDispatchBackends } from '#app/modules/scheduler/dispatcher.server.ts'

// A database blip must not stop the scheduler: dispatch and a worker's
// report of a finished render read the backend list, and a failed refresh of
// it falls back to the list last read.

const saved = process.env.DATABASE_URL

afterAll(async () => {
  process.env.DATABASE_URL = saved
  resetEnvCache()
  await closeDb()
})

describe('the dispatch backend list while the database is down', () => {
  it('is the list last read, not an error', async () => {
    const before = await refreshDispatchBackends(true)
    expect(before.map((b) => b.id)).toContain('cpu-studio')

    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as net.AddressInfo
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const url = new URL(saved!)
    url.port = String(port)
    process.env.DATABASE_URL = url.toString()
    resetEnvCache()
    await closeDb()

    const during = await refreshDispatchBackends(true)
    expect(during.map((b) => b.id)).toEqual(before.map((b) => b.id))
  })
})
