// A ComfyUI server for tests: real HTTP (node:http) and a real WebSocket on
// 127.0.0.1:0, answering with the shapes of ComfyUI's server.py. Every route
// also answers under /api, as ComfyUI registers them twice.
//   GET  /ws?clientId=          messages for that client (status on connect)
//   POST /prompt                {prompt, client_id, prompt_id?, number?, front?} → {prompt_id, number, node_errors} | 400
//   GET  /prompt                {exec_info: {queue_remaining}}
//   POST /upload/image          multipart image, subfolder, type, overwrite → {name, subfolder, type}
//   GET  /view                  ?filename&subfolder&type → the file
//   GET  /history[/{id}]        {id: {prompt, outputs, status, meta}} ({} until written)
//   POST /history               {clear} | {delete: [ids]}
//   GET  /queue                 {queue_running, queue_pending}
//   POST /queue                 {clear} | {delete: [ids]}
//   POST /interrupt             {prompt_id?} (targeted only if it is running; global without it)
//   POST /free                  {unload_models, free_memory}
//   GET  /system_stats          {system, devices: [{name, type, index, vram_total, vram_free, ...}]}
import { createHash, randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { posix } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  createExecutor,
  type Executor,
  type ExecutorTimings,
  type HistoryEntry,
  type InjectedFailure,
  type MessageHub,
} from './executor.ts'
import type { ModelFiles, NodeEnv } from './nodes.ts'
import { validatePrompt, type ApiPrompt } from './validation.ts'
import { acceptWebSocket, type FakeWebSocket } from './websocket.ts'
import { answerGarbage, type GarbageKind } from '../garbage.ts'

export interface ComfyFakeOptions extends Partial<ExecutorTimings> {
  /** Delay before answering every HTTP request, ms. */
  httpLatencyMs?: number
  models?: Partial<ModelFiles>
  /** Seed of the fake's own randomness (failure rate). */
  seed?: number
  vram?: { total: number; free: number }
}

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  json?: unknown
  form?: { fields: Record<string, string>; files: Array<{ field: string; filename: string; size: number; contentType: string }> }
}

export interface ComfyFake {
  /** Base URL, e.g. http://127.0.0.1:53123 */
  readonly url: string
  /** Every HTTP request, in order (WebSocket upgrades included as GET /ws). */
  readonly requests: RecordedRequest[]
  /** Changes timings and failure behaviour while running. */
  configure(options: Partial<ExecutorTimings> & { httpLatencyMs?: number; vram?: { total: number; free: number } }): void
  /** Makes the next execution of a node of that class (default KSampler) fail with execution_error. */
  failNext(failure?: InjectedFailure): void
  /** While stalled, the sockets stay open but every message to them is dropped. */
  stallSockets(stalled: boolean): void
  /** Cuts every socket's TCP connection (no close frame). */
  dropSockets(): void
  connectedClients(): string[]
  /** Messages sent per client id (what the fake tried to send, stalled or not). */
  readonly sent: Array<{ sid: string | null; type: string; data: Record<string, unknown>; delivered: boolean }>
  history(): Map<string, HistoryEntry>
  readonly executor: Executor
  readonly inputs: Map<string, Buffer>
  readonly outputs: Map<string, Buffer>
  /** While set, every HTTP request is answered 200 with a body that is not this API's (null: the API again). */
  answerGarbage(kind: GarbageKind | null): void
  close(): Promise<void>
}

const DEFAULT_MODELS: ModelFiles = {
  checkpoints: ['sd_xl_base_1.0.safetensors', 'sd_xl_refiner_1.0.safetensors'],
  loras: [],
  controlnet: [],
}
const GIB = 1024 ** 3

type Json = Record<string, unknown>

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(payload) })
  res.end(payload)
}

function sendEmpty(res: http.ServerResponse, status: number): void {
  // aiohttp's web.Response(status=…) answers text/plain with an empty body.
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 0 })
  res.end()
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

interface Multipart {
  fields: Record<string, string>
  files: Array<{ field: string; filename: string; contentType: string; data: Buffer }>
}

/** multipart/form-data (RFC 7578) as browsers and undici's FormData send it. */
function parseMultipart(body: Buffer, contentType: string): Multipart | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType)
  if (!match) return undefined
  const boundary = Buffer.from(`--${match[1] ?? match[2]}`)
  const out: Multipart = { fields: {}, files: [] }
  let start = body.indexOf(boundary)
  while (start >= 0) {
    const next = body.indexOf(boundary, start + boundary.length)
    if (next < 0) break
    // Part = CRLF headers CRLF CRLF data CRLF
    const part = body.subarray(start + boundary.length + 2, next - 2)
    const split = part.indexOf('\r\n\r\n')
    if (split >= 0) {
      const headers = part.subarray(0, split).toString('utf8')
      const data = part.subarray(split + 4)
      const name = /name="([^"]*)"/i.exec(headers)?.[1] ?? ''
      const filename = /filename="([^"]*)"/i.exec(headers)?.[1]
      const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? 'application/octet-stream'
      if (filename !== undefined) out.files.push({ field: name, filename, contentType: type, data: Buffer.from(data) })
      else out.fields[name] = data.toString('utf8')
    }
    start = next
  }
  return out
}

function sha(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

/** os.path.normpath for the subfolder ("" → "."), refusing paths that leave the folder. */
function safeJoin(subfolder: string, name: string): string | undefined {
  const joined = posix.normalize(posix.join(subfolder || '.', name))
  if (joined.startsWith('..') || posix.isAbsolute(joined)) return undefined
  return joined
}

export async function startComfyFake(options: ComfyFakeOptions = {}): Promise<ComfyFake> {
  const timings: ExecutorTimings = {
    nodeLatencyMs: options.nodeLatencyMs ?? 1,
    stepMs: options.stepMs ?? 2,
    historyDelayMs: options.historyDelayMs ?? 0,
    modelSwitchMs: options.modelSwitchMs ?? 20,
    failureRate: options.failureRate ?? 0,
    previews: options.previews ?? false,
  }
  let httpLatencyMs = options.httpLatencyMs ?? 0
  let vram = options.vram ?? { total: 24 * GIB, free: 20 * GIB }
  const models: ModelFiles = { ...DEFAULT_MODELS, ...options.models }
  const requests: RecordedRequest[] = []
  const sent: ComfyFake['sent'] = []
  const inputs = new Map<string, Buffer>()
  const outputs = new Map<string, Buffer>()
  const sockets = new Map<string, FakeWebSocket>()
  /** Raw upgraded connections: server.closeAllConnections() does not see them. */
  const upgraded = new Set<Duplex>()
  let stalled = false
  let closing = false
  let number = 0
  let executingClient: string | null = null
  let lastNode: string | null = null

  const env: NodeEnv = {
    models,
    inputFiles: () => [...inputs.keys()].filter((k) => !k.includes('/')).sort(),
    inputExists: (path) => {
      const key = safeJoin('', path)
      return key !== undefined && inputs.has(key)
    },
  }

  const deliver = (sid: string | null, frame: (ws: FakeWebSocket) => void): boolean => {
    if (stalled) return false
    if (sid === null) {
      for (const ws of sockets.values()) frame(ws)
      return sockets.size > 0
    }
    const ws = sockets.get(sid)
    if (!ws) return false
    frame(ws)
    return true
  }

  const queueInfo = () => ({ exec_info: { queue_remaining: executor.tasksRemaining() } })

  const hub: MessageHub = {
    send(event, data, sid) {
      const text = JSON.stringify({ type: event, data })
      const delivered = deliver(sid, (ws) => ws.sendText(text))
      sent.push({ sid, type: event, data, delivered })
    },
    sendBinary(data, sid) {
      deliver(sid, (ws) => ws.sendBinary(data))
    },
    statusChanged() {
      hub.send('status', { status: queueInfo() }, null)
    },
    executing(sid, node) {
      executingClient = sid
      lastNode = node
    },
  }

  const files = {
    readInput(path: string): Buffer {
      const key = safeJoin('', path)
      const data = key === undefined ? undefined : inputs.get(key)
      if (!data) throw Object.assign(new Error(`[Errno 2] No such file or directory: '${path}'`), { name: 'FileNotFoundError' })
      return data
    },
    saveOutput(prefix: string, png: Buffer) {
      const subfolder = posix.dirname(posix.normalize(prefix)) === '.' ? '' : posix.dirname(posix.normalize(prefix))
      const base = posix.basename(posix.normalize(prefix))
      let counter = 1
      for (const key of outputs.keys()) {
        const m = new RegExp(`^${subfolder ? `${subfolder}/` : ''}${base}_(\\d+)_\\.png$`).exec(key)
        if (m) counter = Math.max(counter, Number(m[1]) + 1)
      }
      const filename = `${base}_${String(counter).padStart(5, '0')}_.png`
      outputs.set(subfolder ? `${subfolder}/${filename}` : filename, png)
      return { filename, subfolder, type: 'output' as const }
    },
  }

  const executor = createExecutor(env, files, hub, () => timings, options.seed ?? 1)

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    const path = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname
    const method = req.method ?? 'GET'
    const query = Object.fromEntries(url.searchParams)
    const record: RecordedRequest = { method, path, query }
    requests.push(record)
    const raw = method === 'POST' ? await readBody(req) : Buffer.alloc(0)
    if (httpLatencyMs > 0) await sleep(httpLatencyMs)
    const json = (): Json | undefined => {
      try {
        const parsed = JSON.parse(raw.toString('utf8')) as unknown
        record.json = parsed
        return parsed && typeof parsed === 'object' ? (parsed as Json) : undefined
      } catch {
        return undefined
      }
    }

    if (method === 'POST' && path === '/prompt') {
      const body = json()
      if (!body)
        return sendJson(res, 400, {
          error: { type: 'invalid_json', message: 'Invalid JSON', details: '', extra_info: {} },
          node_errors: {},
        })
      let n: number
      if (typeof body.number === 'number') n = body.number
      else {
        n = body.front ? -number : number
        number++
      }
      if (!('prompt' in body)) {
        return sendJson(res, 400, {
          error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} },
          node_errors: {},
        })
      }
      const prompt = body.prompt as ApiPrompt
      const promptId = String(body.prompt_id ?? randomUUID())
      const valid = await validatePrompt(prompt, env)
      const extra: Json = { ...((body.extra_data as Json | undefined) ?? {}) }
      if ('client_id' in body) extra.client_id = body.client_id
      if (!valid.ok) return sendJson(res, 400, { error: valid.error, node_errors: valid.nodeErrors })
      executor.put([n, promptId, prompt, extra, valid.outputs])
      return sendJson(res, 200, { prompt_id: promptId, number: n, node_errors: valid.nodeErrors })
    }
    if (method === 'GET' && path === '/prompt') return sendJson(res, 200, queueInfo())

    if (method === 'POST' && path === '/upload/image') {
      const form = parseMultipart(raw, req.headers['content-type'] ?? '')
      record.form = form && {
        fields: form.fields,
        files: form.files.map((f) => ({ field: f.field, filename: f.filename, size: f.data.length, contentType: f.contentType })),
      }
      const image = form?.files.find((f) => f.field === 'image')
      if (!form || !image || !image.filename) return sendEmpty(res, 400)
      const type = form.fields.type ?? 'input'
      if (type !== 'input') return sendEmpty(res, 400)
      const subfolder = form.fields.subfolder ?? ''
      const overwrite = form.fields.overwrite === 'true' || form.fields.overwrite === '1'
      let filename = image.filename
      let key = safeJoin(subfolder, filename)
      if (key === undefined) return sendEmpty(res, 400)
      if (!overwrite) {
        // ComfyUI keeps both: "name (1).png", unless the bytes are the same file.
        const dot = filename.lastIndexOf('.')
        const [stem, ext] = dot > 0 ? [filename.slice(0, dot), filename.slice(dot)] : [filename, '']
        for (let i = 1; inputs.has(key!); i++) {
          if (sha(inputs.get(key!)!) === sha(image.data)) break
          filename = `${stem} (${i})${ext}`
          key = safeJoin(subfolder, filename)
        }
      }
      inputs.set(key!, image.data)
      return sendJson(res, 200, { name: filename, subfolder, type })
    }

    if (method === 'GET' && path === '/view') {
      const filename = query.filename
      if (!filename) return sendEmpty(res, 404)
      if (filename.startsWith('/') || filename.includes('..')) return sendEmpty(res, 400)
      const type = query.type ?? 'output'
      const store = type === 'output' ? outputs : type === 'input' ? inputs : undefined
      if (!store) return sendEmpty(res, 400)
      const key = safeJoin(query.subfolder ?? '', posix.basename(filename))
      if (key === undefined) return sendEmpty(res, 403)
      const data = store.get(key)
      if (!data) return sendEmpty(res, 404)
      res.writeHead(200, {
        'Content-Type': 'image/png',
        'Content-Length': data.length,
        'Content-Disposition': `filename="${posix.basename(filename)}"`,
      })
      return void res.end(data)
    }

    if (method === 'GET' && path === '/history') {
      const max = query.max_items ? Number(query.max_items) : undefined
      const entries = [...executor.history().entries()]
      return sendJson(res, 200, Object.fromEntries(max === undefined ? entries : entries.slice(-max)))
    }
    const historyMatch = /^\/history\/([^/]+)$/.exec(path)
    if (method === 'GET' && historyMatch) {
      const id = decodeURIComponent(historyMatch[1])
      const entry = executor.history().get(id)
      return sendJson(res, 200, entry ? { [id]: entry } : {})
    }
    if (method === 'POST' && path === '/history') {
      const body = json() ?? {}
      if (body.clear) executor.history().clear()
      if (Array.isArray(body.delete)) for (const id of body.delete) executor.history().delete(String(id))
      return sendEmpty(res, 200)
    }

    if (method === 'GET' && path === '/queue') {
      const running = executor.running()
      return sendJson(res, 200, { queue_running: running ? [running] : [], queue_pending: executor.pending() })
    }
    if (method === 'POST' && path === '/queue') {
      const body = json() ?? {}
      if (body.clear) executor.wipeQueue()
      if (Array.isArray(body.delete)) for (const id of body.delete) executor.deleteQueued(String(id))
      return sendEmpty(res, 200)
    }
    if (method === 'POST' && path === '/interrupt') {
      const body = json() ?? {}
      const promptId = typeof body.prompt_id === 'string' && body.prompt_id ? body.prompt_id : undefined
      executor.interrupt(promptId)
      return sendEmpty(res, 200)
    }
    if (method === 'POST' && path === '/free') {
      json()
      return sendEmpty(res, 200)
    }
    if (method === 'GET' && path === '/system_stats') {
      return sendJson(res, 200, {
        system: {
          os: 'posix',
          ram_total: 64 * GIB,
          ram_free: 48 * GIB,
          comfyui_version: '0.3.64',
          required_frontend_version: '1.27.10',
          python_version: '3.12.3 (main) [GCC 13.2.0]',
          pytorch_version: '2.8.0+cu128',
          embedded_python: false,
          argv: ['main.py', '--listen', '127.0.0.1'],
        },
        devices: [
          {
            name: 'cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync',
            type: 'cuda',
            index: 0,
            vram_total: vram.total,
            vram_free: vram.free,
            torch_vram_total: vram.total,
            torch_vram_free: vram.free,
          },
        ],
      })
    }
    sendEmpty(res, 404)
  }

  let garbage: GarbageKind | null = null
  const server = http.createServer((req, res) => {
    if (garbage) return void answerGarbage(req, res, garbage)
    route(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(e) })
      else res.destroy()
    })
  })

  server.on('upgrade', (req, socket, head) => {
    if (closing) return void socket.destroy()
    upgraded.add(socket)
    socket.on('close', () => upgraded.delete(socket))
    const url = new URL(req.url ?? '/', 'http://fake')
    const path = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname
    requests.push({ method: 'GET', path, query: Object.fromEntries(url.searchParams) })
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const ws = acceptWebSocket(req, socket, head)
    if (!ws) return
    // A reconnecting client keeps its id; the old socket stops receiving (ComfyUI replaces it).
    const sid = url.searchParams.get('clientId') || randomUUID().replaceAll('-', '')
    sockets.set(sid, ws)
    let first = true
    ws.onText = (text) => {
      try {
        const message = JSON.parse(text) as { type?: string }
        if (first && message.type === 'feature_flags') {
          const data = { supports_preview_metadata: true, max_upload_size: 100 * 1024 * 1024 }
          deliver(sid, (socketFor) => socketFor.sendText(JSON.stringify({ type: 'feature_flags', data })))
        }
      } catch {
        // ComfyUI logs and ignores text that is not JSON.
      }
      first = false
    }
    ws.onClose = () => {
      if (sockets.get(sid) === ws) sockets.delete(sid)
    }
    hub.send('status', { status: queueInfo(), sid }, sid)
    if (executingClient === sid && lastNode !== null) hub.send('executing', { node: lastNode }, sid)
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sent,
    executor,
    inputs,
    outputs,
    configure(next) {
      const { httpLatencyMs: latency, vram: nextVram, ...rest } = next
      if (latency !== undefined) httpLatencyMs = latency
      if (nextVram) vram = nextVram
      Object.assign(timings, rest)
    },
    failNext: (failure = {}) => executor.failNext(failure),
    answerGarbage(kind) {
      garbage = kind
    },
    stallSockets(value) {
      stalled = value
    },
    dropSockets() {
      for (const ws of sockets.values()) ws.destroy()
      sockets.clear()
    },
    connectedClients: () => [...sockets.keys()],
    history: () => executor.history(),
    async close() {
      // Like a crash: the server is gone at once (no history written after
      // this point can be read), then the executor is left to wind down.
      closing = true
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of upgraded) socket.destroy()
      upgraded.clear()
      sockets.clear()
      server.closeAllConnections()
      executor.wipeQueue()
      executor.interrupt()
      await executor.idle()
      await closed
    },
  }
}
