// The load bench's separate processes: the built web server (scripts/serve.ts)
// on a free port, and what each process spent of the CPU.
import { spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { copyCatalog } from '#test/support/isolation.ts'
import { dropDatabase, freePort } from '#test/support/services.ts'
import { sleep } from './support.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export { freePort }

/**
 * Points this process at the bench's own database, queue prefix, signing
 * secret, image store and catalog copy. Call before any app module reads
 * env(): a bench never touches the developer's. Returns the steps that
 * remove the folders it made.
 */
export function isolateBench(name: string, databaseUrl: string): { storageDir: string; removeFolders: (() => void)[] } {
  process.env.NODE_ENV ??= 'test'
  process.env.LOG_LEVEL ??= 'warn'
  process.env.DATABASE_URL = databaseUrl
  process.env.QUEUE_PREFIX = `atelier-bench-${name}-${process.pid}`
  process.env.SIGNING_SECRET = `${name}-bench-signing-secret-${process.pid}`
  const storageDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-storage-'))
  process.env.STORAGE_DIR = storageDir
  const catalogDir = copyCatalog()
  process.env.CATALOG_DIR = catalogDir
  return {
    storageDir,
    removeFolders: [() => rmSync(storageDir, { recursive: true, force: true }), () => rmSync(catalogDir, { recursive: true, force: true })],
  }
}

/** The environment of a web process serving local mode on `port`, on this process's database, queue, store and catalog. */
export function localServerEnv(
  e: { DATABASE_URL: string; REDIS_URL: string; QUEUE_PREFIX: string; STORAGE_DIR: string; CATALOG_DIR?: string },
  port: number,
  extra: NodeJS.ProcessEnv,
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...extra,
    APP_MODE: 'local',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: e.DATABASE_URL,
    REDIS_URL: e.REDIS_URL,
    QUEUE_PREFIX: e.QUEUE_PREFIX,
    STORAGE_DIR: path.resolve(e.STORAGE_DIR),
    CATALOG_DIR: path.resolve(e.CATALOG_DIR ?? ''),
  }
}

/** Drops and recreates the bench's own database, so every run starts from the same empty state. */
export async function freshDatabase(url: string, mustContain = 'load'): Promise<void> {
  await dropDatabase(url, mustContain)
  const { applyMigrations, ensureDatabase } = await import('#app/lib/setup.server.ts')
  await ensureDatabase(url)
  await applyMigrations(url)
}

export interface ServerProcess {
  url: string
  pid: number
  stop(): Promise<void>
}

/**
 * `scripts/serve.ts` on the build, in its own process, logging to `logFile`.
 * why a file: at info level it logs every request, and a pipe the bench must
 * drain would put that cost on the load generator.
 */
export async function startServerProcess(env: NodeJS.ProcessEnv, logFile: string): Promise<ServerProcess> {
  const out = openSync(logFile, 'a')
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/serve.ts'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', out, out],
  })
  closeSync(out)
  let exited = false
  const gone = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())))
  const deadline = Date.now() + 60_000
  let url: string | undefined
  while (!url) {
    if (exited) throw new Error(`the web server exited before serving:\n${readFileSync(logFile, 'utf8')}`)
    if (Date.now() > deadline) throw new Error(`the web server did not start within 60 s:\n${readFileSync(logFile, 'utf8')}`)
    await sleep(100)
    url = /serving at (http:\/\/\S+)\/app/.exec(readFileSync(logFile, 'utf8'))?.[1]
  }
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (exited) return
      child.kill('SIGTERM')
      await Promise.race([gone, sleep(5_000)])
      if (!exited) child.kill('SIGKILL')
      await gone
    },
  }
}

const TICKS_PER_S = 100

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // why after the last ')': the command name may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S
}

/** CPU seconds the whole machine has spent busy so far (every process, every core), from /proc/stat. */
export function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/)
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number)
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_S
}
