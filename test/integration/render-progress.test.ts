import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { translator } from '#app/lib/i18n.ts'
import { progressLine } from '#app/components/RenderCard.tsx'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import type { Backend } from '#app/modules/backends/types.ts'
import { processRender } from '#app/modules/renders/jobs.server.ts'
import type { Tenant } from '#db/schema.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { createLocalTenant, insertRender } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { readRender, releaseAll, waitFor } from '#test/support/queue.ts'

// What the studio's progress line says while a remote backend renders and
// the worker then checks its result (issue 16: "33% · done · about 1 s
// left" showed while the render was still being checked).

let prefix: string
let tenant: Tenant
let finish: () => void = () => {}
let reported: Promise<void>
let announce: () => void = () => {}

/** A remote-like backend that reports its steps, says "done", and waits for the test before handing its result over. */
function steppedBackend(): Backend {
  const zero = createZeroLatencyBackend({ id: 'stepped' })
  return {
    ...zero,
    async render(request, controls) {
      await controls.onProgress(50, 'compositing')
      await controls.onProgress(100, 'done')
      announce()
      await new Promise<void>((resolve) => (finish = resolve))
      return zero.render(request, controls)
    },
  }
}

beforeAll(async () => {
  prefix = isolateQueue()
  registerBackend(steppedBackend())
  tenant = await createLocalTenant()
})

afterAll(async () => {
  await releaseAll(prefix)
})

describe('the progress a render shows', () => {
  it('says the result is being checked once the backend is done, and never shows "done" before the render is', async () => {
    const render = await insertRender(tenant, { backend: 'stepped', enqueue: false })
    reported = new Promise((resolve) => (announce = resolve))
    const running = processRender(render.id, { backendId: 'stepped' })
    await reported
    const row = await waitFor('the checking step on the row', async () => {
      const r = await readRender(render.id)
      return r.progressMessage === 'checking product fidelity' ? r : undefined
    })
    expect(row.progress).toBe(90)
    const line = progressLine({ ...row, queuePosition: null, etaSeconds: null, waitingFor: null }, translator('en'), 'en')
    expect(line).toBe('90% · checking product fidelity')
    expect(line).not.toMatch(/done/)
    finish()
    expect(await running).toMatchObject({ status: 'succeeded', progress: 100, progressMessage: null })
  })

  it('names a gate retry’s attempt in words, in both languages', () => {
    const r = { status: 'running' as const, progress: 40, progressMessage: 'retry 1: compositing', queuePosition: null, etaSeconds: null, waitingFor: null }
    expect(progressLine(r, translator('en'), 'en')).toBe('40% · attempt 2: compositing')
    expect(progressLine(r, translator('zh-CN'), 'zh-CN')).toBe('40% · 第 2 次尝试：合成')
  })
})
