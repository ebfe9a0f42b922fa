// The load bench's separate processes: the built web server (scripts/serve.ts)
// on a free port, and what each process spent of the CPU.
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { dropDatabase, freePort } from '#test/support/services.ts'
import { sleep } from './support.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export { freePort }

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
