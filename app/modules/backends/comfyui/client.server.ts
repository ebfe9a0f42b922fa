import { randomUUID } from 'node:crypto'
import type { OutboundGuard } from '#app/lib/outbound.server.ts'
import type { ApiWorkflow, HistoryEntry, OutputImage, SystemStats, Uploaded } from './api.ts'
import { cancel, comfyConnection, history, systemStats, upload, view } from './http.server.ts'
import { closeClient, run, type ComfyState, type RunOptions, type RunResult } from './run.server.ts'

export { abortedError, executionFailedError, promptRejectedError } from './errors.ts'
export type { RunEvent } from './progress.server.ts'
export type { RunOptions, RunResult } from './run.server.ts'

// One client per ComfyUI server. It queues prompts under OUR prompt_id (a
// uuid) and this process's client_id, and keeps ONE WebSocket to the server
// whose messages it hands to the render waiting on that prompt_id. The socket
// is only the fast path: ComfyUI drops messages for a client that is not
// connected at that instant, and sockets stall without closing, so every
// waiting prompt is also reconciled with GET /history (and GET /queue) on a
// timer, and a running prompt nobody hears from is stopped and failed.
//
// The parts, each taking the client's state explicitly: http.server.ts (the
// requests), progress.server.ts (waiters and the socket), run.server.ts (one
// prompt and the polling timer), errors.ts (what ComfyUI's failures mean).

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

export function createComfyClient(options: ComfyClientOptions): ComfyClient {
  const conn = comfyConnection({
    baseUrl: options.baseUrl,
    clientId: options.clientId ?? randomUUID(),
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    headers: options.headers,
    outbound: options.outbound,
  })
  const { baseUrl, clientId } = conn
  const state: ComfyState = {
    conn,
    waiters: new Map(),
    historyGraceMs: options.historyGraceMs ?? 15_000,
    wsUrl: `${baseUrl.replace(/^http/i, 'ws')}/ws?clientId=${encodeURIComponent(clientId)}`,
    outbound: options.outbound,
    connectWaitMs: options.connectWaitMs ?? 2000,
    reconnectMinMs: options.reconnectMinMs ?? 250,
    reconnectMaxMs: options.reconnectMaxMs ?? 15_000,
    socketHeardAt: 0,
    reconnectAttempt: 0,
    closed: false,
    pollIntervalMs: options.pollIntervalMs ?? 2000,
    stallTimeoutMs: options.stallTimeoutMs ?? 180_000,
    socketSilenceMs: options.socketSilenceMs ?? 45_000,
    idleCloseMs: options.idleCloseMs ?? 300_000,
    ticking: false,
  }
  return {
    baseUrl,
    clientId,
    upload: (png, name, opts) => upload(conn, png, name, opts),
    run: (workflow, opts) => run(state, workflow, opts),
    view: (image, signal) => view(conn, image, signal),
    history: (promptId) => history(conn, promptId),
    systemStats: (signal) => systemStats(conn, signal),
    cancel: (promptId) => cancel(conn, promptId),
    async close() {
      closeClient(state)
    },
  }
}
