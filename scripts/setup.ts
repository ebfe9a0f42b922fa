// `npm run setup`: creates the database if missing, applies migrations, checks
// Redis, builds the native JPEG encoder, and says exactly what to do when a
// service is unreachable or the build can't run.
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { env, EnvError } from '#app/lib/env.server.ts'
import { applyMigrations, checkRedis, ensureDatabase, SetupError } from '#app/lib/setup.server.ts'
import { ensureNative } from './build-native.ts'

export async function setup(log: (line: string) => void = console.log): Promise<void> {
  const e = env()
  const created = await ensureDatabase(e.DATABASE_URL)
  log(`database ${new URL(e.DATABASE_URL).pathname.slice(1)}: ${created}`)
  await applyMigrations(e.DATABASE_URL)
  log('migrations: applied')
  await checkRedis(e.REDIS_URL)
  log('redis: reachable')
  await mkdir(path.resolve(e.STORAGE_DIR), { recursive: true })
  log(`storage: ${path.resolve(e.STORAGE_DIR)}`)
  log(ensureNative())
}

if (import.meta.url === `file://${process.argv[1]}`) {
  setup().then(
    () => console.log('setup: done'),
    (err) => {
      if (err instanceof SetupError || err instanceof EnvError) console.error(`setup failed: ${err.message}`)
      else console.error('setup failed:', err)
      process.exit(1)
    },
  )
}
