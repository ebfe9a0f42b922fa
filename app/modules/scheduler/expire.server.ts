import { and, eq, inArray } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { logger } from '#app/lib/logger.server.ts'
import { renders } from '#db/schema.ts'

/** What the merchant is told when a render stops waiting for a backend that does not answer. */
export function notAnsweringMessage(backendName: string, since: number): string {
  return (
    `${backendName} has not answered since ${new Date(since).toISOString()}, and no other backend can take this render. ` +
    'Check that the server is running and reachable (Settings → GPU backends → Test connection), then render again.'
  )
}

/**
 * Fails a waiting render whose backend stopped answering too long ago. A
 * conditional UPDATE: a render canceled or started meanwhile is left alone.
 */
export async function failWaitingRender(renderId: string, backendName: string, since: number): Promise<boolean> {
  const [row] = await db()
    .update(renders)
    .set({
      status: 'failed',
      errorCode: 'BACKEND_UNAVAILABLE',
      errorMessage: notAnsweringMessage(backendName, since),
      finishedAt: new Date(),
      progressMessage: null,
      updatedAt: new Date(),
    })
    .where(and(eq(renders.id, renderId), inArray(renders.status, ['queued', 'retrying'])))
    .returning({ id: renders.id })
  if (row) logger().warn({ renderId, backend: backendName, since: new Date(since).toISOString() }, 'render waited too long for a backend that does not answer; failed')
  return row !== undefined
}
