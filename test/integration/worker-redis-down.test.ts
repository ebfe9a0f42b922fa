import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { comfyuiSceneSettingsSchema } from '#app/modules/backends/comfyui/look-settings.ts'
import { createBackendConfig } from '#app/modules/backends/rows.server.ts'
import { closePool } from '#app/modules/backends/pool.server.ts'
import { scenes } from '#app/modules/looks/index.ts'
import { createRenders } from '#app/modules/renders/service.server.ts'
import type { Tenant } from '#db/schema.ts'
import { startComfyFake, type ComfyFake } from '#test/fakes/comfyui/index.ts'
import { catalogImages, createLocalTenant, productSceneLook, removeCreatedTenants } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { readRender, releaseAll, waitFor } from '#test/support/queue.ts'
import { freePort, startPrivateRedis, type PrivateService } from '#test/support/services.ts'
import { killWorkerProcesses, spawnWorkerProcess } from '#test/support/worker-process.ts'

// A worker and its Redis: unreachable at start, it says so in one line and
// exits; gone while the worker runs, SIGTERM still ends the process within
// SHUTDOWN_TIMEOUT_MS, naming the renders it left running.

let redis: PrivateService | undefined
let prefix: string
let fake: ComfyFake | undefined

beforeAll(() => {
  prefix = isolateQueue()
})

afterAll(async () => {
  await killWorkerProcesses()
  await fake?.close()
  await closePool()
  if (redis) {
    // why back up first: the cleanup below talks to this Redis.
    if (!redis.alive()) await redis.start()
    await releaseAll(prefix)
    await redis.destroy()
  } else {
    await removeCreatedTenants()
  }
})

describe('a worker whose Redis is not answering at start', () => {
  it('exits non-zero within seconds with one line naming the server and the fix', async () => {
    const port = await freePort()
    const started = Date.now()
    const worker = spawnWorkerProcess({ REDIS_URL: `redis://127.0.0.1:${port}` })
    const exit = await Promise.race([worker.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))])
    expect(exit, worker.output()).not.toBe('hung')
    expect(exit).toMatchObject({ code: 1, signal: null })
    expect(Date.now() - started).toBeLessThan(15_000)
    const lines = worker.output().trim().split('\n')
    expect(lines, worker.output()).toHaveLength(1)
    const { msg, level } = JSON.parse(lines[0]) as { msg: string; level: number }
    expect(level).toBe(60)
    expect(msg).toContain(`Redis at redis://127.0.0.1:${port} is not answering`)
    expect(msg).toContain('set REDIS_URL')
    expect(worker.output()).not.toContain('render worker started')
  }, 30_000)
})

describe('a worker whose PostgreSQL is not answering at start', () => {
  it('exits non-zero with one line naming the server and the fix', async () => {
    const port = await freePort()
    const worker = spawnWorkerProcess({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/atelier` })
    const exit = await Promise.race([worker.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))])
    expect(exit, worker.output()).toMatchObject({ code: 1, signal: null })
    const lines = worker.output().trim().split('\n')
    expect(lines, worker.output()).toHaveLength(1)
    const { msg } = JSON.parse(lines[0]) as { msg: string }
    expect(msg).toContain(`PostgreSQL is not reachable at 127.0.0.1:${port}`)
    expect(msg).toContain('DATABASE_URL')
  }, 30_000)
})

describe('a worker whose Redis dies while a render runs', () => {
  it('on SIGTERM exits non-zero within SHUTDOWN_TIMEOUT_MS, naming the render it left', async () => {
    redis = await startPrivateRedis()
    process.env.REDIS_URL = redis.url
    resetEnvCache()
    const scene = comfyuiSceneSettingsSchema.parse(scenes[0].backends.comfyui)
    // why slow steps: the render must still be running when Redis goes and the worker is told to stop.
    fake = await startComfyFake({ models: { checkpoints: [scene.checkpoint], controlnet: scene.controlnet.map((c) => c.model) }, stepMs: 2_000 })
    const tenant: Tenant = await createLocalTenant()
    await createBackendConfig(tenant.id, {
      type: 'comfyui',
      name: 'slow-gpu',
      url: fake.url,
      slots: 1,
      operations: ['scene_swap'],
      costPerSecond: 0.001,
      enabled: true,
      credentials: { action: 'clear' },
    })
    const [image] = await catalogImages(tenant)
    const [render] = await createRenders(tenant, { productId: image.productId, imageId: image.imageId, look: productSceneLook(), seeds: [3], operation: 'scene_swap' })
    expect(render.backend).toMatch(/^cfg-/)

    const worker = spawnWorkerProcess({ REDIS_URL: redis.url, SHUTDOWN_TIMEOUT_MS: '3000', LOG_LEVEL: 'info' })
    await worker.ready
    await waitFor(`render ${render.id} to run`, async () => (await readRender(render.id)).status === 'running', {
      timeoutMs: 30_000,
      describe: () => worker.output(),
    })
    await redis.stop('kill')
    const stopAsked = Date.now()
    worker.child.kill('SIGTERM')
    const exit = await Promise.race([worker.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))])
    expect(exit, worker.output().slice(-2000)).not.toBe('hung')
    expect(exit).toMatchObject({ code: 1, signal: null })
    expect(Date.now() - stopAsked).toBeLessThan(10_000)
    expect(worker.output()).toContain(`did not stop within 3 s`)
    expect(worker.output()).toContain(`renders still running here: ${render.id}`)
    // The lost connection is said once per worker and queue, not at every reconnect.
    const errorLines = worker.output().split('\n').filter((l) => /"msg":"(render|bulk) (worker|queue) error"/.test(l))
    expect(errorLines.length, errorLines.join('\n')).toBeLessThanOrEqual(4)
  }, 90_000)
})
