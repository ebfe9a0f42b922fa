// `npm run chaos`: every scenario of scenario.ts, each in its own process and
// bounded in time, against real processes and services (worker processes,
// private redis-server and PostgreSQL, a tmpfs, the Shopify and ComfyUI
// fakes). `npm run chaos -- <name>...` runs some. The last line:
// CHAOS scenarios=<n> passed=<n> lost=<n> duplicated=<n> stuck=<n>
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { applyMigrations, ensureDatabase } from '#app/lib/setup.server.ts'
import { ensureNative } from '../../scripts/build-native.ts'
import type { ScenarioResult } from './harness.ts'
import { scenarios } from './scenario.ts'

const dir = path.dirname(fileURLToPath(import.meta.url))
/** Per scenario, beyond its own bounds: a scenario that overruns this is stuck as a whole. */
const SCENARIO_LIMIT_MS = Number(process.env.CHAOS_SCENARIO_LIMIT_MS ?? 240_000)

// why short timings: a fault must show within seconds, so the suite fits a few minutes.
const chaosEnv: Record<string, string> = {
  NODE_ENV: 'test',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  WORKER_LOCK_MS: '2000',
  WORKER_CONCURRENCY: '2',
  BULK_TICK_MS: '300',
  MAX_OUTPUT_EDGE: '384',
  GATE_RETRIES: '0',
  RENDER_ATTEMPTS: '2',
  RENDER_BACKOFF_MS: '300',
  RENDER_TIMEOUT_MS: '8000',
  RENDER_WAIT_TIMEOUT: '20000',
  SHUTDOWN_TIMEOUT_MS: '5000',
}

const all = Object.keys(scenarios)
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const unknown = wanted.filter((w) => !all.includes(w))
if (unknown.length > 0) {
  console.error(`Unknown scenario(s): ${unknown.join(', ')}. Available: ${all.join(', ')}`)
  process.exit(2)
}
const names = wanted.length > 0 ? wanted : all

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/atelier_chaos'
if (!/test|chaos/.test(new URL(databaseUrl).pathname)) {
  console.error(`Refusing to run chaos against ${databaseUrl}: its name must contain "test" or "chaos"`)
  process.exit(2)
}
await ensureDatabase(databaseUrl)
await applyMigrations(databaseUrl)
console.log(ensureNative())

function runScenario(name: string): Promise<{ result: ScenarioResult; output: string }> {
  const storage = mkdtempSync(path.join(os.tmpdir(), 'atelier-chaos-storage-'))
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(dir, 'scenario.ts'), name], {
    env: {
      ...process.env,
      ...chaosEnv,
      DATABASE_URL: databaseUrl,
      QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'atelier-chaos'}-${randomUUID().slice(0, 8)}`,
      STORAGE_DIR: storage,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // why its own group: a scenario over its limit is killed with every process it started.
    detached: true,
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const limit = setTimeout(() => {
    output += `\n(killed after ${SCENARIO_LIMIT_MS / 1000} s)`
    process.kill(-child.pid!, 'SIGKILL')
  }, SCENARIO_LIMIT_MS)
  return new Promise((resolve) => {
    child.once('exit', () => {
      clearTimeout(limit)
      // why: whatever the scenario left (a worker, a private server) goes with it.
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // the group is already gone
      }
      rmSync(storage, { recursive: true, force: true })
      const line = output.split('\n').find((l) => l.startsWith('CHAOS-RESULT '))
      const result: ScenarioResult = line
        ? (JSON.parse(line.slice('CHAOS-RESULT '.length)) as ScenarioResult)
        : { name, passed: false, lost: 0, duplicated: 0, stuck: 1, problems: ['stuck: the scenario did not finish'], notes: [] }
      resolve({ result, output })
    })
  })
}

const totals = { passed: 0, lost: 0, duplicated: 0, stuck: 0 }
const startedAll = Date.now()
for (const [i, name] of names.entries()) {
  const started = Date.now()
  console.log(`[${i + 1}/${names.length}] ${name} …`)
  const { result, output } = await runScenario(name)
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  console.log(`[${i + 1}/${names.length}] ${name}: ${result.passed ? 'passed' : 'FAILED'} in ${seconds} s`)
  for (const note of result.notes) console.log(`    ${note}`)
  for (const problem of result.problems) console.log(`    ✗ ${problem}`)
  if (!result.passed && process.env.CHAOS_VERBOSE) console.log(output)
  if (result.passed) totals.passed++
  totals.lost += result.lost
  totals.duplicated += result.duplicated
  totals.stuck += result.stuck
}
console.log(`chaos took ${((Date.now() - startedAll) / 1000).toFixed(0)} s`)
console.log(`CHAOS scenarios=${names.length} passed=${totals.passed} lost=${totals.lost} duplicated=${totals.duplicated} stuck=${totals.stuck}`)
process.exit(totals.passed === names.length ? 0 : 1)
