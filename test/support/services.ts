import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'

// Private Redis and PostgreSQL servers for tests that kill or restart them:
// their own process on a free port and a temp dir, never the shared ones.

/** A free TCP port on 127.0.0.1 (bound and released: a server started right after gets it). */
export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Drops a throwaway database (its name must contain `mustContain`), so a run starts from nothing. */
export async function dropDatabase(url: string, mustContain: string): Promise<void> {
  const name = new URL(url).pathname.slice(1)
  if (!name.includes(mustContain)) throw new Error(`Refusing to drop ${name}: its name must contain "${mustContain}"`)
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    await client.query(`drop database if exists "${name}" with (force)`)
  } finally {
    await client.end()
  }
}

async function waitForPort(
  port: number,
  child: ChildProcess,
  what: string,
  output: () => string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited at start:\n${output()}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => resolve(true))
      socket.once('error', () => resolve(false))
    }).then((ok) => ok)
    if (open) return
    await sleep(50)
  }
  throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms:\n${output()}`)
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

export interface PrivateService {
  readonly url: string
  readonly port: number
  /** Stops the server: SIGKILL (a crash) or a clean stop. */
  stop(how?: 'kill' | 'clean'): Promise<void>
  /** Starts it again on the same port (after stop()). */
  start(): Promise<void>
  /** stop() then start(). */
  restart(how?: 'kill' | 'clean'): Promise<void>
  /** Stops it for good and removes its files. */
  destroy(): Promise<void>
  alive(): boolean
}

function managed(
  what: string,
  port: number,
  url: string,
  launch: () => ChildProcess,
  cleanSignal: NodeJS.Signals,
  dir: string,
): PrivateService & { start(): Promise<void> } {
  let child: ChildProcess | undefined
  let output = ''
  const service = {
    url,
    port,
    alive: () => !!child && child.exitCode === null && child.signalCode === null,
    async start() {
      output = ''
      const c = launch()
      child = c
      c.stdout?.on('data', (d: Buffer) => (output += d.toString()))
      c.stderr?.on('data', (d: Buffer) => (output += d.toString()))
      await waitForPort(port, c, what, () => output)
    },
    async stop(how: 'kill' | 'clean' = 'kill') {
      const c = child
      if (!c || !service.alive()) return
      c.kill(how === 'kill' ? 'SIGKILL' : cleanSignal)
      await exited(c)
    },
    async restart(how: 'kill' | 'clean' = 'kill') {
      await service.stop(how)
      await service.start()
    },
    async destroy() {
      await service.stop('kill')
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return service
}

/** Its own `redis-server` on a free port, no persistence (a restart loses everything, like a crash without AOF). */
export async function startPrivateRedis(): Promise<PrivateService> {
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-redis-'))
  const service = managed(
    'redis-server',
    port,
    `redis://127.0.0.1:${port}`,
    () =>
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    'SIGTERM',
    dir,
  )
  await service.start()
  return service
}

/** The newest PostgreSQL server binaries on this machine (Debian's layout). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : []
  if (versions.length === 0)
    throw new Error('No PostgreSQL server binaries under /usr/lib/postgresql (apt-get install -y postgresql)')
  return path.join(root, versions[0], 'bin')
}

/**
 * Its own PostgreSQL (`initdb` into a temp dir, trust auth, fsync off) on a
 * free port. why the postgres user: the server refuses to run as root, and
 * these tests run as root in CI.
 */
export async function startPrivatePostgres(): Promise<PrivateService> {
  const bin = postgresBinDir()
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-pg-'))
  const asUser = process.getuid?.() === 0 ? userIds('postgres') : {}
  if (asUser.uid !== undefined) chownSync(dir, asUser.uid, asUser.gid!)
  const data = path.join(dir, 'data')
  execFileSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'], {
    ...asUser,
    stdio: 'pipe',
  })
  const service = managed(
    'postgres',
    port,
    `postgres://postgres@127.0.0.1:${port}/atelier_chaos`,
    () =>
      spawn(
        path.join(bin, 'postgres'),
        ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-F', '-c', 'max_connections=100'],
        { ...asUser, stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    // why SIGINT: PostgreSQL's "fast" shutdown (SIGTERM waits for every client to leave).
    'SIGINT',
    dir,
  )
  await service.start()
  return service
}

function userIds(name: string): { uid?: number; gid?: number } {
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim())
  const gid = Number(execFileSync('id', ['-g', name]).toString().trim())
  return { uid, gid }
}
