import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { env } from '#app/lib/env.server.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface WorkerProcess {
  readonly child: ChildProcess
  /** Resolves when the worker's BullMQ connection is ready (it says so over IPC). */
  readonly ready: Promise<void>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** What it printed, for failure messages. */
  output(): string
  alive(): boolean
}

const spawned = new Set<WorkerProcess>()

/**
 * Starts `workers/index.ts` (or another entry that runs it, relative to the
 * repo) as its own process, the way `npm run worker` does, against this test
 * file's database, queue prefix and image store.
 */
export function spawnWorkerProcess(extraEnv: Record<string, string> = {}, entry = 'workers/index.ts'): WorkerProcess {
  const e = env()
  // why: an explicit environment, not the test runner's: vitest's own
  // variables (and NODE_OPTIONS loaders) have no business in a worker.
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: e.DATABASE_URL,
    REDIS_URL: e.REDIS_URL,
    QUEUE_PREFIX: e.QUEUE_PREFIX,
    STORAGE_DIR: path.resolve(e.STORAGE_DIR),
    CATALOG_DIR: path.resolve(e.CATALOG_DIR),
    ...extraEnv,
  }
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: unknown) => {
      if ((m as { type?: string })?.type === 'ready') resolve()
    })
    void exited.then(({ code, signal }) =>
      reject(new Error(`worker exited before ready (code ${code}, signal ${signal}):\n${output}`)),
    )
  })
  ready.catch(() => {})
  const handle: WorkerProcess = {
    child,
    ready,
    exited,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
  }
  spawned.add(handle)
  void exited.then(() => spawned.delete(handle))
  return handle
}

/** Kills every worker process this file started and still runs. For afterAll, even after a failure. */
export async function killWorkerProcesses(): Promise<void> {
  await Promise.all(
    [...spawned].map(async (w) => {
      if (w.alive()) w.child.kill('SIGKILL')
      await w.exited
    }),
  )
}
