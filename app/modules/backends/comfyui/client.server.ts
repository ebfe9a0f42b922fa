import { randomUUID } from 'node:crypto'
import { abortedError as sharedAbortedError } from '../abort.ts'
import { z } from 'zod'
import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { fetchVia, type OutboundGuard } from '#app/lib/outbound.server.ts'
import { jsonOf, notApiError, quotable } from '../failure.server.ts'
import {
  historyResponseSchema,
  promptAcceptedSchema,
  promptRejectedSchema,
  queueSchema,
  socketEvents,
  socketMessageSchema,
  systemStatsSchema,
  uploadedSchema,
  type ApiWorkflow,
  type ExecutionError,
  type HistoryEntry,
  type NodeErrors,
  type OutputImage,
  type PromptRejected,
  type SystemStats,
  type Uploaded,
} from './api.ts'

// One client per ComfyUI server. It queues prompts under OUR prompt_id (a
// uuid) and this process's client_id, and keeps ONE WebSocket to the server
// whose messages it hands to the render waiting on that prompt_id. The socket
// is only the fast path: ComfyUI drops messages for a client that is not
// connected at that instant, and sockets stall without closing, so every
// waiting prompt is also reconciled with GET /history (and GET /queue) on a
// timer, and a running prompt nobody hears from is stopped and failed.

export interface ComfyClientOptions {
  /** e.g. http://gpu-1:8188 (a path prefix behind a proxy is kept). */
  baseUrl: string
  /** The process's client id on this server (default: a fresh uuid). */
  clientId?: string
  /** How often prompts the socket has been quiet about are checked with /history and /queue. */
  pollIntervalMs?: number
  /** A running prompt without a message for this long is interrupted and failed (retryable). */
  stallTimeoutMs?: number
  /** How long the history may lag behind `execution_success` / `executing {node: null}`. */
  historyGraceMs?: number
  /** Timeout of one HTTP request. */
  requestTimeoutMs?: number
  /** The socket is reopened when it has said nothing for this long while a prompt runs. */
  socketSilenceMs?: number
  /** How long run() waits for the socket to open before queueing anyway (polling covers the rest). */
  connectWaitMs?: number
  /** Reconnect backoff: first delay and cap, doubled per failed attempt, with jitter. */
  reconnectMinMs?: number
  reconnectMaxMs?: number
  /** The socket is closed after this long without a waiting prompt (it reopens on the next run). */
  idleCloseMs?: number
  /** Sent with every request and the WebSocket handshake (a server behind an authenticating proxy). */
  headers?: Record<string, string>
  /** Connect only to public addresses (a shop's own server in Shopify mode); requests and the socket alike. */
  outbound?: OutboundGuard
}

export type RunEvent =
  | { kind: 'queued'; number: number }
  | { kind: 'started' }
  | { kind: 'executing'; node: string }
  | { kind: 'progress'; node: string | null; value: number; max: number }
  | { kind: 'finishing' }

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

export interface ComfyClient {
  readonly baseUrl: string
  readonly clientId: string
  /** POST /upload/image into the input folder; never overwrites (use the returned name). */
  upload(png: Buffer, name: string, opts?: { subfolder?: string; signal?: AbortSignal }): Promise<Uploaded>
  /** Queues the workflow and resolves with its history entry once it succeeded. */
  run(workflow: ApiWorkflow, opts?: RunOptions): Promise<RunResult>
  view(image: OutputImage, signal?: AbortSignal): Promise<Buffer>
  history(promptId: string): Promise<HistoryEntry | undefined>
  systemStats(signal?: AbortSignal): Promise<SystemStats>
  /** Takes the prompt off the queue if it waits there, then interrupts it if it runs. Never global. */
  cancel(promptId: string): Promise<void>
  close(): Promise<void>
}

/** The value LoadImage's `image` input takes for an upload. */
export function loadImagePath(uploaded: Uploaded): string {
  return uploaded.subfolder ? `${uploaded.subfolder}/${uploaded.name}` : uploaded.name
}

/** Exception types that fail the same way on every attempt: the graph or its inputs are wrong. */
/** How long canceling a prompt may take in all (a queue delete and an interrupt). */
const CANCEL_BUDGET_MS = 3_000

const DETERMINISTIC_EXCEPTIONS = new Set([
  'ValueError',
  'TypeError',
  'KeyError',
  'IndexError',
  'AttributeError',
  'AssertionError',
  'NotImplementedError',
])

function isValidationFailure(exceptionType: string): boolean {
  const name = exceptionType.split('.').pop() ?? exceptionType
  return DETERMINISTIC_EXCEPTIONS.has(name) || /validation/i.test(exceptionType)
}

/** The AppError for a POST /prompt that ComfyUI refused (HTTP 400): names each node, class and input. */
export function promptRejectedError(baseUrl: string, rejected: PromptRejected, workflow: ApiWorkflow): AppError {
  const problems: Array<{ nodeId: string; classType: string; input?: string; type: string; message: string; details: string }> =
    []
  const nodeErrors: NodeErrors = Array.isArray(rejected.node_errors) ? {} : rejected.node_errors
  for (const [nodeId, node] of Object.entries(nodeErrors)) {
    for (const e of node.errors) {
      const input = typeof e.extra_info.input_name === 'string' ? e.extra_info.input_name : undefined
      problems.push({ nodeId, classType: node.class_type, input, type: e.type, message: e.message, details: e.details })
    }
  }
  const error =
    typeof rejected.error === 'string' ? { type: 'error', message: rejected.error, details: '', extra_info: {} } : rejected.error
  if (problems.length === 0) {
    // Graph-level errors (an unknown class, no outputs) carry the node in
    // extra_info on newer servers and only in `details` ("Node ID '#7'") on older ones.
    const fromInfo = error.extra_info.node_id
    const nodeId = typeof fromInfo === 'string' ? fromInfo : /Node ID '#([^']+)'/.exec(error.details)?.[1]
    const fromInfoClass = error.extra_info.class_type
    const classType = typeof fromInfoClass === 'string' ? fromInfoClass : nodeId ? workflow[nodeId]?.class_type : undefined
    problems.push({ nodeId: nodeId ?? '?', classType: classType ?? '?', type: error.type, message: error.message, details: '' })
  }
  const described = problems
    .map((p) => {
      const where = `node ${p.nodeId} (${p.classType})${p.input ? ` input "${p.input}"` : ''}`
      return `${where}: ${p.message}${p.details && p.details !== p.input ? ` (${p.details})` : ''}`
    })
    .join('; ')
  return new AppError('BACKEND_FAILED', `ComfyUI refused the workflow (${error.type}): ${described}`, {
    retryable: false,
    details: { backend: baseUrl, errorType: error.type, problems },
  })
}

/** The AppError for an `execution_error`: the node, its class and ComfyUI's exception. */
export function executionFailedError(baseUrl: string, e: ExecutionError): AppError {
  const firstLine =
    e.exception_message
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? 'no message'
  const where = e.node_id ? `node ${e.node_id} (${e.node_type ?? '?'})` : 'the workflow'
  return new AppError('BACKEND_FAILED', `ComfyUI failed in ${where}: ${e.exception_type || 'error'}: ${firstLine}`, {
    retryable: !isValidationFailure(e.exception_type),
    details: {
      backend: baseUrl,
      promptId: e.prompt_id,
      nodeId: e.node_id,
      nodeType: e.node_type,
      exceptionType: e.exception_type,
      exceptionMessage: e.exception_message,
    },
  })
}

/** What an aborted signal means: a timeout (retryable) or a cancellation (../abort.ts). */
export function abortedError(reason: unknown): AppError {
  return sharedAbortedError(reason, 'it was stopped on ComfyUI')
}

interface Waiter {
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

export function createComfyClient(options: ComfyClientOptions): ComfyClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const clientId = options.clientId ?? randomUUID()
  const pollIntervalMs = options.pollIntervalMs ?? 2000
  const stallTimeoutMs = options.stallTimeoutMs ?? 180_000
  const historyGraceMs = options.historyGraceMs ?? 15_000
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000
  const socketSilenceMs = options.socketSilenceMs ?? 45_000
  const connectWaitMs = options.connectWaitMs ?? 2000
  const reconnectMinMs = options.reconnectMinMs ?? 250
  const reconnectMaxMs = options.reconnectMaxMs ?? 15_000
  const idleCloseMs = options.idleCloseMs ?? 300_000
  const wsUrl = `${baseUrl.replace(/^http/i, 'ws')}/ws?clientId=${encodeURIComponent(clientId)}`
  const log = () => logger().child({ backend: baseUrl })
  const send = fetchVia(options.outbound)

  const waiters = new Map<string, Waiter>()
  let socket: WebSocket | undefined
  let opening: Promise<void> | undefined
  let socketHeardAt = 0
  let reconnectAttempt = 0
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined
  let idleTimer: ReturnType<typeof setTimeout> | undefined
  let pollTimer: ReturnType<typeof setInterval> | undefined
  let ticking = false
  let closed = false
  /** Since when every check of the server failed (undefined while it answers). */
  let unreachableSince: number | undefined

  // ------------------------------------------------------------ HTTP

  async function request(path: string, init: RequestInit = {}): Promise<Response> {
    const timeout = AbortSignal.timeout(requestTimeoutMs)
    const caller = init.signal ?? undefined
    try {
      const headers = options.headers
        ? { ...options.headers, ...(init.headers as Record<string, string> | undefined) }
        : init.headers
      return await send(`${baseUrl}${path}`, { ...init, headers, signal: caller ? AbortSignal.any([caller, timeout]) : timeout })
    } catch (cause) {
      if (caller?.aborted) throw caller.reason
      if (timeout.aborted) {
        throw new AppError('BACKEND_TIMEOUT', `ComfyUI at ${baseUrl} did not answer ${path} within ${requestTimeoutMs} ms`, {
          retryable: true,
          cause,
        })
      }
      const reason = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause)
      throw new AppError('BACKEND_UNAVAILABLE', `ComfyUI at ${baseUrl} is unreachable (${reason})`, { retryable: true, cause })
    }
  }

  async function statusError(res: Response, path: string): Promise<AppError> {
    const body = await res.text().catch(() => '')
    const said = quotable(body)
    const retryable = res.status >= 500 || res.status === 429 || res.status === 408
    return new AppError('BACKEND_FAILED', `ComfyUI answered ${path} with HTTP ${res.status}${said ? `: ${said}` : ''}`, {
      retryable,
      details: { backend: baseUrl, path, status: res.status, body: body.slice(0, 300) },
    })
  }

  async function parseJson<S extends z.ZodType>(res: Response, path: string, schema: S): Promise<z.output<S>> {
    const text = await res.text().catch(() => '')
    const parsed = schema.safeParse(jsonOf(text))
    if (!parsed.success) throw notApiError('ComfyUI', { url: baseUrl, path, status: res.status }, z.prettifyError(parsed.error), text)
    return parsed.data
  }

  async function getJson<S extends z.ZodType>(path: string, schema: S, signal?: AbortSignal): Promise<z.output<S>> {
    const res = await request(path, { signal })
    if (!res.ok) throw await statusError(res, path)
    return parseJson(res, path, schema)
  }

  async function postJson(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    return request(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal })
  }

  async function history(promptId: string): Promise<HistoryEntry | undefined> {
    const all = await getJson(`/history/${encodeURIComponent(promptId)}`, historyResponseSchema)
    return all[promptId]
  }

  async function queueState(): Promise<{ running: Set<string>; pending: Set<string> }> {
    const q = await getJson('/queue', queueSchema)
    const ids = (items: unknown[][]) => new Set(items.map((item) => String(item[1])))
    return { running: ids(q.queue_running), pending: ids(q.queue_pending) }
  }

  async function cancel(promptId: string): Promise<void> {
    // why this order: a prompt still queued is removed before it can start;
    // one that started meanwhile is caught by the interrupt, which ComfyUI
    // applies only if that prompt id is the one running (never global).
    // why a budget: a cancel is a courtesy to a server that may not answer;
    // the render it ends must not wait two request timeouts for it.
    const budget = AbortSignal.timeout(Math.min(requestTimeoutMs, CANCEL_BUDGET_MS))
    for (const [path, body] of [
      ['/queue', { delete: [promptId] }],
      ['/interrupt', { prompt_id: promptId }],
    ] as const) {
      try {
        const res = await postJson(path, body, budget)
        if (!res.ok) log().warn({ promptId, status: res.status, path }, 'ComfyUI refused a cancel request')
      } catch (e) {
        log().warn({ promptId, path, reason: (e as Error).message }, 'could not reach ComfyUI to cancel a prompt')
      }
    }
  }

  // ------------------------------------------------------------ waiters

  function emit(w: Waiter, event: RunEvent): void {
    try {
      w.onEvent?.(event)
    } catch (e) {
      log().warn({ promptId: w.promptId, reason: (e as Error).message }, 'progress callback failed')
    }
  }

  function fail(w: Waiter, error: unknown): void {
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

  function interrupted(w: Waiter): AppError {
    return new AppError('RENDER_CANCELED', `The render was interrupted on the ComfyUI server (${baseUrl}).`, {
      retryable: false,
      details: { backend: baseUrl, promptId: w.promptId, by: 'comfyui' },
    })
  }

  function settleFromHistory(w: Waiter, entry: HistoryEntry): void {
    const status = entry.status
    if (!status || (status.status_str === 'success' && status.completed)) return succeed(w, entry)
    for (const [event, data] of status.messages) {
      if (event === 'execution_error') {
        const parsed = socketEvents.execution_error.safeParse(data)
        if (parsed.success) return fail(w, executionFailedError(baseUrl, parsed.data))
      }
      if (event === 'execution_interrupted') return w.canceling ? undefined : fail(w, interrupted(w))
    }
    fail(
      w,
      new AppError('BACKEND_FAILED', `ComfyUI reported "${status.status_str}" for the prompt without an error message`, {
        retryable: true,
      }),
    )
  }

  async function reconcile(w: Waiter): Promise<void> {
    if (w.settled || w.reconciling || w.phase === 'submitting') return
    w.reconciling = true
    try {
      const entry = await history(w.promptId)
      if (w.settled) return
      if (entry) return settleFromHistory(w, entry)
      if (w.phase !== 'finishing') return
      if (Date.now() - (w.finishingSince ?? 0) > historyGraceMs) {
        return fail(
          w,
          new AppError('BACKEND_FAILED', `ComfyUI finished the prompt but its history has no entry after ${historyGraceMs} ms`, {
            retryable: true,
            details: { backend: baseUrl, promptId: w.promptId },
          }),
        )
      }
      // why: execution_success is sent before the history is written; ask again shortly.
      clearTimeout(w.retry)
      w.retry = setTimeout(() => void reconcile(w), Math.min(1000, 25 * 2 ** w.retries++))
    } catch (e) {
      // A failed check is not a failed render: the next tick asks again.
      log().debug({ promptId: w.promptId, reason: (e as Error).message }, 'history check failed')
    } finally {
      w.reconciling = false
    }
  }

  function markFinishing(w: Waiter): void {
    if (w.phase !== 'finishing') {
      w.phase = 'finishing'
      w.finishingSince = Date.now()
      w.retries = 0
      emit(w, { kind: 'finishing' })
    }
    void reconcile(w)
  }

  function markRunning(w: Waiter): void {
    if (w.phase === 'running' || w.phase === 'finishing') return
    w.phase = 'running'
    w.heardAt = Date.now()
    emit(w, { kind: 'started' })
  }

  function onSocketMessage(raw: unknown): void {
    socketHeardAt = Date.now()
    // Binary frames are previews (a 4-byte event type, then image bytes): not ours to use.
    if (typeof raw !== 'string') return
    let json: unknown
    try {
      json = JSON.parse(raw)
    } catch {
      return
    }
    const envelope = socketMessageSchema.safeParse(json)
    if (!envelope.success || !(envelope.data.type in socketEvents)) return
    const type = envelope.data.type as keyof typeof socketEvents
    const parsed = socketEvents[type].safeParse(envelope.data.data)
    // why: a message without prompt_id (the `executing` resent on reconnect) can't be placed; polling covers it.
    if (!parsed.success) return
    const w = waiters.get(parsed.data.prompt_id)
    if (!w || w.settled) return
    w.heardAt = Date.now()
    w.absent = 0
    switch (type) {
      case 'execution_start':
        return markRunning(w)
      case 'executing': {
        const { node } = parsed.data as z.infer<(typeof socketEvents)['executing']>
        if (node === null) return markFinishing(w)
        markRunning(w)
        return emit(w, { kind: 'executing', node })
      }
      case 'progress': {
        const { value, max, node } = parsed.data as z.infer<(typeof socketEvents)['progress']>
        markRunning(w)
        return emit(w, { kind: 'progress', node: node ?? null, value, max })
      }
      case 'execution_success':
        return markFinishing(w)
      case 'execution_error':
        return fail(w, executionFailedError(baseUrl, parsed.data as ExecutionError))
      case 'execution_interrupted':
        // Our own cancel settles with the caller's reason (cancel or timeout) once the requests went out.
        if (w.canceling) return
        return fail(w, interrupted(w))
      default:
        return
    }
  }

  // ------------------------------------------------------------ socket

  function active(): Waiter[] {
    return [...waiters.values()].filter((w) => !w.settled)
  }

  function openSocket(): Promise<void> {
    if (closed) return Promise.reject(new Error('client closed'))
    if (socket?.readyState === WebSocket.OPEN) return Promise.resolve()
    opening ??= new Promise<void>((resolve, reject) => {
      // why the cast: Node's WebSocket (undici) takes handshake headers and a dispatcher; the DOM type knows neither.
      const init = { headers: options.headers, dispatcher: options.outbound?.dispatcher }
      const ws = options.headers || options.outbound ? new WebSocket(wsUrl, init as unknown as string[]) : new WebSocket(wsUrl)
      ws.binaryType = 'arraybuffer'
      socket = ws
      let opened = false
      ws.addEventListener('open', () => {
        opened = true
        reconnectAttempt = 0
        socketHeardAt = Date.now()
        resolve()
        // Messages sent while we were away are lost: ask the history now.
        for (const w of active()) void reconcile(w)
      })
      ws.addEventListener('message', (event) => onSocketMessage(event.data))
      ws.addEventListener('close', () => {
        if (socket === ws) socket = undefined
        if (!opened) reject(new Error(`WebSocket to ${wsUrl} closed before it opened`))
        scheduleReconnect()
      })
      // 'close' always follows 'error'; nothing else to do here.
      ws.addEventListener('error', () => undefined)
    }).finally(() => {
      opening = undefined
    })
    return opening
  }

  function scheduleReconnect(): void {
    // why only with waiters: an idle client reopens lazily on the next run.
    if (closed || reconnectTimer || active().length === 0) return
    const base = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** reconnectAttempt++)
    const delay = base / 2 + Math.random() * (base / 2)
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined
      openSocket().catch((e: unknown) => log().debug({ reason: (e as Error).message }, 'ComfyUI socket reconnect failed'))
    }, delay)
    reconnectTimer.unref?.()
  }

  async function ensureSocket(): Promise<void> {
    const opened = openSocket()
    opened.catch(() => undefined)
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([opened, new Promise<void>((resolve) => (timer = setTimeout(resolve, connectWaitMs)))]).catch(
      () => undefined,
    )
    clearTimeout(timer)
  }

  function closeSocket(): void {
    const ws = socket
    socket = undefined
    if (ws && ws.readyState !== WebSocket.CLOSED && ws.readyState !== WebSocket.CLOSING) ws.close(1000)
  }

  // ------------------------------------------------------------ the timer

  async function tick(): Promise<void> {
    if (ticking) return
    ticking = true
    try {
      const now = Date.now()
      const waiting = active().filter((w) => w.phase !== 'submitting')
      if (waiting.length === 0) return
      if (!socket && !opening && !reconnectTimer) scheduleReconnect()
      if (
        socket?.readyState === WebSocket.OPEN &&
        waiting.some((w) => w.phase === 'running') &&
        now - socketHeardAt > socketSilenceMs
      ) {
        // A silent socket may be a dead one that never closed: reopen it (the server then resends what runs).
        log().info({ silentMs: now - socketHeardAt }, 'ComfyUI socket silent while a prompt runs; reconnecting')
        closeSocket()
      }
      const quiet = waiting.filter((w) => now - w.heardAt >= pollIntervalMs || w.phase === 'finishing')
      if (quiet.length === 0) return
      await Promise.all(quiet.map(reconcile))
      const unknown = quiet.filter((w) => !w.settled && w.phase !== 'finishing')
      if (unknown.length === 0) return
      let state: Awaited<ReturnType<typeof queueState>>
      try {
        state = await queueState()
        unreachableSince = undefined
      } catch (e) {
        log().debug({ reason: (e as Error).message }, 'queue check failed')
        unreachableSince ??= now
        if (now - unreachableSince > stallTimeoutMs) {
          // why give up: a server down this long has lost its in-memory queue; the job's retry queues again.
          for (const w of unknown) {
            fail(
              w,
              new AppError(
                'BACKEND_UNAVAILABLE',
                `ComfyUI at ${baseUrl} has not answered for ${Math.round((now - unreachableSince) / 1000)} s`,
                {
                  retryable: true,
                  details: { backend: baseUrl, promptId: w.promptId },
                },
              ),
            )
          }
        }
        return
      }
      for (const w of unknown) {
        if (w.settled) continue
        if (state.running.has(w.promptId)) {
          w.absent = 0
          markRunning(w)
          if (Date.now() - w.heardAt > stallTimeoutMs) {
            fail(
              w,
              new AppError(
                'BACKEND_TIMEOUT',
                `ComfyUI said nothing about the prompt for ${Math.round(stallTimeoutMs / 1000)} s while running it`,
                {
                  retryable: true,
                  details: { backend: baseUrl, promptId: w.promptId },
                },
              ),
            )
            void cancel(w.promptId)
          }
        } else if (state.pending.has(w.promptId)) {
          w.absent = 0
          if (w.phase !== 'queued') w.phase = 'queued'
          w.heardAt = Date.now()
        } else if (++w.absent >= 3) {
          // Neither queued, running nor in the history, three times over: the
          // server restarted (its queue and history live in memory only).
          fail(
            w,
            new AppError('BACKEND_FAILED', 'ComfyUI no longer knows the prompt (was the server restarted?)', {
              retryable: true,
              details: { backend: baseUrl, promptId: w.promptId },
            }),
          )
        }
      }
    } finally {
      ticking = false
    }
  }

  function startTimers(): void {
    clearTimeout(idleTimer)
    idleTimer = undefined
    if (!pollTimer) {
      pollTimer = setInterval(() => void tick(), pollIntervalMs)
      pollTimer.unref?.()
    }
  }

  function stopTimersIfIdle(): void {
    if (waiters.size > 0) return
    clearInterval(pollTimer)
    pollTimer = undefined
    if (!idleTimer && !closed) {
      idleTimer = setTimeout(() => {
        idleTimer = undefined
        if (waiters.size === 0) closeSocket()
      }, idleCloseMs)
      idleTimer.unref?.()
    }
  }

  // ------------------------------------------------------------ run

  /** Whether ComfyUI knows the prompt (queued, running or finished). */
  async function knows(promptId: string): Promise<boolean> {
    if (await history(promptId)) return true
    const state = await queueState()
    return state.running.has(promptId) || state.pending.has(promptId)
  }

  async function submit(
    workflow: ApiWorkflow,
    promptId: string,
  ): Promise<{ prompt_id: string; number: number; node_errors: unknown }> {
    let res: Response
    try {
      res = await postJson('/prompt', { prompt: workflow, client_id: clientId, prompt_id: promptId })
    } catch (e) {
      // why ask: the request may have reached the server before the
      // connection broke. With our own prompt id we can tell, and never queue
      // the same render twice.
      if (await knows(promptId).catch(() => false)) return { prompt_id: promptId, number: Number.NaN, node_errors: {} }
      throw e
    }
    if (res.status === 400) {
      const text = await res.text().catch(() => '')
      const rejected = promptRejectedSchema.safeParse(jsonOf(text))
      // why not_api: ComfyUI's own 400 always has this shape; anything else is another server.
      if (!rejected.success) throw notApiError('ComfyUI', { url: baseUrl, path: '/prompt', status: 400 }, z.prettifyError(rejected.error), text)
      throw promptRejectedError(baseUrl, rejected.data, workflow)
    }
    if (!res.ok) throw await statusError(res, '/prompt')
    return parseJson(res, '/prompt', promptAcceptedSchema)
  }

  async function run(workflow: ApiWorkflow, opts: RunOptions = {}): Promise<RunResult> {
    if (closed) throw new AppError('BACKEND_UNAVAILABLE', `The ComfyUI client for ${baseUrl} is closed`, { retryable: true })
    const { signal } = opts
    if (signal?.aborted) throw abortedError(signal.reason)
    let promptId = opts.promptId ?? randomUUID()
    startTimers()
    // The socket first, so the prompt's first messages are not missed.
    await ensureSocket()
    if (signal?.aborted) throw abortedError(signal.reason)

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
      onEvent: opts.onEvent,
      resolve,
      reject,
    }
    waiters.set(promptId, w)

    let submitted: Promise<unknown> = Promise.resolve()
    const onAbort = () => {
      if (w.settled || w.canceling) return
      w.canceling = true
      const error = abortedError(signal!.reason)
      // Cancel only after the submission settled, so a prompt in flight is not left behind.
      void submitted
        .catch(() => undefined)
        .then(() => cancel(w.promptId))
        .finally(() => fail(w, error))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const submission = submit(workflow, promptId)
      submitted = submission
      const accepted = await submission
      if (accepted.prompt_id !== promptId) {
        // A server that ignored our id: follow its own.
        waiters.delete(promptId)
        promptId = accepted.prompt_id
        w.promptId = promptId
        waiters.set(promptId, w)
      }
      if (w.phase === 'submitting') {
        w.phase = 'queued'
        w.heardAt = Date.now()
      }
      emit(w, { kind: 'queued', number: accepted.number })
      const nodeErrors = accepted.node_errors
      if (nodeErrors && !Array.isArray(nodeErrors) && typeof nodeErrors === 'object' && Object.keys(nodeErrors).length > 0) {
        // Some outputs were dropped at validation; ours is the only one, so the run is useless.
        await cancel(promptId)
        const error = {
          type: 'prompt_outputs_failed_validation',
          message: 'Some outputs failed validation',
          details: '',
          extra_info: {},
        }
        throw promptRejectedError(baseUrl, { error, node_errors: nodeErrors as NodeErrors }, workflow)
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
      waiters.delete(promptId)
      stopTimersIfIdle()
    }
  }

  return {
    baseUrl,
    clientId,
    async upload(png, name, opts = {}) {
      const form = new FormData()
      form.append('image', new Blob([Uint8Array.from(png)], { type: 'image/png' }), name)
      form.append('subfolder', opts.subfolder ?? '')
      form.append('type', 'input')
      form.append('overwrite', 'false')
      const res = await request('/upload/image', { method: 'POST', body: form, signal: opts.signal })
      if (!res.ok) throw await statusError(res, '/upload/image')
      return parseJson(res, '/upload/image', uploadedSchema)
    },
    run,
    async view(image, signal) {
      const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type })
      const res = await request(`/view?${query}`, { signal })
      if (!res.ok) throw await statusError(res, '/view')
      return Buffer.from(await res.arrayBuffer())
    },
    history,
    systemStats: (signal) => getJson('/system_stats', systemStatsSchema, signal),
    cancel,
    async close() {
      closed = true
      clearInterval(pollTimer)
      clearTimeout(idleTimer)
      clearTimeout(reconnectTimer)
      pollTimer = idleTimer = reconnectTimer = undefined
      for (const w of active()) {
        fail(w, new AppError('BACKEND_UNAVAILABLE', `The ComfyUI client for ${baseUrl} was closed`, { retryable: true }))
      }
      closeSocket()
    },
  }
}
