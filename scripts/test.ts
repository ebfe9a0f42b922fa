// `npm test`: lint (import cycles included), then the whole suite on real PostgreSQL and Redis — unit and
// integration (vitest.config.ts), then browser e2e in Chromium
// (vitest.e2e.config.ts), then the chaos suite (test/chaos) — and one
// closing line `N passed, N failed`.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

interface VitestJson {
  numPassedTests: number
  numFailedTests: number
  numPendingTests: number
  numTotalTests: number
  success: boolean
}

const out = mkdtempSync(path.join(os.tmpdir(), 'atelier-test-'))
const extra = process.argv.slice(2)
const suites = [
  { name: 'unit+integration', config: 'vitest.config.ts' },
  { name: 'e2e', config: 'vitest.e2e.config.ts' },
]
let passed = 0
let failed = 0
let skipped = 0
let broken = false
// why first and not fatal: a lint failure (an import cycle, say) marks the run broken, but the tests still report.
console.log('── lint ──')
const lint = spawnSync('eslint', ['.'], { stdio: 'inherit' })
if (lint.status !== 0) {
  console.log('lint failed: the run counts as broken')
  broken = true
}
for (const suite of suites) {
  const report = path.join(out, `${suite.name}.json`)
  console.log(`\n── ${suite.name} ──`)
  const r = spawnSync(
    'vitest',
    ['run', '--config', suite.config, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra],
    {
      stdio: 'inherit',
    },
  )
  try {
    const json = JSON.parse(readFileSync(report, 'utf8')) as VitestJson
    passed += json.numPassedTests
    failed += json.numFailedTests
    skipped += json.numPendingTests
    if (r.status !== 0 && json.numFailedTests === 0) broken = true
  } catch {
    broken = true
  }
  if (r.status !== 0) broken = true
}
// why after the suites: the chaos suite kills and restarts real processes and
// services; each scenario counts as one test. A filtered run (extra args) skips it.
if (extra.length === 0) {
  console.log('\n── chaos ──')
  let output = ''
  const child = spawn('tsx', ['test/chaos/run.ts'], { stdio: ['ignore', 'pipe', 'inherit'] })
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk)
    output += chunk.toString()
  })
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const line = /^CHAOS scenarios=(\d+) passed=(\d+)/m.exec(output)
  if (line) {
    passed += Number(line[2])
    failed += Number(line[1]) - Number(line[2])
  }
  if (!line || status !== 0) broken = true
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(broken || failed > 0 || passed === 0 ? 1 : 0)
