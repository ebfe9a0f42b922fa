import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import type { Img2imgRequest, Progress, SdModel } from './api.ts'
import { abortedError, type Generation, type SdwebuiClient } from './client.server.ts'
import type { ServerLock } from './lock.ts'
import { checkpointName } from './payload.ts'

// One img2img generation on a server that renders one image at a time: take
// the server's lock, send the request, follow the server's global progress
// while it is ours, and on a cancel interrupt our job (never another's).

/** shared.state.job of a generation sent to /sdapi/v1/img2img (api.py begins its job under this name). */
export const API_IMG2IMG_JOB = 'scripts_img2img'

/** One server as a generation sees it; `loaded` is shared with the render that reads the result. */
export interface SdwebuiServer {
  client: SdwebuiClient
  lock: ServerLock
  log(): Logger
  /** How often GET /sdapi/v1/progress is polled while our generation is in flight. */
  pollIntervalMs: number
  /** After an interrupt, how long the server may take to answer before it is freed for the next render. */
  interruptGraceMs: number
  /** The loaded checkpoint (name without hash); null = ask the server before the next render. */
  loaded: string | null
}

export type Report = (percent: number, message: string) => void

export function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortedError(signal.reason)
}

/** The server's job is an API img2img (under our lock and one slot per server, ours). */
const apiJobRuns = (p: Progress) => p.state.job === API_IMG2IMG_JOB && p.state.job_count !== 0

async function readLoaded(s: SdwebuiServer, signal: AbortSignal): Promise<string | null> {
  const options = await s.client.options(signal)
  return options.sd_model_checkpoint ? checkpointName(options.sd_model_checkpoint) : null
}

export interface Watch {
  /** state.job_timestamp of our job, once a poll saw it run. */
  jobTimestamp?: string
  interrupted: boolean
  stop(): void
}

/** What one progress answer tells the merchant, and what it says of our job. */
export function progressSeen(p: Progress, switching: string | null, watch: Watch, report: Report): void {
  if (!apiJobRuns(p)) {
    // A job from the server's own UI runs first; ours waits inside the server.
    if (p.state.job_count !== 0) report(13, 'SD WebUI is finishing another job first')
    return
  }
  watch.jobTimestamp = p.state.job_timestamp
  if (p.state.interrupted) watch.interrupted = true
  const { sampling_step: step, sampling_steps: steps } = p.state
  if (p.state.job_count < 0 || steps <= 0) return report(14, switching ? `SD WebUI: loading ${switching}` : 'SD WebUI: preparing')
  const eta = p.eta_relative > 0 && Number.isFinite(p.eta_relative) ? `, about ${Math.ceil(p.eta_relative)} s left` : ''
  report(15 + 75 * Math.min(1, Math.max(0, p.progress)), `SD WebUI: step ${Math.min(steps, step + 1)} of ${steps}${eta}`)
}

/** Polls the server's global progress while our request is in flight and reports what is ours. */
function watchProgress(s: SdwebuiServer, report: Report, switching: string | null): Watch {
  const { pollIntervalMs } = s
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  const watch: Watch = {
    interrupted: false,
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
  const tick = async () => {
    if (stopped) return
    try {
      const p = await s.client.progress(AbortSignal.timeout(Math.max(1000, Math.min(5000, pollIntervalMs * 5))))
      if (!stopped) progressSeen(p, switching, watch, report)
    } catch (e) {
      s.log().debug({ reason: (e as Error).message }, 'SD WebUI progress poll failed')
    }
    if (!stopped) timer = setTimeout(() => void tick(), pollIntervalMs)
  }
  timer = setTimeout(() => void tick(), Math.min(pollIntervalMs, 250))
  return watch
}

interface InFlight {
  settled: boolean
  done: Promise<void>
}

/**
 * After the caller gave up: interrupt our job as soon as it is the one
 * running (never someone else's), then free the server once our request
 * has answered, or after `interruptGraceMs` at the latest. The first
 * attempt is awaited, so the interrupt has gone out when render() rejects.
 */
async function stopOnServer(s: SdwebuiServer, inFlight: InFlight, hardStop: AbortController, release: () => void) {
  const { client, pollIntervalMs, interruptGraceMs } = s
  const deadline = Date.now() + interruptGraceMs
  const attempt = async (): Promise<boolean> => {
    if (inFlight.settled) return true
    const p = await client.progress(AbortSignal.timeout(5000)).catch(() => undefined)
    if (inFlight.settled) return true
    if (!p || !apiJobRuns(p)) return false
    await client.interrupt().catch((e: unknown) => s.log().warn({ reason: (e as Error).message }, 'SD WebUI interrupt failed'))
    return true
  }
  const first = await attempt()
  void (async () => {
    let done = first
    while (!done && !inFlight.settled && Date.now() < deadline) {
      await sleep(pollIntervalMs)
      done = await attempt()
    }
    await Promise.race([inFlight.done, sleep(Math.max(0, deadline - Date.now()), undefined, { ref: false })])
    if (!inFlight.settled) {
      s.log().warn({ graceMs: interruptGraceMs }, 'SD WebUI did not answer an interrupted request; freeing the server anyway')
      hardStop.abort(new Error('interrupted request abandoned'))
    }
  })()
    .catch((e: unknown) => s.log().warn({ reason: (e as Error).message }, 'stopping an SD WebUI job failed'))
    .finally(release)
}

/** Sends the request under the server's lock; resolves with the generation, whether the checkpoint changed and whether someone interrupted it. */
export async function generate(
  s: SdwebuiServer,
  body: Img2imgRequest,
  checkpoint: SdModel,
  report: Report,
  signal: AbortSignal,
): Promise<{ generation: Generation; switched: boolean; interrupted: boolean }> {
  const { client, lock } = s
  if (lock.held) report(10, 'waiting for the SD WebUI server (it renders one image at a time)')
  const release = await lock.acquire(signal).catch(() => {
    throw abortedError(signal.reason)
  })
  let releaseLater = false
  try {
    checkAborted(signal)
    const wanted = checkpointName(checkpoint.title)
    s.loaded ??= await readLoaded(s, signal)
    const switching = s.loaded === wanted ? null : wanted
    report(12, switching ? `SD WebUI: loading ${wanted}` : 'SD WebUI: starting')

    // why not the caller's signal: dropping the connection does not stop the
    // server; only an interrupt does, and it must reach our job, not the next.
    const hardStop = new AbortController()
    const sent = client.img2img(body, hardStop.signal)
    const inFlight: InFlight = { settled: false, done: Promise.resolve() }
    const settle = () => {
      inFlight.settled = true
    }
    inFlight.done = sent.then(settle, settle)
    const watch = watchProgress(s, report, switching)
    let onAbort: (() => void) | undefined
    const abandoned = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortedError(signal.reason))
      signal.addEventListener('abort', onAbort, { once: true })
      if (signal.aborted) onAbort()
    })
    abandoned.catch(() => undefined)
    try {
      const generation = await Promise.race([sent, abandoned])
      let interrupted = watch.interrupted
      if (!interrupted && watch.jobTimestamp) {
        // The server keeps `interrupted` until its next job: one look tells whether someone stopped ours.
        const after = await client.progress(AbortSignal.timeout(5000)).catch(() => undefined)
        interrupted = after?.state.job_timestamp === watch.jobTimestamp && after.state.interrupted
      }
      return { generation, switched: switching !== null, interrupted }
    } catch (e) {
      s.loaded = null
      if (signal.aborted) {
        releaseLater = true
        await stopOnServer(s, inFlight, hardStop, release)
        throw abortedError(signal.reason)
      }
      throw e
    } finally {
      watch.stop()
      if (onAbort) signal.removeEventListener('abort', onAbort)
    }
  } finally {
    if (!releaseLater) release()
  }
}
