import type { Logger } from 'pino'
import { abortedError as sharedAbortedError } from '../abort.ts'
import type { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { fetchVia, sharedGuard, type OutboundGuard } from '#app/lib/outbound.server.ts'
import {
  AGENT_VERSION,
  agentInfoSchema,
  runAcceptedSchema,
  uploadedAssetSchema,
  type AgentInfo,
  type AgentName,
  type Run,
  type RunAccepted,
  type RunRequest,
} from './api.ts'
import { download } from './download.server.ts'
import { call, type WeshopApiKey, type WeshopConnection } from './http.server.ts'
import { defaultPoll, type WeshopPollOptions } from './retry.ts'
import { getRun, waitForRun, type FinishedRun, type WaitOptions } from './runs.server.ts'

export type { WeshopApiKey } from './http.server.ts'
export { defaultPoll, pollDelay, retryAfterMs, sleep, type WeshopPollOptions } from './retry.ts'
export type { FinishedRun, RunProgress, WaitOptions } from './runs.server.ts'

// One client per WeShop API key. WeShop's OpenAPI is asynchronous: upload
// the images, start a run, poll it until Success or Failed, download the
// result from the CDN URL it names.
//
// The key: sent raw in `Authorization` (no "Bearer"), only to `baseUrl`,
// never to the CDN that serves results. It is read from `apiKey` per request
// and kept nowhere else; no log line, error message or error detail holds it
// (texts from WeShop are scrubbed of it too).
//
// The parts, each taking the connection explicitly: http.server.ts (one
// exchange and its retries, what each answer means), runs.server.ts (polling
// a run), download.server.ts (results), retry.ts (timing).

export const WESHOP_BASE_URL = 'https://openapi.weshop.ai'

export interface WeshopClientOptions {
  apiKey: WeshopApiKey
  /** Default https://openapi.weshop.ai (tests point it at the fake). */
  baseUrl?: string
  /** API requests connect only to public addresses (a shop's own endpoint in Shopify mode). */
  outbound?: OutboundGuard
  /**
   * Result downloads (URLs the API hands back) always go through a guard; by
   * default one that allows only this origin on a private address: the
   * deployment's WESHOP_BASE_URL (a local fake). A shop's endpoint passes the deployment's.
   */
  resultsGuard?: OutboundGuard
  /** Timeout of one JSON request, ms. */
  requestTimeoutMs?: number
  /** Timeout of one upload or download, ms. */
  transferTimeoutMs?: number
  /** Tries per request (reads and uploads), including the first. */
  maxAttempts?: number
  /** Request retry backoff: first ceiling and cap, ms (full jitter in the upper half). */
  retryMinMs?: number
  retryMaxMs?: number
  /** A Retry-After longer than this is not slept through in-process: the error goes to the queue, which retries later. */
  maxRetryAfterMs?: number
  poll?: Partial<WeshopPollOptions>
  /** Largest result image accepted, bytes. */
  maxDownloadBytes?: number
  log?: Logger
  /** Randomness for jitter (tests pin it). */
  random?: () => number
}

export interface WeshopClient {
  readonly baseUrl: string
  /** POST /openapi/agent/assets/images → the asset's URL. */
  uploadImage(bytes: Buffer, opts: { filename: string; contentType: string; signal?: AbortSignal }): Promise<string>
  /** POST /openapi/agent/runs → the execution id. */
  startRun<A extends AgentName>(body: RunRequest<A>, signal?: AbortSignal): Promise<RunAccepted>
  /** GET /openapi/agent/runs/{executionId}, once. */
  getRun(executionId: string, signal?: AbortSignal): Promise<Run>
  /** Polls with capped exponential backoff and jitter until Success (resolves) or Failed (rejects). */
  waitForRun(executionId: string, opts?: WaitOptions): Promise<FinishedRun>
  /** GET /openapi/v1/agent/info: preset ids (locations, fashionModels, backgrounds). */
  agentInfo(agentName: string, signal?: AbortSignal): Promise<AgentInfo>
  /** Fetches a result from WeShop's CDN (without the key). */
  download(url: string, signal?: AbortSignal): Promise<Buffer>
}

/** What an aborted signal means: a timeout (retryable) or a cancellation (../abort.ts). */
export function abortedError(reason: unknown): AppError {
  return sharedAbortedError(reason, 'we stopped waiting for WeShop')
}

export function createWeshopClient(options: WeshopClientOptions): WeshopClient {
  const baseUrl = (options.baseUrl ?? WESHOP_BASE_URL).replace(/\/+$/, '')
  const conn: WeshopConnection = {
    baseUrl,
    apiKey: options.apiKey,
    send: fetchVia(options.outbound),
    fetchResult: fetchVia(options.resultsGuard ?? sharedGuard([baseUrl])),
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    transferTimeoutMs: options.transferTimeoutMs ?? 120_000,
    maxAttempts: options.maxAttempts ?? 4,
    retryMinMs: options.retryMinMs ?? 500,
    retryMaxMs: options.retryMaxMs ?? 8000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
    poll: { ...defaultPoll, ...options.poll },
    maxDownloadBytes: options.maxDownloadBytes ?? 50 * 1024 * 1024,
    random: options.random ?? Math.random,
    log: () => options.log ?? logger().child({ backend: 'weshop', baseUrl }),
  }

  return {
    baseUrl,
    async uploadImage(bytes, opts) {
      const { data } = await call(
        conn,
        'the image upload',
        'upload',
        '/openapi/agent/assets/images',
        uploadedAssetSchema,
        {
          method: 'POST',
          body: () => {
            const form = new FormData()
            form.append('image', new Blob([Uint8Array.from(bytes)], { type: opts.contentType }), opts.filename)
            return form
          },
          timeoutMs: conn.transferTimeoutMs,
        },
        opts.signal,
      )
      return data.image
    },
    async startRun(body, signal) {
      const { data, meta } = await call(
        conn,
        'the run',
        'start',
        '/openapi/agent/runs',
        runAcceptedSchema,
        { method: 'POST', json: body },
        signal,
      )
      // why both: the reference names meta.executionId as the handle; the CLI reads data.executionId.
      const executionId = data.executionId || (typeof meta.executionId === 'string' ? meta.executionId : '')
      return { ...data, executionId }
    },
    getRun: (executionId, signal) => getRun(conn, executionId, signal),
    waitForRun: (executionId, opts) => waitForRun(conn, executionId, opts),
    async agentInfo(agentName, signal) {
      const query = new URLSearchParams({ agentName, agentVersion: AGENT_VERSION })
      const { data } = await call(
        conn,
        'the preset list',
        'read',
        `/openapi/v1/agent/info?${query}`,
        agentInfoSchema,
        { method: 'GET' },
        signal,
      )
      return data
    },
    download: (url, signal) => download(conn, url, signal),
  }
}
