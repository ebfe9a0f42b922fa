import { randomUUID } from 'node:crypto'
import { AppError } from '#app/lib/errors.ts'
import type { ApiWorkflow, HistoryEntry, NodeErrors } from './api.ts'
import { abortedError, promptRejectedError } from './errors.ts'
import { cancel, queueState, submit } from './http.server.ts'
import {
  active,
  closeSocket,
  emit,
  ensureSocket,
  fail,
  markRunning,
  reconcile,
  scheduleReconnect,
  type ComfySession,
  type RunEvent,
  type Waiter,
} from './progress.server.ts'

// One prompt from queueing to its history entry, and the timer that checks
// every prompt the socket has been quiet about with GET /history and /queue,
// and stops and fails a running prompt nobody hears from.

export interface RunOptions {
  /** Our id for the prompt (default: a fresh uuid). */
  promptId?: string
  /** Aborting interrupts the prompt on the server (by its id) or takes it off the queue. */
  signal?: AbortSignal
  onEvent?: (event: RunEvent) => void
}

export interface RunResult {
  promptId: string
  entry: HistoryEntry
}

/** A client's whole state: its session plus the timer's settings and handles. */
export interface ComfyState extends ComfySession {
  pollIntervalMs: number
  stallTimeoutMs: number
  socketSilenceMs: number
  idleCloseMs: number
  idleTimer?: ReturnType<typeof setTimeout>
  pollTimer?: ReturnType<typeof setInterval>
  ticking: boolean
  /** Since when every check of the server failed (undefined while it answers). */
  unreachableSince?: number
}

// ------------------------------------------------------------ the timer

/** The error for a prompt the server left unanswered; the job's retry queues it again. */
function promptError(
  s: ComfyState,
  w: Waiter,
  code: 'BACKEND_UNAVAILABLE' | 'BACKEND_TIMEOUT' | 'BACKEND_FAILED',
  message: string,
) {
  return new AppError(code, message, { retryable: true, details: { backend: s.conn.baseUrl, promptId: w.promptId } })
}

async function tick(s: ComfyState): Promise<void> {
  if (s.ticking) return
  s.ticking = true
  try {
    const now = Date.now()
    const waiting = active(s).filter((w) => w.phase !== 'submitting')
    if (waiting.length === 0) return
    if (!s.socket && !s.opening && !s.reconnectTimer) scheduleReconnect(s)
    if (
      s.socket?.readyState === WebSocket.OPEN &&
      waiting.some((w) => w.phase === 'running') &&
      now - s.socketHeardAt > s.socketSilenceMs
    ) {
      // A silent socket may be a dead one that never closed: reopen it (the server then resends what runs).
      s.conn.log().info({ silentMs: now - s.socketHeardAt }, 'ComfyUI socket silent while a prompt runs; reconnecting')
      closeSocket(s)
    }
    const quiet = waiting.filter((w) => now - w.heardAt >= s.pollIntervalMs || w.phase === 'finishing')
    if (quiet.length === 0) return
    await Promise.all(quiet.map((w) => reconcile(s, w)))
    const unknown = quiet.filter((w) => !w.settled && w.phase !== 'finishing')
    if (unknown.length === 0) return
    let state: Awaited<ReturnType<typeof queueState>>
    try {
      state = await queueState(s.conn)
      s.unreachableSince = undefined
    } catch (e) {
      s.conn.log().debug({ reason: (e as Error).message }, 'queue check failed')
      s.unreachableSince ??= now
      if (now - s.unreachableSince > s.stallTimeoutMs) {
        // why give up: a server down this long has lost its in-memory queue; the job's retry queues again.
        const silentS = Math.round((now - s.unreachableSince) / 1000)
        for (const w of unknown) {
          fail(w, promptError(s, w, 'BACKEND_UNAVAILABLE', `ComfyUI at ${s.conn.baseUrl} has not answered for ${silentS} s`))
        }
      }
      return
    }
    for (const w of unknown) {
      if (w.settled) continue
      if (state.running.has(w.promptId)) {
        w.absent = 0
        markRunning(s, w)
        if (Date.now() - w.heardAt > s.stallTimeoutMs) {
          const message = `ComfyUI said nothing about the prompt for ${Math.round(s.stallTimeoutMs / 1000)} s while running it`
          fail(w, promptError(s, w, 'BACKEND_TIMEOUT', message))
          void cancel(s.conn, w.promptId)
        }
      } else if (state.pending.has(w.promptId)) {
        w.absent = 0
        if (w.phase !== 'queued') w.phase = 'queued'
        w.heardAt = Date.now()
      } else if (++w.absent >= 3) {
        // Neither queued, running nor in the history, three times over: the
        // server restarted (its queue and history live in memory only).
        fail(w, promptError(s, w, 'BACKEND_FAILED', 'ComfyUI no longer knows the prompt (was the server restarted?)'))
      }
    }
  } finally {
    s.ticking = false
  }
}

function startTimers(s: ComfyState): void {
  clearTimeout(s.idleTimer)
  s.idleTimer = undefined
  if (!s.pollTimer) {
    s.pollTimer = setInterval(() => void tick(s), s.pollIntervalMs)
    s.pollTimer.unref?.()
  }
}

function stopTimersIfIdle(s: ComfyState): void {
  if (s.waiters.size > 0) return
  clearInterval(s.pollTimer)
  s.pollTimer = undefined
  if (!s.idleTimer && !s.closed) {
    s.idleTimer = setTimeout(() => {
      s.idleTimer = undefined
      if (s.waiters.size === 0) closeSocket(s)
    }, s.idleCloseMs)
    s.idleTimer.unref?.()
  }
}

/** Stops the timers, fails every waiting render and closes the socket. */
export function closeClient(s: ComfyState): void {
  s.closed = true
  clearInterval(s.pollTimer)
  clearTimeout(s.idleTimer)
  clearTimeout(s.reconnectTimer)
  s.pollTimer = s.idleTimer = s.reconnectTimer = undefined
  for (const w of active(s)) {
    fail(w, new AppError('BACKEND_UNAVAILABLE', `The ComfyUI client for ${s.conn.baseUrl} was closed`, { retryable: true }))
  }
  closeSocket(s)
}

// ------------------------------------------------------------ run

function newWaiter(promptId: string, onEvent: RunOptions['onEvent']): { w: Waiter; done: Promise<HistoryEntry> } {
  let resolve!: (entry: HistoryEntry) => void
  let reject!: (error: unknown) => void
  const done = new Promise<HistoryEntry>((res, rej) => {
    resolve = res
    reject = rej
  })
  // why: a waiter may fail while run() still awaits the submission.
  done.catch(() => undefined)
  const w: Waiter = {
    promptId,
    phase: 'submitting',
    heardAt: Date.now(),
    absent: 0,
    reconciling: false,
    retries: 0,
    canceling: false,
    settled: false,
    onEvent,
    resolve,
    reject,
  }
  return { w, done }
}

/** Queues the workflow and resolves with its history entry once it succeeded. */
export async function run(s: ComfyState, workflow: ApiWorkflow, opts: RunOptions = {}): Promise<RunResult> {
  const { conn } = s
  if (s.closed) throw new AppError('BACKEND_UNAVAILABLE', `The ComfyUI client for ${conn.baseUrl} is closed`, { retryable: true })
  const { signal } = opts
  if (signal?.aborted) throw abortedError(signal.reason)
  let promptId = opts.promptId ?? randomUUID()
  startTimers(s)
  // The socket first, so the prompt's first messages are not missed.
  await ensureSocket(s)
  if (signal?.aborted) throw abortedError(signal.reason)

  const { w, done } = newWaiter(promptId, opts.onEvent)
  s.waiters.set(promptId, w)

  let submitted: Promise<unknown> = Promise.resolve()
  const onAbort = () => {
    if (w.settled || w.canceling) return
    w.canceling = true
    const error = abortedError(signal!.reason)
    // Cancel only after the submission settled, so a prompt in flight is not left behind.
    void submitted
      .catch(() => undefined)
      .then(() => cancel(conn, w.promptId))
      .finally(() => fail(w, error))
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const submission = submit(conn, workflow, promptId)
    submitted = submission
    const accepted = await submission
    if (accepted.prompt_id !== promptId) {
      // A server that ignored our id: follow its own.
      s.waiters.delete(promptId)
      promptId = accepted.prompt_id
      w.promptId = promptId
      s.waiters.set(promptId, w)
    }
    if (w.phase === 'submitting') {
      w.phase = 'queued'
      w.heardAt = Date.now()
    }
    emit(s, w, { kind: 'queued', number: accepted.number })
    const nodeErrors = accepted.node_errors
    if (nodeErrors && !Array.isArray(nodeErrors) && typeof nodeErrors === 'object' && Object.keys(nodeErrors).length > 0) {
      // Some outputs were dropped at validation; ours is the only one, so the run is useless.
      await cancel(conn, promptId)
      const error = {
        type: 'prompt_outputs_failed_validation',
        message: 'Some outputs failed validation',
        details: '',
        extra_info: {},
      }
      throw promptRejectedError(conn.baseUrl, { error, node_errors: nodeErrors as NodeErrors }, workflow)
    }
    const entry = await done
    return { promptId, entry }
  } catch (e) {
    // A submission that failed after the caller gave up is reported as the caller's cancel or timeout.
    throw w.canceling ? abortedError(signal?.reason) : e
  } finally {
    signal?.removeEventListener('abort', onAbort)
    clearTimeout(w.retry)
    w.settled = true
    s.waiters.delete(promptId)
    stopTimersIfIdle(s)
  }
}
