import { env } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { backendDownSince, backendName } from '#app/modules/scheduler/liveness.server.ts'
import { notAnsweringMessage } from '#app/modules/scheduler/expire.server.ts'

/**
 * Aborts a running attempt once its backend has not answered for
 * RENDER_WAIT_TIMEOUT (since the attempt began, or the backend went down if
 * later), by the circuit breaker's record. why: a server that accepts and
 * never answers would otherwise hold the render until RENDER_TIMEOUT_MS; the
 * abort is retryable, so the scheduler moves it to a backend that answers or
 * fails it, visibly, as unavailable.
 */
export function watchBackend(backendId: string): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController()
  const started = Date.now()
  const timeoutMs = env().RENDER_WAIT_TIMEOUT
  const everyMs = Math.max(50, Math.min(5_000, Math.round(timeoutMs / 4)))
  let checking = false
  const timer = setInterval(() => {
    if (checking || controller.signal.aborted) return
    checking = true
    backendDownSince(backendId)
      .then((since) => {
        if (since === undefined || Date.now() - Math.max(since, started) < timeoutMs) return
        const message = notAnsweringMessage(backendName(backendId), since)
        controller.abort(new AppError('BACKEND_UNAVAILABLE', message, { retryable: true, details: { backend: backendId } }))
      })
      .catch((err: unknown) => logger().warn({ err, backend: backendId }, 'could not read the backend’s liveness; the render keeps its own timeout'))
      .finally(() => {
        checking = false
      })
  }, everyMs)
  timer.unref()
  return { signal: controller.signal, stop: () => clearInterval(timer) }
}
