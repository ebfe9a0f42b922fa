import { PassThrough } from 'node:stream'
import type { AppLoadContext, EntryContext, HandleErrorFunction } from '@remix-run/node'
import { createReadableStreamFromReadable } from '@remix-run/node'
import { isRouteErrorResponse, RemixServer } from '@remix-run/react'
import { isbot } from 'isbot'
import { renderToPipeableStream } from 'react-dom/server'
import { env } from '#app/lib/env.server.ts'
import { logger } from '#app/lib/logger.server.ts'
import { listenToHealthChecks } from '#app/modules/scheduler/dispatcher.server.ts'
import { addDocumentResponseHeaders } from '#app/shopify.server.ts'

const ABORT_DELAY = 5_000

// why here: a connection test in Settings (web process) feeds the circuit breaker too.
listenToHealthChecks()

export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
  _loadContext: AppLoadContext,
) {
  // why: the embedded admin needs Shopify's frame-ancestors CSP on every document.
  if (env().APP_MODE === 'shopify') addDocumentResponseHeaders(request, responseHeaders)
  // why: bots get the whole page at once; browsers get it streamed.
  const readyEvent = isbot(request.headers.get('user-agent') ?? '') ? 'onAllReady' : 'onShellReady'
  return new Promise((resolve, reject) => {
    let shellRendered = false
    const { pipe, abort } = renderToPipeableStream(
      <RemixServer context={remixContext} url={request.url} abortDelay={ABORT_DELAY} />,
      {
        [readyEvent]() {
          shellRendered = true
          const body = new PassThrough()
          responseHeaders.set('Content-Type', 'text/html')
          resolve(new Response(createReadableStreamFromReadable(body), { headers: responseHeaders, status: responseStatusCode }))
          pipe(body)
        },
        onShellError(error: unknown) {
          reject(error)
        },
        onError(error: unknown) {
          responseStatusCode = 500
          if (shellRendered) logger().error({ err: error }, 'render error')
        },
      },
    )
    setTimeout(abort, ABORT_DELAY)
  })
}

/** Expected outcomes (404, 403 for a bad link, aborted requests) are not errors worth a log line. */
export const handleError: HandleErrorFunction = (error, { request }) => {
  if (request.signal.aborted) return
  if (isRouteErrorResponse(error) && error.status < 500) return
  if (error && typeof error === 'object' && 'type' in error && (error as { type: string }).type === 'DataWithResponseInit') {
    const init = (error as { init?: { status?: number } }).init
    if ((init?.status ?? 500) < 500) return
  }
  logger().error({ err: error, url: request.url }, 'unhandled request error')
}
