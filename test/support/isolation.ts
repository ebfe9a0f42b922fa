import { cpSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { resetEnvCache } from '#app/lib/env.server.ts'

/**
 * Gives one test file its own queue prefix, so parallel test files never take
 * each other's jobs. Call before anything reads env() (top of beforeAll).
 */
export function isolateQueue(): string {
  const prefix = `atelier-test-${randomUUID().slice(0, 8)}`
  process.env.QUEUE_PREFIX = prefix
  resetEnvCache()
  return prefix
}

/** A private copy of the sample catalog, so publish/undo tests never touch ./catalog. */
export function copyCatalog(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-catalog-'))
  cpSync(path.resolve('catalog'), dir, { recursive: true })
  return dir
}
