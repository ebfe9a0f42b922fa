import { AppError, isAppError } from '#app/lib/errors.ts'
import { runSchema, terminalStates, type Execution, type Run } from './api.ts'
import { call, type WeshopConnection } from './http.server.ts'
import { pollDelay, sleep } from './retry.ts'

// A run from its start to Success or Failed: WeShop's OpenAPI is
// asynchronous, so the run is polled with capped exponential backoff.

export interface RunProgress {
  state: string
  execution: Execution | undefined
  polls: number
}

export interface WaitOptions {
  signal?: AbortSignal
  onPoll?: (progress: RunProgress) => void
}

export interface FinishedRun {
  run: Run
  execution: Execution
  /** Result image URLs (`executions[-1].result[*].image` with status Success). */
  images: string[]
  polls: number
}

/** GET /openapi/agent/runs/{executionId}, with the retries a read allows (or `attempts`). */
export async function getRun(conn: WeshopConnection, executionId: string, signal?: AbortSignal, attempts?: number): Promise<Run> {
  const { data } = await call(
    conn,
    'the run status',
    'read',
    `/openapi/agent/runs/${encodeURIComponent(executionId)}`,
    runSchema,
    { method: 'GET' },
    signal,
    attempts,
  )
  return data
}

/** A run whose latest execution ended: its result images, or the error saying why there are none. */
export function finishedRun(executionId: string, run: Run, execution: Execution | undefined, polls: number): FinishedRun {
  const state = execution?.status ?? 'Pending'
  if (state === 'Failed' || !execution) {
    // why retryable: the poll says only "Failed", and a failed generation
    // is usually one that works on the next try; input WeShop can never
    // use is refused when the run starts, with retryable: false.
    throw new AppError('BACKEND_FAILED', `WeShop reported run ${executionId} (${run.agentName}) as Failed.`, {
      retryable: true,
      details: { backend: 'weshop', executionId, agent: run.agentName, polls },
    })
  }
  const images = (execution.result ?? []).flatMap((r) => (r.status === 'Success' && r.image ? [r.image] : []))
  if (images.length === 0) {
    throw new AppError('BACKEND_FAILED', `WeShop finished run ${executionId} without an image.`, {
      retryable: true,
      details: {
        backend: 'weshop',
        executionId,
        agent: run.agentName,
        results: (execution.result ?? []).map((r) => r.status),
      },
    })
  }
  return { run, execution, images, polls }
}

/** Polls with capped exponential backoff and jitter until Success (resolves) or Failed (rejects). */
export async function waitForRun(conn: WeshopConnection, executionId: string, opts: WaitOptions = {}): Promise<FinishedRun> {
  const { poll } = conn
  const { signal } = opts
  const started = Date.now()
  let polls = 0
  let errors = 0
  /** A Retry-After from the last poll: the next wait is at least this. */
  let floor = 0
  for (let n = 0; ; n++) {
    const wait = Math.max(pollDelay(n, poll, conn.random), floor)
    floor = 0
    if (Date.now() + wait - started > poll.maxWaitMs) {
      throw new AppError(
        'BACKEND_TIMEOUT',
        `WeShop run ${executionId} did not finish within ${Math.round(poll.maxWaitMs / 1000)} s; it may still finish on WeShop.`,
        { retryable: true, details: { backend: 'weshop', executionId, polls } },
      )
    }
    await sleep(wait, signal)
    let run: Run
    try {
      polls++
      // why one attempt: polling is itself the retry loop, with its own backoff.
      run = await getRun(conn, executionId, signal, 1)
      errors = 0
    } catch (e) {
      if (signal?.aborted) throw signal.reason
      if (!isAppError(e) || !e.retryable || ++errors >= poll.maxPollErrors) throw e
      const after = typeof e.details?.retryAfterMs === 'number' ? e.details.retryAfterMs : 0
      if (after > conn.maxRetryAfterMs) throw e
      floor = after
      conn.log().info({ executionId, polls, errors, code: e.code, reason: e.message }, 'WeShop poll failed; polling on')
      continue
    }
    const execution = run.executions.at(-1)
    const state = execution?.status ?? 'Pending'
    opts.onPoll?.({ state, execution, polls })
    if (!terminalStates.includes(state)) continue
    return finishedRun(executionId, run, execution, polls)
  }
}
