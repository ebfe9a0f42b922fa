// The entry of a fidelity thread (threads.server.ts): runs check.server.ts's
// prepare and compare on the messages it is sent, one at a time.
import { parentPort } from 'node:worker_threads'
import { compareFidelity, prepareFidelity, type FidelityReference } from './check.server.ts'
import type { RawImage } from '../types.ts'
import { shareFields } from './share.ts'
import type { ThreadReply, ThreadTask } from './threads.server.ts'

const port = parentPort
if (!port) throw new Error('thread.server.ts runs as a worker thread')

async function run(task: ThreadTask, args: unknown[]): Promise<unknown> {
  if (task === 'compare') return compareFidelity(args[0] as FidelityReference, asResult(args[1]))
  const reference = await prepareFidelity(args[0] as Parameters<typeof prepareFidelity>[0])
  // why shared: the reference goes back to the caller and out again with each comparison, never copied.
  return reference.detail ? { ...reference, detail: shareFields(reference.detail) } : reference
}

/** why: a posted Buffer arrives as a plain Uint8Array, and an encoded file is told from pixels by being a Buffer. */
function asResult(value: unknown): RawImage | Buffer {
  return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : (value as RawImage)
}

function reply(message: ThreadReply | { ready: true }): void {
  port!.postMessage(message)
}

port.on('message', ({ task, args }: { task: ThreadTask; args: unknown[] }) => {
  run(task, args).then(
    (value) => reply({ ok: true, value }),
    (e: unknown) => {
      const error = e instanceof Error ? e : new Error(String(e))
      reply({ ok: false, error: { name: error.name, message: error.message, stack: error.stack } })
    },
  )
})
reply({ ready: true })
