// Fidelity eval (`npm run eval`): runs the same check the render pipeline
// runs on every case of the basic golden set (test/golden/manifest.json):
// recall per defect type, false alarms on the clean controls, the score
// distribution (table + test-results/eval-scores.png), against
// test/golden/baseline.json. Then the realistic set per family and the
// catalog × scene sweep (eval/held-out.ts), against realistic-baseline.json.
//
//   npm run eval                      exits 1 on a regression against the baseline
//   npm run eval -- --update-baseline rewrites the baseline from this run
//   npm run eval -- --why             prints the readings behind every case's edge and detail
//   npm run eval -- --only tote       only cases whose id contains "tote" (no baseline check)
//
// The last line is machine-read: `EVAL recall=<r> false_alarms=<f> reason_accuracy=<a> region_hits=<h>`:
// the lowest recall of any defect type or family, the highest false-alarm share of the basic set's
// controls, any realistic clean family and the sweep, and the realistic set's flagged defects' reason
// accuracy and region hits.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import { env } from '#app/lib/env.server.ts'
import { BASELINE_PATH, PERCEPTIBLE_DEFECTS, REPO_ROOT } from '#test/golden/golden-set.ts'
import { regressions, runGoldenEval, toBaseline, type EvalBaseline, type EvalSummary } from '#test/golden/eval-golden.ts'
import { runHeldOut, type HeldOutRun } from './eval/held-out.ts'

/** A recall may drop (or false alarms rise) by this much before it counts as a regression: less than one case in a dozen. */
const TOLERANCE = 0.02
const CHART_PATH = path.join(REPO_ROOT, 'test-results', 'eval-scores.png')
const args = process.argv.slice(2)
const why = args.includes('--why')

// ---------------------------------------------------------------- output

async function readBaseline(): Promise<EvalBaseline | undefined> {
  try {
    return JSON.parse(await readFile(BASELINE_PATH, 'utf8')) as EvalBaseline
  } catch {
    return undefined
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}

function padLeft(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s
}

/** Misses and false alarms, always; every case with its readings under --why. */
function printCases(s: EvalSummary): void {
  const wrong = s.results.filter((r) => !r.correct)
  const shown = why ? s.results : wrong
  if (shown.length === 0) return
  console.log(why ? '\nall cases:' : '\nmisses and false alarms:')
  for (const r of shown) {
    const f = r.fidelity
    const label = r.correct ? '  ' : r.flagged ? 'FA' : 'MISS'
    let line = `${pad(label, 5)}${pad(r.case.id, 36)} score ${padLeft(f.score.toFixed(1), 5)}  ssim ${f.interiorSsim?.toFixed(3)} dE ${f.matchedDeltaEMean?.toFixed(2)}/${f.matchedDeltaEP95?.toFixed(2)} edge ${f.edgeScore?.toFixed(3)} detail ${f.detailRatio?.toFixed(3)}`
    if (r.readings) {
      const e = r.readings.edge
      const d = r.readings.detail
      line += `  [edge stretch ${e.stretch} overall ${e.overall} thin ${e.thin} fringe ${e.fringe} part ${e.part} toBackdrop ${e.toBackdrop} halo ${e.haloShare} | print overall ${d.overall} worst ${d.worst} deficit ${d.deficit}]`
    }
    console.log(line)
  }
}

const STRIP = 50

/** A text strip of the scores on 0..100: digits count cases per cell, '|' is the threshold. */
function strip(scores: number[], threshold: number): string {
  const cells = new Array<number>(STRIP + 1).fill(0)
  for (const v of scores) cells[Math.min(STRIP, Math.max(0, Math.round((v / 100) * STRIP)))]++
  const t = Math.round((threshold / 100) * STRIP)
  return cells.map((n, i) => (n > 0 ? (n > 9 ? '+' : String(n)) : i === t ? '|' : '·')).join('')
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))]
}

function printTable(s: EvalSummary): void {
  console.log(`\nthreshold ${s.threshold} (FIDELITY_THRESHOLD), fidelity v${s.fidelityVersion}; flagged = score < threshold`)
  console.log(
    `${pad('case type', 18)}${pad('expect', 8)}${padLeft('n', 3)}  ${pad('flagged', 14)}${padLeft('min', 6)}${padLeft('p25', 6)}${padLeft('med', 6)}${padLeft('max', 6)}   0 ${'·'.repeat(STRIP - 6)} 100`,
  )
  for (const k of s.kinds) {
    const flagged = Math.round(k.flaggedShare * k.count)
    const label = k.expected === 'defect' ? `recall ${k.flaggedShare.toFixed(2)}` : `false ${k.flaggedShare.toFixed(2)}`
    const mark = k.expected === 'defect' && PERCEPTIBLE_DEFECTS.includes(k.kind) ? '*' : ' '
    console.log(
      `${pad(k.kind + mark, 18)}${pad(k.expected, 8)}${padLeft(String(k.count), 3)}  ${pad(`${flagged} ${label}`, 14)}${padLeft(k.scores[0].toFixed(0), 6)}${padLeft(quantile(k.scores, 0.25).toFixed(0), 6)}${padLeft(quantile(k.scores, 0.5).toFixed(0), 6)}${padLeft(k.scores[k.scores.length - 1].toFixed(0), 6)}   ${strip(k.scores, s.threshold)}`,
    )
  }
  console.log('* perceptible defect (counts toward the recall target)')
  console.log(
    `\nclean controls: ${s.cleanCount}, false alarms ${s.falseAlarms.toFixed(3)} (target ≤ 0.05); defects: ${s.defectCount}, min recall over perceptible types ${s.minPerceptibleRecall.toFixed(3)} (target ≥ 0.95)`,
  )
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c)
}

/**
 * A strip plot: one row per case type, one dot per case at its score, the
 * threshold as a vertical line. Clean controls green, defects red; a dot on
 * the wrong side of the line (a miss or a false alarm) is ringed in black.
 */
async function writeChart(s: EvalSummary, file: string): Promise<void> {
  const left = 200
  const right = 40
  const top = 70
  const row = 34
  const plot = 720
  const width = left + plot + right
  const height = top + row * s.kinds.length + 60
  const x = (score: number): number => left + (Math.max(0, Math.min(100, score)) / 100) * plot
  const parts: string[] = []
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  parts.push(
    `<text x="${left}" y="28" font-family="DejaVu Sans, sans-serif" font-size="17" font-weight="bold" fill="#111">Fidelity scores on the golden set (v${s.fidelityVersion})</text>`,
  )
  parts.push(
    `<text x="${left}" y="50" font-family="DejaVu Sans, sans-serif" font-size="13" fill="#333">min perceptible recall ${s.minPerceptibleRecall.toFixed(2)} · false alarms ${s.falseAlarms.toFixed(2)} · ${s.results.length} cases · threshold ${s.threshold}</text>`,
  )
  for (let v = 0; v <= 100; v += 10) {
    const X = x(v)
    parts.push(`<line x1="${X}" y1="${top - 6}" x2="${X}" y2="${top + row * s.kinds.length}" stroke="#e6e6e6" stroke-width="1"/>`)
    parts.push(
      `<text x="${X}" y="${top + row * s.kinds.length + 20}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#444">${v}</text>`,
    )
  }
  s.kinds.forEach((k, i) => {
    const y = top + i * row + row / 2
    if (i % 2 === 0) parts.push(`<rect x="0" y="${top + i * row}" width="${width}" height="${row}" fill="#f7f7f9"/>`)
    const rate = k.expected === 'defect' ? `recall ${k.flaggedShare.toFixed(2)}` : `false alarms ${k.flaggedShare.toFixed(2)}`
    parts.push(
      `<text x="${left - 10}" y="${y - 2}" text-anchor="end" font-family="DejaVu Sans, sans-serif" font-size="13" fill="${k.expected === 'defect' ? '#8e1b1b' : '#1d5e21'}">${escapeXml(k.kind)}${PERCEPTIBLE_DEFECTS.includes(k.kind) ? ' *' : ''}</text>`,
    )
    parts.push(
      `<text x="${left - 10}" y="${y + 12}" text-anchor="end" font-family="DejaVu Sans, sans-serif" font-size="10" fill="#666">${k.count} cases, ${rate}</text>`,
    )
  })
  // Grid lines under the dots, then the dots, then the threshold on top.
  s.kinds.forEach((k, i) => {
    const of = s.results.filter((r) => r.case.kind === k.kind)
    of.forEach((r, j) => {
      const y = top + i * row + row / 2 + (((j * 7) % 5) - 2) * 3
      const colour = r.case.expected === 'clean' ? '#2e7d32' : '#c62828'
      const wrongSide = !r.correct
      parts.push(
        `<circle cx="${x(r.fidelity.score).toFixed(1)}" cy="${y}" r="${wrongSide ? 6 : 4.5}" fill="${colour}" fill-opacity="0.75" stroke="${wrongSide ? '#000' : 'none'}" stroke-width="2"/>`,
      )
    })
  })
  const T = x(s.threshold)
  parts.push(
    `<line x1="${T}" y1="${top - 10}" x2="${T}" y2="${top + row * s.kinds.length}" stroke="#1f4fd1" stroke-width="2" stroke-dasharray="6 4"/>`,
  )
  parts.push(
    `<text x="${T + 6}" y="${top - 12}" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#1f4fd1">gate ${s.threshold}</text>`,
  )
  const legendY = height - 16
  parts.push(`<circle cx="${left + 6}" cy="${legendY - 4}" r="4.5" fill="#2e7d32"/>`)
  parts.push(
    `<text x="${left + 16}" y="${legendY}" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#333">clean control (must pass: right of the line)</text>`,
  )
  parts.push(`<circle cx="${left + 326}" cy="${legendY - 4}" r="4.5" fill="#c62828"/>`)
  parts.push(
    `<text x="${left + 336}" y="${legendY}" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#333">defect (must fail: left of the line)</text>`,
  )
  parts.push(`<circle cx="${left + 600}" cy="${legendY - 4}" r="6" fill="#999" stroke="#000" stroke-width="2"/>`)
  parts.push(
    `<text x="${left + 610}" y="${legendY}" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#333">wrong side</text>`,
  )
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`
  await mkdir(path.dirname(file), { recursive: true })
  await sharp(Buffer.from(svg)).png().toFile(file)
}

async function main(): Promise<number> {
  const updateBaseline = args.includes('--update-baseline')
  const onlyAt = args.indexOf('--only')
  const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined

  const threshold = env().FIDELITY_THRESHOLD
  const started = Date.now()
  const summary = await runGoldenEval({ threshold, filter: only, readings: why })

  printCases(summary)
  printTable(summary)
  await writeChart(summary, CHART_PATH)
  console.log(`\nchart: ${path.relative(process.cwd(), CHART_PATH)}`)
  const perCase = summary.results.reduce((sum, r) => sum + r.ms, 0) / Math.max(1, summary.results.length)
  console.log(
    `${summary.results.length} cases in ${((Date.now() - started) / 1000).toFixed(1)} s (fidelity check ${perCase.toFixed(0)} ms a case)`,
  )

  let failed = false
  if (updateBaseline) {
    if (only) throw new Error('--update-baseline needs the whole set (drop --only)')
    await writeFile(BASELINE_PATH, `${JSON.stringify(toBaseline(summary), null, 2)}\n`)
    console.log(`baseline written: ${path.relative(process.cwd(), BASELINE_PATH)}`)
  } else if (!only) {
    const base = await readBaseline()
    if (!base) {
      console.log('no baseline yet: run with --update-baseline to record one')
    } else {
      if (base.fidelityVersion !== summary.fidelityVersion || base.threshold !== summary.threshold) {
        console.log(
          `note: baseline was recorded with fidelity v${base.fidelityVersion} at threshold ${base.threshold}; this run is v${summary.fidelityVersion} at ${summary.threshold}`,
        )
      }
      const found = regressions(summary, base, TOLERANCE)
      if (found.length === 0) console.log(`no regression against the baseline (tolerance ${TOLERANCE})`)
      else {
        failed = true
        console.log(`REGRESSION against the baseline (tolerance ${TOLERANCE}):`)
        for (const line of found) console.log(`  - ${line}`)
      }
    }
  }

  const heldOut = await runHeldOut({ threshold, only, why, updateBaseline, tolerance: TOLERANCE })
  if (heldOut.regressions.length > 0) {
    failed = true
    console.log(`REGRESSION against the realistic baseline (tolerance ${TOLERANCE}):`)
    for (const line of heldOut.regressions) console.log(`  - ${line}`)
  } else if (heldOut.compared) console.log('no regression against the realistic baseline')
  console.log(evalLine(summary, heldOut))
  return failed ? 1 : 0
}

function evalLine(basic: EvalSummary, heldOut: HeldOutRun): string {
  const { realistic, sweep } = heldOut
  const recall = Math.min(basic.minPerceptibleRecall, realistic?.minRecall ?? 1)
  const sweepShare = sweep && sweep.checked > 0 ? sweep.flagged / sweep.checked : 0
  const falseAlarms = Math.max(basic.falseAlarms, realistic?.maxFalseAlarms ?? 0, sweepShare)
  const reasons = realistic ? realistic.reasonAccuracy.toFixed(2) : 'n/a'
  const regions = realistic ? realistic.regionHits.toFixed(2) : 'n/a'
  return `EVAL recall=${recall.toFixed(2)} false_alarms=${falseAlarms.toFixed(2)} reason_accuracy=${reasons} region_hits=${regions}`
}

process.exit(await main())
