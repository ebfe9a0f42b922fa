// A process that starts all background work the way the demo does, says
// ready, then closes it on a message and returns: with no process.exit, it
// ends only if close() left no open handle behind.
import { startBackgroundWork } from '#app/runtime.server.ts'

const work = await startBackgroundWork()
await Promise.all([work.renderWorker.waitUntilReady(), work.bulkWorker.waitUntilReady()])
process.send?.({ type: 'ready' })
process.once('message', () => {
  void work.close().then(() => {
    process.disconnect?.()
  })
})
