import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { AppError } from '#app/lib/errors.ts'
import { startComfyFake, type ComfyFake } from '#test/fakes/comfyui/index.ts'
import type { ApiWorkflow } from './api.ts'
import { createComfyClient, loadImagePath, promptRejectedError, type ComfyClient, type RunEvent } from './client.server.ts'

const FAST = {
  pollIntervalMs: 40,
  historyGraceMs: 3000,
  stallTimeoutMs: 10_000,
  socketSilenceMs: 30_000,
  connectWaitMs: 1000,
  reconnectMinMs: 20,
  reconnectMaxMs: 200,
  requestTimeoutMs: 5000,
}

let fake: ComfyFake
let client: ComfyClient
afterEach(async () => {
  await client?.close()
  await fake?.close()
})

async function start(options: Parameters<typeof startComfyFake>[0] = {}, clientOptions: Partial<typeof FAST> = {}) {
  fake = await startComfyFake(options)
  client = createComfyClient({ baseUrl: fake.url, ...FAST, ...clientOptions })
}

async function graph(opts: { steps?: number; seed?: number; ckpt?: string } = {}): Promise<ApiWorkflow> {
  const data = Buffer.alloc(16 * 16 * 4, 255)
  const png = await sharp(data, { raw: { width: 16, height: 16, channels: 4 } })
    .png()
    .toBuffer()
  const uploaded = await client.upload(png, `${randomUUID()}.png`, { subfolder: 'atelier' })
  const image = loadImagePath(uploaded)
  return {
    '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: opts.ckpt ?? 'sd_xl_base_1.0.safetensors' } },
    '2': { class_type: 'CLIPTextEncode', inputs: { text: 'beach', clip: ['1', 1] } },
    '3': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['1', 1] } },
    '4': { class_type: 'LoadImage', inputs: { image } },
    '5': {
      class_type: 'InpaintModelConditioning',
      inputs: { positive: ['2', 0], negative: ['3', 0], vae: ['1', 2], pixels: ['4', 0], mask: ['4', 1], noise_mask: true },
    },
    '6': {
      class_type: 'KSampler',
      inputs: {
        model: ['1', 0],
        seed: opts.seed ?? 1,
        steps: opts.steps ?? 3,
        cfg: 2,
        sampler_name: 'euler',
        scheduler: 'normal',
        positive: ['5', 0],
        negative: ['5', 1],
        latent_image: ['5', 2],
        denoise: 1,
      },
    },
    '7': { class_type: 'VAEDecode', inputs: { samples: ['6', 0], vae: ['1', 2] } },
    '8': { class_type: 'SaveImage', inputs: { images: ['7', 0], filename_prefix: 'atelier/client-test' } },
  }
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(AppError)
  return error as AppError
}

const historyPolls = (id: string) => fake.requests.filter((r) => r.method === 'GET' && r.path === `/history/${id}`).length

describe('ComfyUI client', () => {
  it('queues under our prompt id and client id, reports progress and returns the history entry', async () => {
    await start()
    const promptId = randomUUID()
    const events: RunEvent[] = []
    const { promptId: id, entry } = await client.run(await graph({ steps: 5 }), { promptId, onEvent: (e) => events.push(e) })
    expect(id).toBe(promptId)
    const posted = fake.requests.find((r) => r.path === '/prompt' && r.method === 'POST')!.json as Record<string, unknown>
    expect(posted).toMatchObject({ prompt_id: promptId, client_id: client.clientId })
    expect(fake.connectedClients()).toEqual([client.clientId])
    expect(entry.status).toMatchObject({ status_str: 'success', completed: true })
    expect(entry.outputs['8'].images).toEqual([{ filename: 'client-test_00001_.png', subfolder: 'atelier', type: 'output' }])
    expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(['queued', 'started', 'executing', 'progress', 'finishing']))
    expect(events.filter((e) => e.kind === 'progress')).toHaveLength(5)
    expect(events.at(-1)).toEqual({ kind: 'finishing' })
  })

  it('waits out the history race: execution_success before the history has the outputs', async () => {
    await start({ historyDelayMs: 400 })
    const promptId = randomUUID()
    const { entry } = await client.run(await graph(), { promptId })
    expect(entry.outputs['8']).toBeDefined()
    const success = fake.sent.find((m) => m.type === 'execution_success' && m.data.prompt_id === promptId)!
    expect(success.delivered).toBe(true)
    // At least one /history answer was still {} after the success message.
    expect(historyPolls(promptId)).toBeGreaterThanOrEqual(2)
  })

  it('completes through /history polling when the socket stalls without closing', async () => {
    await start()
    const workflow = await graph()
    fake.stallSockets(true)
    const promptId = randomUUID()
    const events: RunEvent[] = []
    const { entry } = await client.run(workflow, { promptId, onEvent: (e) => events.push(e) })
    expect(entry.status?.status_str).toBe('success')
    expect(fake.sent.filter((m) => m.data.prompt_id === promptId).every((m) => !m.delivered)).toBe(true)
    expect(events.some((e) => e.kind === 'progress')).toBe(false)
    expect(historyPolls(promptId)).toBeGreaterThanOrEqual(1)
  })

  it('times out a running prompt nobody hears from, and interrupts it by id', async () => {
    await start({ stepMs: 50 }, { stallTimeoutMs: 300 })
    const workflow = await graph({ steps: 200 })
    fake.stallSockets(true)
    const promptId = randomUUID()
    const error = await rejection(client.run(workflow, { promptId }))
    expect(error.code).toBe('BACKEND_TIMEOUT')
    expect(error.retryable).toBe(true)
    await until(() => fake.requests.some((r) => r.path === '/interrupt'))
    expect(fake.requests.find((r) => r.path === '/interrupt')!.json).toEqual({ prompt_id: promptId })
  })

  it('cancels a running prompt with a targeted /interrupt and rejects as canceled', async () => {
    await start({ stepMs: 30 })
    const workflow = await graph({ steps: 100 })
    const controller = new AbortController()
    const promptId = randomUUID()
    const run = client.run(workflow, {
      promptId,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.kind === 'progress' && e.value === 2) controller.abort()
      },
    })
    const error = await rejection(run)
    expect(error.code).toBe('RENDER_CANCELED')
    expect(error.retryable).toBe(false)
    const cancels = fake.requests.filter((r) => r.method === 'POST' && (r.path === '/interrupt' || r.path === '/queue'))
    expect(cancels.map((r) => [r.path, r.json])).toEqual([
      ['/queue', { delete: [promptId] }],
      ['/interrupt', { prompt_id: promptId }],
    ])
    await until(() => fake.history().has(promptId))
    expect(fake.history().get(promptId)!.status.messages.at(-1)![0]).toBe('execution_interrupted')
  })

  it('takes a queued prompt off the queue when canceled before it starts', async () => {
    await start({ stepMs: 20 })
    const blocker = randomUUID()
    const first = client.run(await graph({ steps: 100, seed: 9 }), { promptId: blocker })
    first.catch(() => undefined)
    await until(() => fake.executor.running()?.[1] === blocker)
    const controller = new AbortController()
    const queued = randomUUID()
    const second = client.run(await graph({ seed: 10 }), {
      promptId: queued,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.kind === 'queued') controller.abort()
      },
    })
    expect((await rejection(second)).code).toBe('RENDER_CANCELED')
    expect(fake.executor.pending().map((i) => i[1])).not.toContain(queued)
    expect(fake.executor.running()?.[1]).toBe(blocker)
    await client.cancel(blocker)
    expect((await rejection(first)).code).toBe('RENDER_CANCELED')
    expect(fake.history().has(queued)).toBe(false)
  })

  it('turns an abort by timeout into a retryable BACKEND_TIMEOUT', async () => {
    await start({ stepMs: 30 })
    const error = await rejection(client.run(await graph({ steps: 100 }), { signal: AbortSignal.timeout(150) }))
    expect(error.code).toBe('BACKEND_TIMEOUT')
    expect(error.retryable).toBe(true)
  })

  it('fails retryably on execution_error, with the node, its class and the exception', async () => {
    await start()
    fake.failNext({
      exceptionType: 'torch.OutOfMemoryError',
      message: 'Allocation on device \nThis error means you ran out of memory',
    })
    const error = await rejection(client.run(await graph()))
    expect(error.code).toBe('BACKEND_FAILED')
    expect(error.retryable).toBe(true)
    expect(error.message).toBe('ComfyUI failed in node 6 (KSampler): torch.OutOfMemoryError: Allocation on device')
    expect(error.details).toMatchObject({ nodeId: '6', nodeType: 'KSampler', exceptionType: 'torch.OutOfMemoryError' })
  })

  it('does not retry an execution error that is about the inputs', async () => {
    await start()
    fake.failNext({ classType: 'VAEDecode', exceptionType: 'ValueError', message: 'Expected 4 channels, got 3' })
    const error = await rejection(client.run(await graph()))
    expect(error.retryable).toBe(false)
    expect(error.message).toContain('node 7 (VAEDecode): ValueError: Expected 4 channels, got 3')
  })

  it('reads the failure from the history when the socket missed execution_error', async () => {
    await start()
    const workflow = await graph()
    fake.stallSockets(true)
    fake.failNext({ exceptionType: 'torch.OutOfMemoryError', message: 'Allocation on device' })
    const error = await rejection(client.run(workflow))
    expect(error.message).toContain('node 6 (KSampler)')
    expect(error.retryable).toBe(true)
  })

  it('refuses with a non-retryable error naming node, class and input on node_errors', async () => {
    await start()
    const workflow = await graph({ ckpt: 'missing.safetensors' })
    delete (workflow['6'].inputs as Record<string, unknown>).steps
    const error = await rejection(client.run(workflow))
    expect(error.code).toBe('BACKEND_FAILED')
    expect(error.retryable).toBe(false)
    expect(error.message).toContain('prompt_outputs_failed_validation')
    expect(error.message).toContain('node 1 (CheckpointLoaderSimple) input "ckpt_name": Value not in list')
    expect(error.message).toContain('node 6 (KSampler) input "steps": Required input is missing')
    expect(fake.executor.stats.executed).toBe(0)
  })

  it('names the node of an unknown class (missing_node_type) and of the older invalid_prompt shape', async () => {
    await start()
    const workflow = await graph()
    workflow['9'] = { class_type: 'RMBG', inputs: { image: ['4', 0] } }
    const error = await rejection(client.run(workflow))
    expect(error.retryable).toBe(false)
    expect(error.message).toBe(
      "ComfyUI refused the workflow (missing_node_type): node 9 (RMBG): Node 'RMBG' not found. The custom node may not be installed.",
    )

    const older = promptRejectedError(
      fake.url,
      {
        error: {
          type: 'invalid_prompt',
          message: 'Cannot execute because node RMBG does not exist.',
          details: "Node ID '#9'",
          extra_info: {},
        },
        node_errors: {},
      },
      workflow,
    )
    expect(older.message).toContain('node 9 (RMBG): Cannot execute because node RMBG does not exist.')
  })

  it('reconnects the socket after the connection drops, and still finishes the prompt', async () => {
    await start({ stepMs: 20 })
    const promptId = randomUUID()
    let dropped = false
    const events: RunEvent[] = []
    const run = client.run(await graph({ steps: 30 }), {
      promptId,
      onEvent: (e) => {
        events.push(e)
        if (!dropped && e.kind === 'progress' && e.value === 3) {
          dropped = true
          fake.dropSockets()
        }
      },
    })
    const { entry } = await run
    expect(entry.status?.status_str).toBe('success')
    const connects = fake.requests.filter((r) => r.path === '/ws' && r.query.clientId === client.clientId)
    expect(connects.length).toBeGreaterThanOrEqual(2)
    expect(events.filter((e) => e.kind === 'progress' && e.value > 3).length).toBeGreaterThan(0)
  })

  it('fails retryably when the server forgets a queued prompt (a restart)', async () => {
    await start({ stepMs: 20 })
    const blocker = randomUUID()
    const first = client.run(await graph({ steps: 200, seed: 3 }), { promptId: blocker })
    first.catch(() => undefined)
    await until(() => fake.executor.running()?.[1] === blocker)
    const lost = client.run(await graph({ seed: 4 }))
    await until(() => fake.executor.pending().length === 1)
    fake.executor.wipeQueue()
    const error = await rejection(lost)
    expect(error.code).toBe('BACKEND_FAILED')
    expect(error.retryable).toBe(true)
    expect(error.message).toContain('no longer knows the prompt')
    await client.cancel(blocker)
  })

  it('gives up retryably on a server that goes away while a prompt runs', async () => {
    await start({ stepMs: 20 }, { stallTimeoutMs: 300 })
    const run = client.run(await graph({ steps: 500 }))
    run.catch(() => undefined)
    await until(() => fake.executor.running() !== undefined)
    await fake.close()
    const error = await rejection(run)
    expect(error.code).toBe('BACKEND_UNAVAILABLE')
    expect(error.retryable).toBe(true)
  })

  it('reports an unreachable server as a retryable BACKEND_UNAVAILABLE', async () => {
    await start()
    const workflow = await graph()
    await fake.close()
    const error = await rejection(client.run(workflow))
    expect(error.code).toBe('BACKEND_UNAVAILABLE')
    expect(error.retryable).toBe(true)
  })
})

describe('ComfyUI client, a proxy in front of the server', () => {
  it('does not quote a proxy’s error page to the merchant; the page stays in details', async () => {
    const proxy = http.createServer((req, res) => {
      req.resume()
      res.writeHead(502, { 'Content-Type': 'text/html' })
      res.end('<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>')
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    const c = createComfyClient({ baseUrl: url })
    try {
      const error = (await c.systemStats().catch((e: unknown) => e)) as AppError
      expect(error).toMatchObject({ code: 'BACKEND_FAILED', retryable: true, details: { status: 502, body: expect.stringContaining('<html>') } })
      expect(error.message).toBe('ComfyUI answered /system_stats with HTTP 502')
    } finally {
      await c.close()
      proxy.close()
    }
  })
})
