// A small pool of worker threads that run the fidelity check (thread.server.ts),
// so its JavaScript runs beside the composite and the encode, not after them.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'

/** What a fidelity thread is asked to do: the name of a check.server.ts function and its arguments. */
export type ThreadTask = 'prepare' | 'compare'

interface Job {
  task: ThreadTask
  args: unknown[]
  resolve: (value: unknown) => void
  reject: (error: Error) => void
}

interface Slot {
  worker: Worker
  job: Job | null
  /** Resolves once the thread has loaded the check (its first message). */
  ready: Promise<void>
  loaded: boolean
}

/** A job's reply from thread.server.ts (which first says `{ ready: true }` once loaded). */
export type ThreadReply = { ok: true; value: unknown } | { ok: false; error: { name: string; message: string; stack?: string } }

/** A thread that could not load the check: the caller runs it in its own thread instead. */
export class ThreadStartError extends Error {
  override name = 'ThreadStartError'
}

export interface FidelityThreads {
  readonly size: number
  run<T>(task: ThreadTask, args: unknown[]): Promise<T>
  /** Starts every thread now, so the first renders do not pay for loading the check. */
  warm(): Promise<void>
  close(): Promise<void>
}

// why a variable and not a literal in `new URL`: Vite would otherwise copy the file into the web build as an asset.
const ENTRY = './thread.server.ts'
/** Where the entry is from the project root: how the built server (one bundle in build/server) finds it. */
const FROM_ROOT = 'app/modules/imaging/fidelity/thread.server.ts'

/** The thread entry as a file URL: beside this module, else under the project root; null when neither is on disk. */
export function threadEntry(): URL | null {
  const candidates = [new URL(ENTRY, import.meta.url), pathToFileURL(path.resolve(FROM_ROOT))]
  return candidates.find((url) => url.protocol === 'file:' && existsSync(fileURLToPath(url))) ?? null
}

export function createFidelityThreads(size: number, entry: URL): FidelityThreads {
  const slots: Slot[] = []
  const waiting: Job[] = []
  let closed = false
  let broken: ThreadStartError | null = null

  const start = (): Slot => {
    let loaded!: () => void
    const slot: Slot = { worker: new Worker(entry), job: null, ready: new Promise((r) => (loaded = r)), loaded: false }
    slot.worker.unref()
    slot.worker.on('message', (reply: ThreadReply | { ready: true }) => {
      if ('ready' in reply) {
        slot.loaded = true
        loaded()
      } else settle(slot, reply)
    })
    slot.worker.on('error', (error) => fail(slot, error))
    slot.worker.on('exit', (code) => fail(slot, new Error(`fidelity thread exited with code ${code}`)))
    slots.push(slot)
    return slot
  }

  const dispatch = (): void => {
    while (waiting.length > 0) {
      const slot = slots.find((s) => !s.job) ?? (slots.length < size ? start() : undefined)
      if (!slot) return
      const job = waiting.shift()!
      slot.job = job
      // why ref while busy: an idle pool must not keep a script alive, a running check must.
      slot.worker.ref()
      slot.worker.postMessage({ task: job.task, args: job.args })
    }
  }

  const settle = (slot: Slot, reply: ThreadReply): void => {
    const job = slot.job
    slot.job = null
    slot.worker.unref()
    if (job) {
      if (reply.ok) job.resolve(reply.value)
      else job.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name, stack: reply.error.stack }))
    }
    dispatch()
  }

  // why: a thread that dies takes only its own check with it; the next job starts a fresh one.
  // One that never loaded will not load next time either: every waiting job is told so.
  const fail = (slot: Slot, error: Error): void => {
    const at = slots.indexOf(slot)
    if (at < 0) return
    slots.splice(at, 1)
    const job = slot.job
    slot.job = null
    void slot.worker.terminate()
    if (!slot.loaded) {
      broken = new ThreadStartError(`fidelity thread did not start: ${error.message}`)
      for (const j of [...(job ? [job] : []), ...waiting.splice(0)]) j.reject(broken)
      return
    }
    job?.reject(error)
    if (!closed) dispatch()
  }

  return {
    size,
    run<T>(task: ThreadTask, args: unknown[]): Promise<T> {
      if (broken) return Promise.reject(broken)
      if (closed) return Promise.reject(new Error('fidelity threads are closed'))
      return new Promise<T>((resolve, reject) => {
        waiting.push({ task, args, resolve: resolve as (v: unknown) => void, reject })
        dispatch()
      })
    },
    async warm() {
      while (!closed && !broken && slots.length < size) start()
      // why race with the exit: a thread that fails to load never says ready.
      const exited = (s: Slot) => new Promise<void>((resolve) => s.worker.once('exit', () => resolve()))
      await Promise.all(slots.map((s) => Promise.race([s.ready, exited(s)])))
    },
    async close() {
      closed = true
      const stopped = slots.splice(0)
      const jobs = [...stopped.flatMap((s) => (s.job ? [s.job] : [])), ...waiting.splice(0)]
      for (const job of jobs) job.reject(new Error('fidelity threads are closed'))
      await Promise.all(stopped.map((s) => s.worker.terminate()))
    },
  }
}
