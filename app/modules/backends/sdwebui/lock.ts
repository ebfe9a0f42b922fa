// A first-come, first-served lock per SD WebUI server, inside this process.
//
// why: SD WebUI runs one generation at a time behind one global lock, and its
// progress and interrupt are global too. A second request sent while one runs
// would wait inside the server, where we cannot see or cancel it, and its
// progress would read as ours. So each process sends one generation at a time
// per server; across processes the scheduler gives each SD WebUI backend one
// slot (docs in sdwebui/README.md).

export interface ServerLock {
  /** Resolves with `release` once the lock is ours; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void>
  /** Whether someone holds it now (for "waiting for the server" progress). */
  readonly held: boolean
}

export function createServerLock(): ServerLock {
  let held = false
  const queue: Array<() => void> = []

  const releaser = () => {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = queue.shift()
      if (next) next()
      else held = false
    }
  }

  return {
    get held() {
      return held
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason)
      if (!held) {
        held = true
        return Promise.resolve(releaser())
      }
      return new Promise((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', onAbort)
          resolve(releaser())
        }
        const onAbort = () => {
          const i = queue.indexOf(grant)
          if (i >= 0) queue.splice(i, 1)
          reject(signal!.reason)
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        queue.push(grant)
      })
    },
  }
}

/** One lock per server URL in this process, so two backend objects for one server still take turns. */
const locks = new Map<string, ServerLock>()

export function serverLock(baseUrl: string): ServerLock {
  let lock = locks.get(baseUrl)
  if (!lock) {
    lock = createServerLock()
    locks.set(baseUrl, lock)
  }
  return lock
}
