// The load bench's render worker: the real worker entry (workers/index.ts),
// with the zero-latency backend in the CPU studio's place. why under the CPU
// studio's id: the web process (a separate build) makes renders for the CPU
// studio, and an in-process backend only runs renders that name it.
import { availableBackends } from '#app/modules/backends/registry.server.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'

const backends = availableBackends()
const studio = backends.findIndex((b) => b.id === 'cpu-studio')
if (studio < 0) throw new Error('the registry has no CPU studio to stand in for')
backends.splice(studio, 1, createZeroLatencyBackend({ id: 'cpu-studio', maxEdge: 4096 }))

await import('../../workers/index.ts')
