// Waiting between attempts, abortable by the caller's signal.

/** Full-jitter exponential backoff: 0.5–1 × min(8 s, 400 ms × 2^(n-1)). */
export function backoff(attempt: number): number {
  const ceiling = Math.min(8_000, 400 * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(done, ms)
    function done() {
      signal?.removeEventListener('abort', abort)
      resolve()
    }
    function abort() {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', abort, { once: true })
  })
}
