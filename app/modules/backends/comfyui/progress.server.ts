import type { z } from 'zod'
import { AppError } from '#app/lib/errors.ts'
import type { OutboundGuard } from '#app/lib/outbound.server.ts'
import { socketEvents, socketMessageSchema, type HistoryEntry } from './api.ts'
import { executionFailedError } from './errors.ts'
import { history, type ComfyConnection } from './http.server.ts'

// What a waiting render hears about its prompt: ComfyUI's WebSocket (the
// fast path) and GET /history (the truth), both settling the same Waiter.
// The socket is one per client, reopened with backoff while renders wait.

export type RunEvent =
  | { kind: 'queued'; number: number }
  | { kind: 'started' }
  | { kind: 'executing'; node: string }
  | { kind: 'progress'; node: string | null; value: number; max: number }
  | { kind: 'finishing' }

/** One render waiting on its prompt. */
export interface Waiter {
  promptId: string
  phase: 'submitting' | 'queued' | 'running' | 'finishing'
  /** Last socket message about this prompt (or when it was queued / seen to start). */
  heardAt: number
  finishingSince?: number
  /** Consecutive checks that found the prompt neither in history nor in the queue. */
  absent: number
  reconciling: boolean
  retry?: ReturnType<typeof setTimeout>
  retries: number
  /** Set once the caller aborted: late success is ignored. */
  canceling: boolean
  settled: boolean
  onEvent?: (event: RunEvent) => void
  resolve: (entry: HistoryEntry) => void
  reject: (error: unknown) => void
}

/** The client's renders in wait and its socket; every function here takes it explicitly. */
export interface ComfySession {
  conn: ComfyConnection
  waiters: Map<string, Waiter>
  /** How long the history may lag behind `execution_success` / `executing {node: null}`. */
  historyGraceMs: number
  wsUrl: string
  /** The socket connects only where requests may (a shop's own server in Shopify mode). */
  outbound?: OutboundGuard
  connectWaitMs: number
  reconnectMinMs: number
  reconnectMaxMs: number
  socket?: WebSocket
  opening?: Promise<void>
  socketHeardAt: number
  reconnectAttempt: number
  reconnectTimer?: ReturnType<typeof setTimeout>
  closed: boolean
}

// ------------------------------------------------------------ waiters

export function emit(s: ComfySession, w: Waiter, event: RunEvent): void {
  try {
    w.onEvent?.(event)
  } catch (e) {
    s.conn.log().warn({ promptId: w.promptId, reason: (e as Error).message }, 'progress callback failed')
  }
}

export function fail(w: Waiter, error: unknown): void {
  if (w.settled) return
  w.settled = true
  clearTimeout(w.retry)
  w.reject(error)
}

function succeed(w: Waiter, entry: HistoryEntry): void {
  if (w.settled || w.canceling) return
  w.settled = true
  clearTimeout(w.retry)
  w.resolve(entry)
}

function interrupted(baseUrl: string, w: Waiter): AppError {
  return new AppError('RENDER_CANCELED', `The render was interrupted on the ComfyUI server (${baseUrl}).`, {
    retryable: false,
    details: { backend: baseUrl, promptId: w.promptId, by: 'comfyui' },
  })
}

function settleFromHistory(s: ComfySession, w: Waiter, entry: HistoryEntry): void {
  const status = entry.status
  if (!status || (status.status_str === 'success' && status.completed)) return succeed(w, entry)
  for (const [event, data] of status.messages) {
    if (event === 'execution_error') {
      const parsed = socketEvents.execution_error.safeParse(data)
      if (parsed.success) return fail(w, executionFailedError(s.conn.baseUrl, parsed.data))
    }
    if (event === 'execution_interrupted') return w.canceling ? undefined : fail(w, interrupted(s.conn.baseUrl, w))
  }
  fail(
    w,
    new AppError('BACKEND_FAILED', `ComfyUI reported "${status.status_str}" for the prompt without an error message`, {
      retryable: true,
    }),
  )
}

/** Asks the history about a waiter's prompt and settles it if the prompt ended. */
export async function reconcile(s: ComfySession, w: Waiter): Promise<void> {
  if (w.settled || w.reconciling || w.phase === 'submitting') return
  w.reconciling = true
  try {
    const entry = await history(s.conn, w.promptId)
    if (w.settled) return
    if (entry) return settleFromHistory(s, w, entry)
    if (w.phase !== 'finishing') return
    if (Date.now() - (w.finishingSince ?? 0) > s.historyGraceMs) {
      return fail(
        w,
        new AppError('BACKEND_FAILED', `ComfyUI finished the prompt but its history has no entry after ${s.historyGraceMs} ms`, {
          retryable: true,
          details: { backend: s.conn.baseUrl, promptId: w.promptId },
        }),
      )
    }
    // why: execution_success is sent before the history is written; ask again shortly.
    clearTimeout(w.retry)
    w.retry = setTimeout(() => void reconcile(s, w), Math.min(1000, 25 * 2 ** w.retries++))
  } catch (e) {
    // A failed check is not a failed render: the next tick asks again.
    s.conn.log().debug({ promptId: w.promptId, reason: (e as Error).message }, 'history check failed')
  } finally {
    w.reconciling = false
  }
}

function markFinishing(s: ComfySession, w: Waiter): void {
  if (w.phase !== 'finishing') {
    w.phase = 'finishing'
    w.finishingSince = Date.now()
    w.retries = 0
    emit(s, w, { kind: 'finishing' })
  }
  void reconcile(s, w)
}

export function markRunning(s: ComfySession, w: Waiter): void {
  if (w.phase === 'running' || w.phase === 'finishing') return
  w.phase = 'running'
  w.heardAt = Date.now()
  emit(s, w, { kind: 'started' })
}

export function active(s: ComfySession): Waiter[] {
  return [...s.waiters.values()].filter((w) => !w.settled)
}

// ------------------------------------------------------------ socket messages

type SocketEvents = typeof socketEvents
/** A socket message about one prompt, its data checked against the event's schema. */
export type SocketEvent = { [K in keyof SocketEvents]: { type: K; data: z.infer<SocketEvents[K]> } }[keyof SocketEvents]

/** A socket frame as one of the events we follow, or undefined for anything else. */
export function parseSocketMessage(raw: unknown): SocketEvent | undefined {
  // Binary frames are previews (a 4-byte event type, then image bytes): not ours to use.
  if (typeof raw !== 'string') return undefined
  let json: unknown
  try {
    json = JSON.parse(raw)
  } catch {
    return undefined
  }
  const envelope = socketMessageSchema.safeParse(json)
  if (!envelope.success || !Object.hasOwn(socketEvents, envelope.data.type)) return undefined
  const type = envelope.data.type as keyof SocketEvents
  const parsed = socketEvents[type].safeParse(envelope.data.data)
  // why: a message without prompt_id (the `executing` resent on reconnect) can't be placed; polling covers it.
  if (!parsed.success) return undefined
  return { type, data: parsed.data } as SocketEvent
}

function onSocketMessage(s: ComfySession, raw: unknown): void {
  s.socketHeardAt = Date.now()
  const event = parseSocketMessage(raw)
  if (!event) return
  const w = s.waiters.get(event.data.prompt_id)
  if (!w || w.settled) return
  w.heardAt = Date.now()
  w.absent = 0
  switch (event.type) {
    case 'execution_start':
      return markRunning(s, w)
    case 'executing': {
      const { node } = event.data
      if (node === null) return markFinishing(s, w)
      markRunning(s, w)
      return emit(s, w, { kind: 'executing', node })
    }
    case 'progress': {
      const { value, max, node } = event.data
      markRunning(s, w)
      return emit(s, w, { kind: 'progress', node: node ?? null, value, max })
    }
    case 'execution_success':
      return markFinishing(s, w)
    case 'execution_error':
      return fail(w, executionFailedError(s.conn.baseUrl, event.data))
    case 'execution_interrupted':
      // Our own cancel settles with the caller's reason (cancel or timeout) once the requests went out.
      if (w.canceling) return
      return fail(w, interrupted(s.conn.baseUrl, w))
    default:
      return
  }
}

// ------------------------------------------------------------ socket

export function openSocket(s: ComfySession): Promise<void> {
  if (s.closed) return Promise.reject(new Error('client closed'))
  if (s.socket?.readyState === WebSocket.OPEN) return Promise.resolve()
  s.opening ??= new Promise<void>((resolve, reject) => {
    const { headers } = s.conn
    // why the cast: Node's WebSocket (undici) takes handshake headers and a dispatcher; the DOM type knows neither.
    const init = { headers, dispatcher: s.outbound?.dispatcher }
    const ws = headers || s.outbound ? new WebSocket(s.wsUrl, init as unknown as string[]) : new WebSocket(s.wsUrl)
    ws.binaryType = 'arraybuffer'
    s.socket = ws
    let opened = false
    ws.addEventListener('open', () => {
      opened = true
      s.reconnectAttempt = 0
      s.socketHeardAt = Date.now()
      resolve()
      // Messages sent while we were away are lost: ask the history now.
      for (const w of active(s)) void reconcile(s, w)
    })
    ws.addEventListener('message', (event) => onSocketMessage(s, event.data))
    ws.addEventListener('close', () => {
      if (s.socket === ws) s.socket = undefined
      if (!opened) reject(new Error(`WebSocket to ${s.wsUrl} closed before it opened`))
      scheduleReconnect(s)
    })
    // 'close' always follows 'error'; nothing else to do here.
    ws.addEventListener('error', () => undefined)
  }).finally(() => {
    s.opening = undefined
  })
  return s.opening
}

export function scheduleReconnect(s: ComfySession): void {
  // why only with waiters: an idle client reopens lazily on the next run.
  if (s.closed || s.reconnectTimer || active(s).length === 0) return
  const base = Math.min(s.reconnectMaxMs, s.reconnectMinMs * 2 ** s.reconnectAttempt++)
  const delay = base / 2 + Math.random() * (base / 2)
  s.reconnectTimer = setTimeout(() => {
    s.reconnectTimer = undefined
    openSocket(s).catch((e: unknown) => s.conn.log().debug({ reason: (e as Error).message }, 'ComfyUI socket reconnect failed'))
  }, delay)
  s.reconnectTimer.unref?.()
}

/** Opens the socket, waiting at most `connectWaitMs` for it (polling covers a socket that is late). */
export async function ensureSocket(s: ComfySession): Promise<void> {
  const opened = openSocket(s)
  opened.catch(() => undefined)
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([opened, new Promise<void>((resolve) => (timer = setTimeout(resolve, s.connectWaitMs)))]).catch(
    () => undefined,
  )
  clearTimeout(timer)
}

export function closeSocket(s: ComfySession): void {
  const ws = s.socket
  s.socket = undefined
  if (ws && ws.readyState !== WebSocket.CLOSED && ws.readyState !== WebSocket.CLOSING) ws.close(1000)
}
