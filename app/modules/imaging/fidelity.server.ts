// The fidelity check's one entry point. The check (imaging/fidelity/) runs on
// a pool of worker threads sized to the machine (FIDELITY_THREADS), so on a
// machine with cores to spare its JavaScript overlaps the composite and the
// encode (docs/decisions/014-fidelity-threads.md); with 0 threads, or where a
// thread cannot start, it runs in the caller's thread with the same results.
import { availableParallelism } from 'node:os'
import { env } from '#app/lib/env.server.ts'
import { logger } from '#app/lib/logger.server.ts'
import * as check from './fidelity/check.server.ts'
import { shareImage } from './fidelity/share.ts'
import {
  createFidelityThreads,
  threadEntry,
  ThreadStartError,
  type FidelityThreads,
  type ThreadTask,
} from './fidelity/threads.server.ts'
import type { Fidelity, FidelityInput, FidelityReference } from './fidelity/check.server.ts'
import type { RawImage } from './types.ts'

export { FIDELITY_VERSION, fidelityScore } from './fidelity/check.server.ts'
export { sharedBytes } from './fidelity/share.ts'
export type { Fidelity, FidelityInput, FidelityReference } from './fidelity/check.server.ts'
// why re-exported: the eval reads the readings behind a score through this entry.
export { compareDetail, type DetailReadings } from './fidelity/compare.server.ts'

let threads: FidelityThreads | null | undefined

/**
 * One thread per core beyond the first, none on two cores or fewer. why: on
 * two cores a render already keeps both busy (libvips, the encoder, the
 * composite), and the threads' copies and second heaps made renders slower
 * (`npm run bench -- imaging`, docs/decisions/014-fidelity-threads.md).
 */
export function defaultThreads(cores: number): number {
  return cores > 2 ? cores - 1 : 0
}

/** The pool, started on first use; null when the check runs in the caller's thread. */
function pool(): FidelityThreads | null {
  if (threads !== undefined) return threads
  const size = env().FIDELITY_THREADS ?? defaultThreads(availableParallelism())
  const entry = size > 0 ? threadEntry() : null
  threads = entry ? createFidelityThreads(size, entry) : null
  return threads
}

/** Runs `task` on a thread with `args()` (pixels moved to shared memory), else `here()` in this thread. */
async function run<T>(task: ThreadTask, args: () => unknown[], here: () => Promise<T>): Promise<T> {
  const p = pool()
  if (!p) return here()
  try {
    return await p.run<T>(task, args())
  } catch (e) {
    if (!(e instanceof ThreadStartError)) throw e
    logger().warn({ err: e.message }, 'fidelity threads unavailable: checking fidelity on the main thread')
    threads = null
    void p.close()
    return here()
  }
}

/**
 * Everything that needs only the source and the placement. why separate: it
 * needs no result pixels, so a backend can run it whenever it has a core to
 * spare (the CPU studio starts it once the product is placed, a remote render
 * while the backend works), and only the comparison waits for final pixels.
 */
export function prepareFidelity(input: Parameters<typeof check.prepareFidelity>[0]): Promise<FidelityReference> {
  const shared = () => [
    {
      ...input,
      source: { ...input.source, pixels: shareImage(input.source.pixels) },
      sourceMask: shareImage(input.sourceMask),
    },
  ]
  return run('prepare', shared, () => check.prepareFidelity(input))
}

/** Compares a result (pixels or encoded file) of `reference.frame` size with the prepared source side. */
export function compareFidelity(reference: FidelityReference, result: RawImage | Buffer): Promise<Fidelity> {
  return run(
    'compare',
    () => [reference, Buffer.isBuffer(result) ? result : shareImage(result)],
    () => check.compareFidelity(reference, result),
  )
}

/**
 * How faithfully the render kept the product. The source crop and the
 * result's product region are resampled onto the same small grid through the
 * placement, so pixel (i, j) of both is the same point of the product.
 */
export async function measureFidelity(input: FidelityInput): Promise<Fidelity> {
  const { source, sourceMask, result, placement } = input
  const reference = await prepareFidelity({ source, sourceMask, placement, frame: await check.resultSize(result) })
  return compareFidelity(reference, result)
}

/** Starts the threads now (a worker does at start-up), so the first render does not wait for them to load. */
export async function warmFidelity(): Promise<void> {
  await pool()?.warm()
}

/** Stops the threads; the next check starts them again. */
export async function closeFidelity(): Promise<void> {
  const p = threads
  threads = undefined
  await p?.close()
}
