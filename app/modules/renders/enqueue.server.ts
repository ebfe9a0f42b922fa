import { cancelScheduled, closeScheduler, scheduleRender } from '#app/modules/scheduler/dispatcher.server.ts'
import { announceCancel, closeRenderQueue, type priorities } from './queue.server.ts'

/**
 * Queues a recorded render: the scheduler decides when and on which backend
 * it runs, then puts a job on the `renders` queue. Idempotent: a render the
 * scheduler already has, or whose job exists, is not queued twice.
 */
export async function enqueueRender(renderId: string, priority: keyof typeof priorities = 'interactive'): Promise<void> {
  await scheduleRender(renderId, priority)
}

/**
 * Drops a canceled render: from the scheduler and the queue while it waits;
 * while it runs, every worker hears it (cancelChannel) and the one running it
 * aborts, which reaches the backend (ComfyUI and SD WebUI interrupt, WeShop
 * stops polling). The render's row is already 'canceled', so nothing the
 * aborted attempt returns is kept or charged.
 */
export async function removeRenderJob(renderId: string): Promise<void> {
  await cancelScheduled(renderId)
  await announceCancel(renderId)
}

/** Closes the scheduler, then the render queue and its connection. */
export async function closeQueues(): Promise<void> {
  await closeScheduler()
  await closeRenderQueue()
}
