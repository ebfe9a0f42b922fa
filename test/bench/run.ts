// `npm run bench` runs every test/bench/*.bench.ts, each in its own process so
// memory figures belong to one benchmark; `npm run bench -- <name>` runs one.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureNative } from '../../scripts/build-native.ts'

const dir = path.dirname(fileURLToPath(import.meta.url))
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort()
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const unknown = wanted.filter((w) => !all.includes(w))
if (unknown.length > 0) {
  console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Available: ${all.join(', ')}`)
  process.exit(2)
}
const names = wanted.length > 0 ? wanted : all
// why: post-processing and the CPU studio encode with the native JPEG encoder; a bench without it measures sharp's.
console.log(ensureNative())
let failed = 0
for (const name of names) {
  console.log(`\n=== bench ${name} ===`)
  const started = Date.now()
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(dir, `${name}.bench.ts`)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'test', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  })
  console.log(
    `=== bench ${name}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  if (r.status !== 0) failed++
}
process.exit(failed > 0 ? 1 : 0)
