// The fake against ComfyUI's real shapes, spoken to with plain fetch and the
// global WebSocket (not our client), so a client bug can't hide a fake bug.
import { randomUUID } from 'node:crypto'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { acceptKey } from './websocket.ts'
import { startComfyFake, type ComfyFake } from './index.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- why: each test asserts the response shape it reads.
type Loose = any

const CKPT = 'sd_xl_base_1.0.safetensors'
let fake: ComfyFake
afterEach(async () => fake?.close())

async function png(
  width: number,
  height: number,
  rgba?: (x: number, y: number) => [number, number, number, number],
): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 4)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set(rgba ? rgba(x, y) : [200, 100, 50, 255], (y * width + x) * 4)
  return sharp(data, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer()
}

async function upload(bytes: Buffer, name: string, subfolder = 'atelier') {
  const form = new FormData()
  form.append('image', new Blob([Uint8Array.from(bytes)], { type: 'image/png' }), name)
  form.append('subfolder', subfolder)
  form.append('type', 'input')
  form.append('overwrite', 'false')
  const res = await fetch(`${fake.url}/upload/image`, { method: 'POST', body: form })
  return { status: res.status, body: (await res.json()) as { name: string; subfolder: string; type: string } }
}

function inpaintGraph(source: string, mask: string, opts: { seed?: number; ckpt?: string; steps?: number } = {}) {
  return {
    '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: opts.ckpt ?? CKPT } },
    '2': { class_type: 'CLIPTextEncode', inputs: { text: 'a beach', clip: ['1', 1] } },
    '3': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['1', 1] } },
    '4': { class_type: 'LoadImage', inputs: { image: source } },
    '5': { class_type: 'LoadImage', inputs: { image: mask } },
    '6': {
      class_type: 'InpaintModelConditioning',
      inputs: { positive: ['2', 0], negative: ['3', 0], vae: ['1', 2], pixels: ['4', 0], mask: ['5', 1], noise_mask: true },
    },
    '7': {
      class_type: 'KSampler',
      inputs: {
        model: ['1', 0],
        seed: opts.seed ?? 7,
        steps: opts.steps ?? 4,
        cfg: 2,
        sampler_name: 'euler',
        scheduler: 'karras',
        positive: ['6', 0],
        negative: ['6', 1],
        latent_image: ['6', 2],
        denoise: 1,
      },
    },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['7', 0], vae: ['1', 2] } },
    '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'atelier/test' } },
  }
}

async function postPrompt(prompt: unknown, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${fake.url}/prompt`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt, ...extra }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, Loose> }
}

async function listen(
  clientId: string,
): Promise<{ messages: Array<{ type: string; data: Loose }>; binary: number; ws: WebSocket }> {
  const ws = new WebSocket(`${fake.url.replace('http', 'ws')}/ws?clientId=${clientId}`)
  const out = { messages: [] as Array<{ type: string; data: Loose }>, binary: 0, ws }
  ws.binaryType = 'arraybuffer'
  ws.addEventListener('message', (e) => {
    if (typeof e.data === 'string') out.messages.push(JSON.parse(e.data))
    else out.binary++
  })
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true })
    ws.addEventListener('error', reject, { once: true })
  })
  return out
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('ComfyUI fake', () => {
  it('computes the RFC 6455 accept key of the spec example', () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
  })

  it('keeps both files on a name clash, unless the bytes are the same', async () => {
    fake = await startComfyFake()
    const a = await png(8, 8)
    const b = await png(8, 8, () => [1, 2, 3, 255])
    expect(await upload(a, 'x.png')).toEqual({ status: 200, body: { name: 'x.png', subfolder: 'atelier', type: 'input' } })
    expect((await upload(a, 'x.png')).body.name).toBe('x.png')
    expect((await upload(b, 'x.png')).body.name).toBe('x (1).png')
    const res = await fetch(`${fake.url}/upload/image`, { method: 'POST', body: new FormData() })
    expect(res.status).toBe(400)
  })

  it('refuses an unknown class with missing_node_type and empty node_errors (newer ComfyUI)', async () => {
    fake = await startComfyFake()
    const { status, body } = await postPrompt({ '1': { class_type: 'SAMSegment', inputs: {} } })
    expect(status).toBe(400)
    expect(body).toEqual({
      error: {
        type: 'missing_node_type',
        message: "Node 'SAMSegment' not found. The custom node may not be installed.",
        details: "Node ID '#1'",
        extra_info: { node_id: '1', class_type: 'SAMSegment', node_title: 'SAMSegment' },
      },
      node_errors: {},
    })
  })

  it('answers validation failures with per-node errors, dependent outputs and class types', async () => {
    fake = await startComfyFake()
    const graph = inpaintGraph('atelier/missing.png', 'atelier/missing.png', { ckpt: 'nope.safetensors' }) as Record<
      string,
      Loose
    >
    delete graph['7'].inputs.steps
    graph['7'].inputs.sampler_name = 'warp'
    const { status, body } = await postPrompt(graph)
    expect(status).toBe(400)
    expect(body.error.type).toBe('prompt_outputs_failed_validation')
    expect(body.error.message).toBe('Prompt outputs failed validation')
    expect(body.node_errors['7']).toMatchObject({
      class_type: 'KSampler',
      dependent_outputs: ['9'],
      errors: expect.arrayContaining([
        {
          type: 'required_input_missing',
          message: 'Required input is missing',
          details: 'steps',
          extra_info: { input_name: 'steps' },
        },
        expect.objectContaining({
          type: 'value_not_in_list',
          details: expect.stringContaining("sampler_name: 'warp' not in (list of length"),
        }),
      ]),
    })
    expect(body.node_errors['1'].errors[0]).toMatchObject({
      type: 'value_not_in_list',
      details: `ckpt_name: 'nope.safetensors' not in ['${CKPT}', 'sd_xl_refiner_1.0.safetensors']`,
    })
    expect(body.node_errors['4'].errors[0]).toEqual({
      type: 'custom_validation_failed',
      message: 'Custom validation failed for node',
      details: 'image - Invalid image file: atelier/missing.png',
      extra_info: { input_name: 'image' },
    })
    // Downstream nodes that are invalid only because of an upstream node carry no entry.
    expect(body.node_errors['8']).toBeUndefined()
  })

  it('runs a prompt with ComfyUI’s message order and writes history before executing {node: null}', async () => {
    fake = await startComfyFake({ historyDelayMs: 150, previews: true })
    const clientId = randomUUID()
    const socket = await listen(clientId)
    const source = await upload(await png(20, 20), 's.png')
    const mask = await upload(await png(20, 20, (x) => [0, 0, 0, x < 10 ? 255 : 0]), 'm.png')
    const promptId = randomUUID()
    const accepted = await postPrompt(inpaintGraph(`atelier/${source.body.name}`, `atelier/${mask.body.name}`), {
      client_id: clientId,
      prompt_id: promptId,
    })
    expect(accepted).toEqual({ status: 200, body: { prompt_id: promptId, number: 0, node_errors: {} } })

    let historyAtSuccess: unknown
    await until(async () => {
      const success = socket.messages.find((m) => m.type === 'execution_success')
      if (success && historyAtSuccess === undefined) {
        historyAtSuccess = await (await fetch(`${fake.url}/history/${promptId}`)).json()
      }
      return socket.messages.some((m) => m.type === 'executing' && m.data.node === null)
    })
    expect(historyAtSuccess).toEqual({})
    const types = socket.messages.filter((m) => m.type !== 'status' && m.type !== 'progress_state').map((m) => m.type)
    expect(types.slice(0, 3)).toEqual(['execution_start', 'execution_cached', 'executing'])
    expect(types.slice(-2)).toEqual(['execution_success', 'executing'])
    expect(types.filter((t) => t === 'progress')).toHaveLength(4)
    expect(socket.messages.find((m) => m.type === 'progress')!.data).toEqual({ value: 1, max: 4, prompt_id: promptId, node: '7' })
    expect(socket.messages.find((m) => m.type === 'status')!.data.sid).toBe(clientId)
    expect(socket.binary).toBe(4)

    const history = (await (await fetch(`${fake.url}/history/${promptId}`)).json()) as Record<string, Loose>
    const entry = history[promptId]
    expect(entry.status).toMatchObject({ status_str: 'success', completed: true })
    expect(entry.status.messages.map((m: [string, unknown]) => m[0])).toEqual([
      'execution_start',
      'execution_cached',
      'execution_success',
    ])
    expect(entry.prompt.slice(0, 2)).toEqual([0, promptId])
    expect(entry.prompt[3]).toEqual({ client_id: clientId })
    const image = entry.outputs['9'].images[0]
    expect(image).toEqual({ filename: 'test_00001_.png', subfolder: 'atelier', type: 'output' })

    // The kept half (alpha 255 → MASK 0) is the source; the rest is painted.
    const view = await fetch(`${fake.url}/view?${new URLSearchParams(image)}`)
    const { data, info } = await sharp(Buffer.from(await view.arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true })
    expect([info.width, info.height]).toEqual([16, 16]) // the VAE's crop to multiples of 8, centred
    expect([...data.subarray(0, 3)]).toEqual([200, 100, 50])
    expect([...data.subarray(15 * 3, 15 * 3 + 3)]).not.toEqual([200, 100, 50])
    socket.ws.close()
  })

  it('caches identical graphs, and charges a model switch when the checkpoint changes', async () => {
    fake = await startComfyFake({ models: { checkpoints: [CKPT, 'other.safetensors'] }, modelSwitchMs: 1 })
    const s = await upload(await png(16, 16), 's.png')
    const run = async (graph: unknown) => {
      const id = randomUUID()
      await postPrompt(graph, { prompt_id: id })
      await until(() => fake.history().has(id))
      return fake.history().get(id)!
    }
    await run(inpaintGraph(`atelier/${s.body.name}`, `atelier/${s.body.name}`))
    const again = await run(inpaintGraph(`atelier/${s.body.name}`, `atelier/${s.body.name}`))
    const cached = again.status.messages.find(([event]) => event === 'execution_cached')![1].nodes as string[]
    expect(cached.sort()).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect(fake.executor.stats.modelLoads).toBe(1)
    await run(inpaintGraph(`atelier/${s.body.name}`, `atelier/${s.body.name}`, { ckpt: 'other.safetensors' }))
    expect(fake.executor.stats.modelLoads).toBe(2)
  })

  it('interrupts only the prompt named, and deletes queued prompts by id', async () => {
    fake = await startComfyFake({ stepMs: 20 })
    const s = await upload(await png(16, 16), 's.png')
    const [first, second] = [randomUUID(), randomUUID()]
    await postPrompt(inpaintGraph(`atelier/${s.body.name}`, `atelier/${s.body.name}`, { steps: 50 }), { prompt_id: first })
    await postPrompt(inpaintGraph(`atelier/${s.body.name}`, `atelier/${s.body.name}`, { seed: 2 }), { prompt_id: second })
    await until(() => fake.executor.running()?.[1] === first)
    const queue = (await (await fetch(`${fake.url}/queue`)).json()) as { queue_running: unknown[][]; queue_pending: unknown[][] }
    expect(queue.queue_running.map((i) => i[1])).toEqual([first])
    expect(queue.queue_pending.map((i) => i[1])).toEqual([second])

    await fetch(`${fake.url}/interrupt`, { method: 'POST', body: JSON.stringify({ prompt_id: second }) })
    await fetch(`${fake.url}/queue`, { method: 'POST', body: JSON.stringify({ delete: [second] }) })
    await new Promise((r) => setTimeout(r, 60))
    expect(fake.executor.running()?.[1]).toBe(first)
    await fetch(`${fake.url}/api/interrupt`, { method: 'POST', body: JSON.stringify({ prompt_id: first }) })
    await until(() => fake.history().has(first))
    const entry = fake.history().get(first)!
    expect(entry.status).toMatchObject({ status_str: 'error', completed: false })
    expect(entry.status.messages.at(-1)![0]).toBe('execution_interrupted')
    expect(fake.history().has(second)).toBe(false)
  })

  it('reports an injected failure as execution_error in the socket and the history', async () => {
    fake = await startComfyFake()
    const clientId = randomUUID()
    const socket = await listen(clientId)
    const s = await upload(await png(16, 16), 's.png')
    fake.failNext({ exceptionType: 'torch.OutOfMemoryError', message: 'Allocation on device' })
    const id = randomUUID()
    await postPrompt(inpaintGraph(`atelier/${s.body.name}`, `atelier/${s.body.name}`), { prompt_id: id, client_id: clientId })
    await until(() => fake.history().has(id))
    const error = socket.messages.find((m) => m.type === 'execution_error')!.data
    expect(error).toMatchObject({
      prompt_id: id,
      node_id: '7',
      node_type: 'KSampler',
      exception_type: 'torch.OutOfMemoryError',
      exception_message: 'Allocation on device',
    })
    expect(fake.history().get(id)!.status.status_str).toBe('error')
    socket.ws.close()
  })

  it('fails sampler runs at the configured rate and answers with the configured latency', async () => {
    fake = await startComfyFake({ failureRate: 1 })
    const s = await upload(await png(16, 16), 's.png')
    const id = randomUUID()
    await postPrompt(inpaintGraph(`atelier/${s.body.name}`, `atelier/${s.body.name}`), { prompt_id: id })
    await until(() => fake.history().has(id))
    const [event, data] = fake.history().get(id)!.status.messages.at(-1)!
    expect([event, data.node_type, data.exception_type]).toEqual(['execution_error', 'KSampler', 'torch.OutOfMemoryError'])

    fake.configure({ failureRate: 0, httpLatencyMs: 120 })
    const started = Date.now()
    await fetch(`${fake.url}/prompt`)
    expect(Date.now() - started).toBeGreaterThanOrEqual(110)
  })

  it('drops messages while stalled but keeps the socket open', async () => {
    fake = await startComfyFake()
    const clientId = randomUUID()
    const socket = await listen(clientId)
    const s = await upload(await png(16, 16), 's.png')
    fake.stallSockets(true)
    const id = randomUUID()
    await postPrompt(inpaintGraph(`atelier/${s.body.name}`, `atelier/${s.body.name}`), { prompt_id: id, client_id: clientId })
    await until(() => fake.history().has(id))
    expect(socket.messages.filter((m) => m.data?.prompt_id === id)).toEqual([])
    expect(socket.ws.readyState).toBe(WebSocket.OPEN)
    expect(fake.connectedClients()).toEqual([clientId])
    socket.ws.close()
  })

  it('reports VRAM in /system_stats', async () => {
    fake = await startComfyFake({ vram: { total: 8 * 1024 ** 3, free: 2 * 1024 ** 3 } })
    const stats = (await (await fetch(`${fake.url}/api/system_stats`)).json()) as Record<string, Loose>
    expect(stats.devices[0]).toMatchObject({ type: 'cuda', vram_total: 8 * 1024 ** 3, vram_free: 2 * 1024 ** 3 })
    expect(stats.system.comfyui_version).toMatch(/^\d+\.\d+\.\d+$/)
  })
})
