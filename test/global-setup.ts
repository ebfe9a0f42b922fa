import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { applyMigrations, ensureDatabase } from '#app/lib/setup.server.ts'
import { ensureNative } from '../scripts/build-native.ts'

// why: tests run against real PostgreSQL and Redis, but never the developer's
// own database, queue or image store.
export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test'
  process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/atelier_test'
  if (!new URL(process.env.DATABASE_URL).pathname.includes('test')) {
    throw new Error(`Refusing to run tests against ${process.env.DATABASE_URL}: its name must contain "test"`)
  }
  process.env.QUEUE_PREFIX ??= `atelier-test-${process.pid}`
  process.env.STORAGE_DIR ??= mkdtempSync(path.join(os.tmpdir(), 'atelier-test-storage-'))
  await ensureDatabase(process.env.DATABASE_URL)
  await applyMigrations(process.env.DATABASE_URL)
  // why here: the suite checks the native JPEG encoder is the one in use (jpeg.server.test.ts says why when not).
  console.log(ensureNative())
}
