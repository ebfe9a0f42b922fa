import type { Logger } from 'pino'
import { z } from 'zod'
import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { fetchVia, type OutboundGuard } from '#app/lib/outbound.server.ts'
import { jsonOf, notApiError, quotable } from '../failure.server.ts'
import { timedRequest } from '../request.server.ts'
import {
  historyResponseSchema,
  promptAcceptedSchema,
  promptRejectedSchema,
  queueSchema,
  systemStatsSchema,
  uploadedSchema,
  type ApiWorkflow,
  type HistoryEntry,
  type OutputImage,
  type SystemStats,
  type Uploaded,
} from './api.ts'
import { promptRejectedError } from './errors.ts'

// ComfyUI's HTTP API, one request per function: each takes the connection
// (where the server is, how to reach it) and knows nothing of waiting renders.

/** How long canceling a prompt may take in all (a queue delete and an interrupt). */
const CANCEL_BUDGET_MS = 3_000

/** One ComfyUI server as this process reaches it. */
export interface ComfyConnection {
  /** Without a trailing slash; a path prefix behind a proxy is kept. */
  baseUrl: string
  /** The process's client id on this server: prompts are queued under it. */
  clientId: string
  requestTimeoutMs: number
  /** Sent with every request (a server behind an authenticating proxy). */
  headers?: Record<string, string>
  send: ReturnType<typeof fetchVia>
  log(): Logger
}

export function comfyConnection(opts: {
  baseUrl: string
  clientId: string
  requestTimeoutMs: number
  headers?: Record<string, string>
  outbound?: OutboundGuard
}): ComfyConnection {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '')
  return {
    baseUrl,
    clientId: opts.clientId,
    requestTimeoutMs: opts.requestTimeoutMs,
    headers: opts.headers,
    send: fetchVia(opts.outbound),
    log: () => logger().child({ backend: baseUrl }),
  }
}

async function request(conn: ComfyConnection, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = conn.headers ? { ...conn.headers, ...(init.headers as Record<string, string> | undefined) } : init.headers
  return timedRequest({
    server: 'ComfyUI',
    baseUrl: conn.baseUrl,
    path,
    init: { ...init, headers },
    timeoutMs: conn.requestTimeoutMs,
    send: conn.send,
  })
}

async function statusError(conn: ComfyConnection, res: Response, path: string): Promise<AppError> {
  const body = await res.text().catch(() => '')
  const said = quotable(body)
  const retryable = res.status >= 500 || res.status === 429 || res.status === 408
  return new AppError('BACKEND_FAILED', `ComfyUI answered ${path} with HTTP ${res.status}${said ? `: ${said}` : ''}`, {
    retryable,
    details: { backend: conn.baseUrl, path, status: res.status, body: body.slice(0, 300) },
  })
}

async function parseJson<S extends z.ZodType>(
  conn: ComfyConnection,
  res: Response,
  path: string,
  schema: S,
): Promise<z.output<S>> {
  const text = await res.text().catch(() => '')
  const parsed = schema.safeParse(jsonOf(text))
  if (!parsed.success)
    throw notApiError('ComfyUI', { url: conn.baseUrl, path, status: res.status }, z.prettifyError(parsed.error), text)
  return parsed.data
}

async function getJson<S extends z.ZodType>(
  conn: ComfyConnection,
  path: string,
  schema: S,
  signal?: AbortSignal,
): Promise<z.output<S>> {
  const res = await request(conn, path, { signal })
  if (!res.ok) throw await statusError(conn, res, path)
  return parseJson(conn, res, path, schema)
}

async function postJson(conn: ComfyConnection, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return request(conn, path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  })
}

/** GET /history/{id}: the prompt's entry once it finished, else undefined. */
export async function history(conn: ComfyConnection, promptId: string): Promise<HistoryEntry | undefined> {
  const all = await getJson(conn, `/history/${encodeURIComponent(promptId)}`, historyResponseSchema)
  return all[promptId]
}

/** GET /queue: the prompt ids running and waiting. */
export async function queueState(conn: ComfyConnection): Promise<{ running: Set<string>; pending: Set<string> }> {
  const q = await getJson(conn, '/queue', queueSchema)
  const ids = (items: unknown[][]) => new Set(items.map((item) => String(item[1])))
  return { running: ids(q.queue_running), pending: ids(q.queue_pending) }
}

export function systemStats(conn: ComfyConnection, signal?: AbortSignal): Promise<SystemStats> {
  return getJson(conn, '/system_stats', systemStatsSchema, signal)
}

/** POST /upload/image into the input folder; never overwrites (use the returned name). */
export async function upload(
  conn: ComfyConnection,
  png: Buffer,
  name: string,
  opts: { subfolder?: string; signal?: AbortSignal } = {},
): Promise<Uploaded> {
  const form = new FormData()
  form.append('image', new Blob([Uint8Array.from(png)], { type: 'image/png' }), name)
  form.append('subfolder', opts.subfolder ?? '')
  form.append('type', 'input')
  form.append('overwrite', 'false')
  const res = await request(conn, '/upload/image', { method: 'POST', body: form, signal: opts.signal })
  if (!res.ok) throw await statusError(conn, res, '/upload/image')
  return parseJson(conn, res, '/upload/image', uploadedSchema)
}

export async function view(conn: ComfyConnection, image: OutputImage, signal?: AbortSignal): Promise<Buffer> {
  const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type })
  const res = await request(conn, `/view?${query}`, { signal })
  if (!res.ok) throw await statusError(conn, res, '/view')
  return Buffer.from(await res.arrayBuffer())
}

/** Takes the prompt off the queue if it waits there, then interrupts it if it runs. Never global. */
export async function cancel(conn: ComfyConnection, promptId: string): Promise<void> {
  // why this order: a prompt still queued is removed before it can start;
  // one that started meanwhile is caught by the interrupt, which ComfyUI
  // applies only if that prompt id is the one running (never global).
  // why a budget: a cancel is a courtesy to a server that may not answer;
  // the render it ends must not wait two request timeouts for it.
  const budget = AbortSignal.timeout(Math.min(conn.requestTimeoutMs, CANCEL_BUDGET_MS))
  for (const [path, body] of [
    ['/queue', { delete: [promptId] }],
    ['/interrupt', { prompt_id: promptId }],
  ] as const) {
    try {
      const res = await postJson(conn, path, body, budget)
      if (!res.ok) conn.log().warn({ promptId, status: res.status, path }, 'ComfyUI refused a cancel request')
    } catch (e) {
      conn.log().warn({ promptId, path, reason: (e as Error).message }, 'could not reach ComfyUI to cancel a prompt')
    }
  }
}

/** Whether ComfyUI knows the prompt (queued, running or finished). */
async function knows(conn: ComfyConnection, promptId: string): Promise<boolean> {
  if (await history(conn, promptId)) return true
  const state = await queueState(conn)
  return state.running.has(promptId) || state.pending.has(promptId)
}

/** POST /prompt under our prompt id; a refusal becomes an error naming each node at fault. */
export async function submit(
  conn: ComfyConnection,
  workflow: ApiWorkflow,
  promptId: string,
): Promise<{ prompt_id: string; number: number; node_errors: unknown }> {
  let res: Response
  try {
    res = await postJson(conn, '/prompt', { prompt: workflow, client_id: conn.clientId, prompt_id: promptId })
  } catch (e) {
    // why ask: the request may have reached the server before the
    // connection broke. With our own prompt id we can tell, and never queue
    // the same render twice.
    if (await knows(conn, promptId).catch(() => false)) return { prompt_id: promptId, number: Number.NaN, node_errors: {} }
    throw e
  }
  if (res.status === 400) {
    const text = await res.text().catch(() => '')
    const rejected = promptRejectedSchema.safeParse(jsonOf(text))
    // why not_api: ComfyUI's own 400 always has this shape; anything else is another server.
    if (!rejected.success)
      throw notApiError('ComfyUI', { url: conn.baseUrl, path: '/prompt', status: 400 }, z.prettifyError(rejected.error), text)
    throw promptRejectedError(conn.baseUrl, rejected.data, workflow)
  }
  if (!res.ok) throw await statusError(conn, res, '/prompt')
  return parseJson(conn, res, '/prompt', promptAcceptedSchema)
}
