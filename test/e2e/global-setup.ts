import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { applyMigrations, ensureDatabase } from '#app/lib/setup.server.ts'
import { copyCatalog } from '#test/support/isolation.ts'
import { dropDatabase, freePort } from '#test/support/services.ts'
import { ensureNative } from '../../scripts/build-native.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string
    catalogDir: string
  }
}

let server: ChildProcess | undefined

export default async function setup(project: TestProject) {
  const databaseUrl = process.env.E2E_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/atelier_e2e'
  // why: every e2e run starts from an empty database; the browser sees only what this run made.
  await dropDatabase(databaseUrl, 'e2e')
  await ensureDatabase(databaseUrl)
  await applyMigrations(databaseUrl)
  if (process.env.E2E_SKIP_BUILD !== '1') {
    const build = spawnSync('remix', ['vite:build'], { stdio: 'inherit' })
    if (build.status !== 0) throw new Error('remix vite:build failed')
  }
  // why before the server starts: its in-process worker encodes final JPEGs with the addon when it is built.
  console.log(ensureNative())
  const port = await freePort()
  const catalogDir = copyCatalog()
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    APP_MODE: 'local',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: `atelier-e2e-${process.pid}`,
    STORAGE_DIR: mkdtempSync(path.join(os.tmpdir(), 'atelier-e2e-storage-')),
    CATALOG_DIR: catalogDir,
    SIGNING_SECRET: 'e2e-signing-secret-0123456789abcdef',
    LOG_LEVEL: 'warn',
    // why one slot: a studio test's four variants then queue behind each other however fast the CPU
    // studio renders (with the native encoder all four could finish before the page showed progress).
    WORKER_CONCURRENCY: '1',
  }
  server = spawn(process.execPath, ['--import', 'tsx', 'scripts/serve.ts', '--with-worker'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the app did not start within 60 s')), 60_000)
    server!.stdout!.on('data', (chunk: Buffer) => {
      const m = /serving at (http:\/\/\S+)\/app/.exec(chunk.toString())
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    server!.on('exit', (code) => reject(new Error(`the app exited with code ${code}`)))
  })
  project.provide('baseUrl', baseUrl)
  project.provide('catalogDir', catalogDir)
  return async () => {
    server?.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 500))
    server?.kill('SIGKILL')
  }
}
