import { spawn, type ChildProcess } from 'node:child_process'
import { eq, inArray } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { imageStore } from '#app/lib/storage.server.ts'
import { bulkRunItems, bulkRuns, renders, usageLedger, type BulkRun, type Render } from '#db/schema.ts'
import { sleep } from '#test/support/queue.ts'

// What every chaos scenario counts. "Lost": a render or bulk item that should
// exist has no terminal state, vanished, or claims a result that is not
// stored. "Duplicated": rendered, charged or published twice. "Stuck": not
// terminal within the scenario's bound. "Unclear": a failure whose error
// does not say what happened (no code we expect, or raw system text).

export interface ScenarioResult {
  name: string
  passed: boolean
  lost: number
  duplicated: number
  stuck: number
  problems: string[]
  notes: string[]
}

export class Tally {
  lost = 0
  duplicated = 0
  stuck = 0
  readonly problems: string[] = []
  readonly notes: string[] = []

  constructor(readonly name: string) {}

  problem(kind: 'lost' | 'duplicated' | 'stuck' | 'unclear' | 'broken', what: string): void {
    if (kind === 'lost' || kind === 'duplicated' || kind === 'stuck') this[kind]++
    this.problems.push(`${kind}: ${what}`)
  }

  /** A fact worth printing (what the scenario saw), not a failure. */
  note(what: string): void {
    this.notes.push(what)
  }

  expect(ok: boolean, what: string): void {
    if (!ok) this.problem('broken', what)
  }

  result(): ScenarioResult {
    return {
      name: this.name,
      passed: this.problems.length === 0,
      lost: this.lost,
      duplicated: this.duplicated,
      stuck: this.stuck,
      problems: this.problems,
      notes: this.notes,
    }
  }
}

const terminal: Render['status'][] = ['succeeded', 'failed', 'canceled']
/** Raw system text a merchant must never see as the reason a render failed (a detail in parentheses may carry an errno). */
const RAW = /ENOSPC|ECONNREFUSED|ECONNRESET|ETIMEDOUT|SyntaxError|Unexpected token|undefined|\[object |TypeError|at .+:\d+:\d+|✖|Invalid input|expected \w+, received/

function readsRaw(message: string): boolean {
  return RAW.test(message.replace(/\([^()]*\)/g, ''))
}

/** Polls until `probe` is truthy or `timeoutMs` passes; errors in the probe (a server restarting) count as "not yet". */
export async function until<T>(probe: () => Promise<T | false | undefined | null>, timeoutMs: number, intervalMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value) return value
    if (Date.now() > deadline) return undefined
    await sleep(intervalMs)
  }
}

async function rowsOf(ids: string[]): Promise<Render[]> {
  return ids.length === 0 ? [] : db().select().from(renders).where(inArray(renders.id, ids))
}

/**
 * Waits up to `boundMs` for every render to be terminal, then counts: a
 * missing row or a success without its stored result is lost, a second
 * ledger row is a duplicate, a non-terminal one is stuck, a failure whose
 * code is not in `allowedErrors` (or reads like raw system text) is unclear.
 */
export async function auditRenders(
  tally: Tally,
  ids: string[],
  opts: { boundMs: number; allowedErrors: string[]; mustSucceed?: boolean },
): Promise<Render[]> {
  const rows =
    (await until(async () => {
      const found = await rowsOf(ids)
      return found.length === ids.length && found.every((r) => terminal.includes(r.status)) ? found : undefined
    }, opts.boundMs)) ?? (await until(() => rowsOf(ids), 10_000)) ?? []
  for (const id of ids) {
    const row = rows.find((r) => r.id === id)
    if (!row) {
      tally.problem('lost', `render ${id} is gone`)
      continue
    }
    if (!terminal.includes(row.status)) {
      tally.problem('stuck', `render ${id} still ${row.status} after ${opts.boundMs / 1000} s (${row.progressMessage ?? row.errorCode ?? ''})`)
      continue
    }
    if (row.status === 'succeeded' && (!row.resultKey || !(await imageStore().has(row.resultKey)))) {
      tally.problem('lost', `render ${id} succeeded but its result ${row.resultKey ?? '(none)'} is not stored`)
    }
    if (row.status === 'failed') {
      const clear = opts.allowedErrors.includes(row.errorCode ?? '') && !!row.errorMessage && !readsRaw(row.errorMessage)
      if (!clear) tally.problem('unclear', `render ${id} failed with ${row.errorCode}: ${row.errorMessage}`)
      if (opts.mustSucceed) tally.problem('broken', `render ${id} failed (${row.errorCode}) where it should have succeeded`)
    }
  }
  const ledger = ids.length === 0 ? [] : await db().select().from(usageLedger).where(inArray(usageLedger.renderId, ids))
  for (const id of ids) {
    const charged = ledger.filter((l) => l.renderId === id).length
    const row = rows.find((r) => r.id === id)
    if (charged > 1) tally.problem('duplicated', `render ${id} recorded ${charged} times in the usage ledger`)
    if (row?.status === 'succeeded' && charged === 0) tally.problem('lost', `render ${id} succeeded with no usage recorded`)
  }
  const outcome = Object.entries(
    rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [`${r.status}${r.errorCode ? `/${r.errorCode}` : ''}`]: (acc[`${r.status}${r.errorCode ? `/${r.errorCode}` : ''}`] ?? 0) + 1 }), {}),
  )
    .map(([k, n]) => `${n} ${k}`)
    .join(', ')
  tally.note(`renders: ${outcome || 'none'}`)
  return rows
}

export async function readRun(runId: string): Promise<BulkRun | undefined> {
  return db().query.bulkRuns.findFirst({ where: eq(bulkRuns.id, runId) })
}

/**
 * A bulk run's bookkeeping after chaos: it completes within `boundMs`, has
 * `expected` items, each terminal with one render of its own, the run made
 * no render beyond them, and every render is audited as above.
 */
export async function auditBulkRun(tally: Tally, runId: string, expected: number, boundMs: number): Promise<void> {
  const run = await until(async () => {
    const r = await readRun(runId)
    return r && ['completed', 'failed', 'canceled'].includes(r.status) ? r : undefined
  }, boundMs)
  const items = (await until(() => db().select().from(bulkRunItems).where(eq(bulkRunItems.runId, runId)), 10_000)) ?? []
  if (!run) {
    const now = await readRun(runId).catch(() => undefined)
    const open = items.filter((i) => !['succeeded', 'failed', 'canceled'].includes(i.status)).length
    tally.problem('stuck', `bulk run ${runId} still ${now?.status ?? 'missing'} after ${boundMs / 1000} s (${open} of ${items.length} items open)`)
  } else if (run.status !== 'completed') {
    tally.problem('broken', `bulk run ended ${run.status}: ${run.errorMessage ?? ''}`)
  }
  if (items.length !== expected) tally.problem('lost', `bulk run has ${items.length} items, expected ${expected}`)
  const made = await db().select().from(renders).where(eq(renders.batchId, runId))
  const byItem = new Set(items.map((i) => i.renderId).filter(Boolean))
  if (made.length > items.length) tally.problem('duplicated', `bulk run made ${made.length} renders for ${items.length} items`)
  const looks = new Set(made.map((r) => `${r.productRef}|${r.sourceImageRef}|${r.sceneId}|${r.personaId}|${r.seed}`))
  if (looks.size < made.length) tally.problem('duplicated', `${made.length - looks.size} renders of the run repeat another one`)
  for (const item of items) {
    if (!item.renderId && item.status !== 'canceled') tally.problem('lost', `bulk item ${item.id} (${item.status}) has no render`)
    const render = made.find((r) => r.id === item.renderId)
    if (run && render && terminal.includes(render.status) && render.status !== item.status) {
      tally.problem('lost', `bulk item ${item.id} says ${item.status} but its render is ${render.status}`)
    }
  }
  if (byItem.size < items.filter((i) => i.renderId).length) tally.problem('duplicated', 'two bulk items share one render')
  await auditRenders(tally, made.map((r) => r.id), { boundMs: 1_000, allowedErrors: [] })
}

export interface Child {
  readonly child: ChildProcess
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  output(): string
  /** The first stdout line that parses as JSON. */
  readonly firstJson: Promise<Record<string, unknown>>
}

/** Runs a helper script of this folder (a fake server, a publisher) as its own process, with this process's environment. */
export function runScript(file: string, args: string[] = [], extraEnv: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL(file, import.meta.url).pathname, ...args], {
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let resolveJson: (v: Record<string, unknown>) => void = () => {}
  const firstJson = new Promise<Record<string, unknown>>((resolve) => (resolveJson = resolve))
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString()
    for (const line of output.split('\n')) {
      try {
        const parsed = JSON.parse(line) as unknown
        if (parsed && typeof parsed === 'object') resolveJson(parsed as Record<string, unknown>)
      } catch {
        // not a JSON line
      }
    }
  })
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  void exited.then(() => resolveJson({ exited: true }))
  return { child, exited, output: () => output, firstJson }
}

/** The timings every chaos process runs with (set by run.ts), handed on to the worker processes it spawns. */
export const KNOBS = [
  'WORKER_LOCK_MS',
  'WORKER_CONCURRENCY',
  'BULK_TICK_MS',
  'MAX_OUTPUT_EDGE',
  'GATE_RETRIES',
  'RENDER_ATTEMPTS',
  'RENDER_BACKOFF_MS',
  'RENDER_TIMEOUT_MS',
  'RENDER_WAIT_TIMEOUT',
  'SHUTDOWN_TIMEOUT_MS',
  'SHOPIFY_ADMIN_ORIGIN',
  'ENCRYPTION_KEY',
] as const

export function knobs(): Record<string, string> {
  return Object.fromEntries(KNOBS.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])))
}
