// `npm test`: the whole suite on real PostgreSQL and Redis — unit and
// integration (vitest.config.ts), then browser e2e in Chromium
// (vitest.e2e.config.ts) — and one closing line `N passed, N failed`.
import { spawnSync } from 'node:child_process'
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
for (const suite of suites) {
  const report = path.join(out, `${suite.name}.json`)
  console.log(`\n── ${suite.name} ──`)
  const r = spawnSync('vitest', ['run', '--config', suite.config, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra], {
    stdio: 'inherit',
  })
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
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(broken || failed > 0 || passed === 0 ? 1 : 0)
