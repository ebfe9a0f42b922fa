import { AppError, isAppError } from '#app/lib/errors.ts'

/**
 * What an aborted render signal means, for any backend: the reason itself
 * when it is already an AppError (the merchant's cancel), a retryable
 * timeout, or a cancellation. `stopped` says what happened on the backend.
 */
export function abortedError(reason: unknown, stopped: string): AppError {
  if (isAppError(reason)) return reason
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new AppError('BACKEND_TIMEOUT', `The render took longer than allowed; ${stopped}.`, { retryable: true, cause: reason })
  }
  return new AppError('RENDER_CANCELED', 'The render was canceled.', { retryable: false, cause: reason })
}
