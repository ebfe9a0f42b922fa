// WeShop's OpenAPI for tests: real HTTP (node:http) on 127.0.0.1:0 with the
// routes, envelopes and run states of WeShop's reference (weshopai/skills,
// skills/weshop-openapi-skill) and the shapes its CLI reads (weshopai/weshop-cli).
//   POST /openapi/agent/assets/images   multipart `image` → {success, data: {image: url}, meta}
//   POST /openapi/agent/runs            {agent: {name, version}, input, params, callbackUrl?}
//                                       → {success, data: {executionId, taskId}, meta: {executionId}}
//   GET  /openapi/agent/runs/{id}       → {success, data: {agentName, agentVersion, initParams, executions: [...]}, meta}
//   GET  /openapi/v1/agent/info         ?agentName&agentVersion → {success, data: {locations, fashionModels, ...}}
//   GET  /cdn/{assets|results}/{name}   the files those URLs name (no key: it stands in for WeShop's CDN)
// Errors are {success: false, error: {code, message, retryable}}; the codes are the fake's own (the reference lists none).
import { createHash, randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import sharp from 'sharp'
import { decodeMaskAlpha, decodeRgb, jpeg, keepAndRepaint, rng, seedOf, segment, shifted, tryOn, tryonSize } from './images.ts'
import { validateRun, type FakeAgent, type PresetLists, type ValidRun } from './validation.ts'
import { answerGarbage, type GarbageKind } from '../garbage.ts'

export const FAKE_WESHOP_KEY = 'wsk-test-0123456789abcdef'

export interface RunTimings {
  /** How long a new run stays Pending, ms. */
  pendingMs: number
  /** Then Segmenting (agents that segment: aimodel, aiproduct), ms. */
  segmentingMs: number
  /** Then Running, ms; then Success or Failed. */
  runningMs: number
  /**
   * When set, a run moves on by polls instead of by time: each state lasts
   * this many polls. why: tests that assert every state are then immune to a
   * slow machine; timing tests leave it unset.
   */
  pollsPerState?: number
}

export interface FailureMix {
  /** 503 envelope with retryable: true when a run is started. */
  retryable: number
  /** 400 envelope with retryable: false (content review) when a run is started. */
  nonRetryable: number
  /** Accepted, then ends Failed. */
  runFailed: number
}

export interface WeshopFakeOptions {
  /** Keys the fake accepts (default [FAKE_WESHOP_KEY]). */
  apiKeys?: string[]
  /** Delay before every answer, ms. */
  latencyMs?: number
  timings?: Partial<RunTimings>
  /** Share of run starts that fail (seeded), 0–1. */
  failureRate?: number
  failureMix?: Partial<FailureMix>
  /** Seed of the fake's own randomness (failures). */
  seed?: number
  /** At most `limit` API requests per key per `windowMs`; beyond, 429 with Retry-After (whole seconds). */
  rateLimit?: { limit: number; windowMs: number }
  /** Long edge of virtualtryon results, px. */
  tryonEdge?: number
  /** Largest upload accepted, bytes. */
  maxUploadBytes?: number
}

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  /** The Authorization header as it arrived. */
  authorization?: string
  json?: unknown
  form?: { fields: Record<string, string>; files: Array<{ field: string; filename: string; contentType: string; size: number }> }
  status?: number
  /** ms since the fake started. */
  at: number
}

export interface FakeRun {
  executionId: string
  taskId: string
  key: string
  agent: FakeAgent
  input: ValidRun['input']
  params: Record<string, unknown>
  batchCount: number
  createdAt: number
  timings: RunTimings
  outcome: 'Success' | 'Failed'
  /** Result URLs, once made. */
  images?: string[]
  /** Times it was polled. */
  polls: number
  statesSeen: string[]
}

export type InjectedFailure = {
  /** Which route answers with it next (default 'runs'). */
  route?: 'runs' | 'upload' | 'poll' | 'info'
  status: number
  code: string
  message?: string
  retryable: boolean
  /** Retry-After header value, as sent. */
  retryAfter?: string
}

export interface WeshopFake {
  /** Base URL, e.g. http://127.0.0.1:53123 (paths start with /openapi). */
  readonly url: string
  readonly requests: RecordedRequest[]
  readonly assets: Map<string, { data: Buffer; contentType: string }>
  readonly runs: Map<string, FakeRun>
  readonly presets: Record<string, { locations?: Preset[]; fashionModels?: Preset[]; backgrounds?: Preset[] }>
  /** Changes behaviour while running; `rateLimit: undefined` turns the limit off. Runs keep the timings they started with. */
  configure(options: Omit<WeshopFakeOptions, 'apiKeys' | 'seed'>): void
  /** The next request to that route answers with this envelope. */
  failNext(failure: InjectedFailure): void
  /** The next run started ends Failed. */
  failNextRun(): void
  /** The next `count` API requests answer 429 with this Retry-After (e.g. '1', '0.2'). */
  limitNext(count: number, retryAfter: string): void
  /** While set, every HTTP request is answered 200 with a body that is not this API's (null: the API again). */
  answerGarbage(kind: GarbageKind | null): void
  close(): Promise<void>
}

export interface Preset {
  id: number
  name: string
  categories: string[]
  type: string
}

const DEFAULT_TIMINGS: RunTimings = { pendingMs: 40, segmentingMs: 40, runningMs: 80 }

function presets(base: number, type: string, names: Array<[string, string]>): Preset[] {
  return names.map(([name, category], i) => ({ id: base + i, name, categories: [category], type }))
}

const PRESETS: WeshopFake['presets'] = {
  aimodel: {
    locations: presets(10001, 'location', [
      ['White Studio', 'Studio'],
      ['Grey Seamless', 'Studio'],
      ['City Street', 'Outdoor'],
      ['Beach', 'Outdoor'],
      ['Cafe', 'Indoor'],
    ]),
    fashionModels: presets(20001, 'fashionModel', [
      ['Ava', 'Female'],
      ['Mia', 'Female'],
      ['Leo', 'Male'],
      ['Kai', 'Male'],
    ]),
  },
  aiproduct: {
    locations: presets(30001, 'location', [
      ['Marble Table', 'Indoor'],
      ['Linen Backdrop', 'Studio'],
      ['Garden', 'Outdoor'],
    ]),
  },
  virtualtryon: {},
  aipose: {},
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): number {
  const payload = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), ...headers })
  res.end(payload)
  return status
}

function fail(
  res: http.ServerResponse,
  status: number,
  code: string,
  message: string,
  retryable: boolean,
  headers?: Record<string, string>,
) {
  return sendJson(res, status, { success: false, error: { code, message, retryable } }, headers)
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) return undefined
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

interface Multipart {
  fields: Record<string, string>
  files: Array<{ field: string; filename: string; contentType: string; data: Buffer }>
}

/** multipart/form-data (RFC 7578), as undici's FormData sends it. */
function parseMultipart(body: Buffer, contentType: string): Multipart | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  if (!m) return undefined
  const delimiter = Buffer.from(`--${m[1] ?? m[2]}`)
  const out: Multipart = { fields: {}, files: [] }
  let at = body.indexOf(delimiter)
  while (at >= 0) {
    const next = body.indexOf(delimiter, at + delimiter.length)
    if (next < 0) break
    const part = body.subarray(at + delimiter.length + 2, next - 2)
    const split = part.indexOf('\r\n\r\n')
    if (split >= 0) {
      const head = part.subarray(0, split).toString('utf8')
      const data = Buffer.from(part.subarray(split + 4))
      const name = /\bname="([^"]*)"/i.exec(head)?.[1] ?? ''
      const filename = /\bfilename="([^"]*)"/i.exec(head)?.[1]
      const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim() ?? 'application/octet-stream'
      if (filename !== undefined) out.files.push({ field: name, filename, contentType: type, data })
      else out.fields[name] = data.toString('utf8')
    }
    at = next
  }
  return out
}

/** 'YYYY-MM-DD HH:mm:ss' as the reference's executionTime shows it. */
function executionTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
}

export async function startWeshopFake(options: WeshopFakeOptions = {}): Promise<WeshopFake> {
  const keys = new Set(options.apiKeys ?? [FAKE_WESHOP_KEY])
  let latencyMs = options.latencyMs ?? 0
  let timings: RunTimings = { ...DEFAULT_TIMINGS, ...options.timings }
  let failureRate = options.failureRate ?? 0
  let failureMix: FailureMix = { retryable: 1, nonRetryable: 1, runFailed: 1, ...options.failureMix }
  let rateLimit = options.rateLimit
  let tryonEdge = options.tryonEdge ?? 1024
  let maxUploadBytes = options.maxUploadBytes ?? 20 * 1024 * 1024
  const random = rng(options.seed ?? 1)
  const started = Date.now()
  const requests: RecordedRequest[] = []
  const assets = new Map<string, { data: Buffer; contentType: string }>()
  const runs = new Map<string, FakeRun>()
  const pending = new Map<string, Promise<void>>()
  const injected: InjectedFailure[] = []
  const forced: { count: number; retryAfter: string } = { count: 0, retryAfter: '1' }
  const windowByKey = new Map<string, number[]>()
  let failNextRun = false
  let url = ''

  const presetLists: Record<string, PresetLists> = Object.fromEntries(
    Object.entries(PRESETS).map(([agent, p]) => [
      agent,
      {
        locations: new Set((p.locations ?? []).map((x) => x.id)),
        fashionModels: new Set((p.fashionModels ?? []).map((x) => x.id)),
      },
    ]),
  )

  function assetUrl(kind: 'assets' | 'results', name: string): string {
    return `${url}/cdn/${kind}/${name}`
  }

  /** The bytes behind one of our own CDN URLs (the fake can't fetch the internet). */
  function ownFile(target: unknown): Buffer | undefined {
    if (typeof target !== 'string' || !target.startsWith(`${url}/cdn/`)) return undefined
    return assets.get(target.slice(`${url}/cdn/`.length))?.data
  }

  function takeInjected(route: NonNullable<InjectedFailure['route']>): InjectedFailure | undefined {
    const i = injected.findIndex((f) => (f.route ?? 'runs') === route)
    return i >= 0 ? injected.splice(i, 1)[0] : undefined
  }

  /** Sliding window per key; the wait until the oldest request leaves it, in whole seconds. */
  function rateLimited(key: string): string | undefined {
    if (forced.count > 0) {
      forced.count--
      return forced.retryAfter
    }
    if (!rateLimit) return undefined
    const now = Date.now()
    const recent = (windowByKey.get(key) ?? []).filter((t) => now - t < rateLimit!.windowMs)
    if (recent.length >= rateLimit.limit) {
      windowByKey.set(key, recent)
      const freed = recent.length > 0 ? recent[0] + rateLimit.windowMs : now + rateLimit.windowMs
      return String(Math.max(1, Math.ceil((freed - now) / 1000)))
    }
    recent.push(now)
    windowByKey.set(key, recent)
    return undefined
  }

  function stateOf(run: FakeRun): string {
    const t = Date.now() - run.createdAt
    const { pendingMs, segmentingMs, runningMs, pollsPerState } = run.timings
    const segments = run.agent === 'aimodel' || run.agent === 'aiproduct'
    if (pollsPerState) {
      const states = segments ? ['Pending', 'Segmenting', 'Running'] : ['Pending', 'Running']
      const i = Math.floor(Math.max(0, run.polls - 1) / pollsPerState)
      if (i < states.length) return states[i]
      return run.outcome === 'Success' && !run.images ? 'Running' : run.outcome
    }
    if (t < pendingMs) return 'Pending'
    if (segments && t < pendingMs + segmentingMs) return 'Segmenting'
    const end = pendingMs + (segments ? segmentingMs : 0) + runningMs
    // why: a slow sharp still counts as running; results are never half there.
    if (t < end || (run.outcome === 'Success' && !run.images)) return 'Running'
    return run.outcome
  }

  async function generate(run: FakeRun): Promise<void> {
    const original = ownFile(run.input.originalImage)!
    const source = await decodeRgb(original)
    const paramsKey = JSON.stringify({ agent: run.agent, params: run.params, input: run.input })
    const images: string[] = []
    for (let i = 0; i < run.batchCount; i++) {
      const seed = seedOf(paramsKey, original, String(i))
      let out: { data: Buffer; width: number; height: number }
      if (run.agent === 'virtualtryon') {
        const size = tryonSize(run.params.aspectRatio as string | undefined, source, tryonEdge)
        out = { data: await tryOn(original, size, seed), ...size }
      } else if (run.agent === 'aipose') {
        out = { data: shifted(source, seed), width: source.width, height: source.height }
      } else {
        let keep: Buffer
        if (run.params.maskType === 'custom') {
          const mask = ownFile(run.params.customMaskUrl) ?? Buffer.from(String(run.params.customMask ?? ''), 'base64')
          keep = (await decodeMaskAlpha(mask)).data
        } else keep = segment(source)
        out = { data: keepAndRepaint(source, keep, seed), width: source.width, height: source.height }
      }
      const name = `${run.executionId}-${i}.jpg`
      assets.set(`results/${name}`, { data: await jpeg(out.data, out.width, out.height), contentType: 'image/jpeg' })
      images.push(assetUrl('results', name))
    }
    run.images = images
  }

  function runView(run: FakeRun) {
    const status = stateOf(run)
    if (run.statesSeen.at(-1) !== status) run.statesSeen.push(status)
    const result =
      status === 'Success'
        ? (run.images ?? []).map((image) => ({ status: 'Success', image }))
        : status === 'Failed'
          ? Array.from({ length: run.batchCount }, () => ({ status: 'Failed' }))
          : []
    return {
      agentName: run.agent,
      agentVersion: 'v1.0',
      initParams: run.input,
      executions: [
        { executionId: run.executionId, status, executionTime: executionTime(run.createdAt), params: run.params, result },
      ],
    }
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse, record: RecordedRequest): Promise<number> {
    const { method, path } = record
    if (method === 'GET' && path.startsWith('/cdn/')) {
      const file = assets.get(decodeURIComponent(path.slice('/cdn/'.length)))
      if (!file) return fail(res, 404, 'NOT_FOUND', 'no such file', false)
      res.writeHead(200, { 'Content-Type': file.contentType, 'Content-Length': file.data.length })
      res.end(file.data)
      return 200
    }
    if (!path.startsWith('/openapi/')) return fail(res, 404, 'NOT_FOUND', `no route ${method} ${path}`, false)

    // why exact match: the reference says the raw key, no "Bearer " prefix.
    const key = record.authorization
    if (!key || !keys.has(key)) return fail(res, 401, 'INVALID_API_KEY', 'The API key is missing or invalid', false)
    const limited = rateLimited(key)
    if (limited !== undefined) {
      return fail(res, 429, 'RATE_LIMITED', 'Too many requests, please slow down', true, { 'Retry-After': limited })
    }

    if (method === 'POST' && path === '/openapi/agent/assets/images') {
      const body = await readBody(req, maxUploadBytes + 64 * 1024)
      if (!body) return fail(res, 413, 'FILE_TOO_LARGE', `the image is larger than ${maxUploadBytes} bytes`, false)
      const injectedFailure = takeInjected('upload')
      if (injectedFailure) return answerInjected(res, injectedFailure)
      const form = parseMultipart(body, req.headers['content-type'] ?? '')
      if (form)
        record.form = {
          fields: form.fields,
          files: form.files.map((f) => ({
            field: f.field,
            filename: f.filename,
            contentType: f.contentType,
            size: f.data.length,
          })),
        }
      const file = form?.files.find((f) => f.field === 'image')
      if (!file) return fail(res, 400, 'INVALID_PARAMS', 'multipart field "image" is required', false)
      const meta = await sharp(file.data)
        .metadata()
        .catch(() => undefined)
      if (!meta?.format || !['jpeg', 'png', 'webp'].includes(meta.format)) {
        return fail(res, 400, 'INVALID_IMAGE', 'the file is not a JPEG, PNG or WebP image', false)
      }
      // why by content: the same bytes get the same URL, like a content-addressed CDN.
      const name = `${createHash('sha256').update(file.data).digest('hex').slice(0, 24)}.${meta.format === 'jpeg' ? 'jpg' : meta.format}`
      assets.set(`assets/${name}`, { data: file.data, contentType: `image/${meta.format}` })
      return sendJson(res, 200, { success: true, data: { image: assetUrl('assets', name) }, meta: {} })
    }

    if (method === 'POST' && path === '/openapi/agent/runs') {
      const body = await readBody(req, 1024 * 1024)
      let json: unknown
      try {
        json = JSON.parse(body?.toString('utf8') ?? '')
        record.json = json
      } catch {
        return fail(res, 400, 'INVALID_PARAMS', 'request body must be JSON', false)
      }
      const injectedFailure = takeInjected('runs')
      if (injectedFailure) return answerInjected(res, injectedFailure)
      const checked = validateRun(json, presetLists)
      if (!checked.ok) return fail(res, checked.status, checked.code, checked.message, false)
      const run = checked.run
      const original = ownFile(run.input.originalImage)
      if (!original) return fail(res, 400, 'IMAGE_DOWNLOAD_FAILED', 'input.originalImage could not be downloaded', false)
      if (run.params.maskType === 'custom') {
        const mask =
          ownFile(run.params.customMaskUrl) ??
          (run.params.customMask ? Buffer.from(String(run.params.customMask), 'base64') : undefined)
        if (!mask) return fail(res, 400, 'IMAGE_DOWNLOAD_FAILED', 'params.customMaskUrl could not be downloaded', false)
        const [m, o] = await Promise.all([
          sharp(mask)
            .metadata()
            .catch(() => undefined),
          sharp(original).metadata(),
        ])
        if (m?.format !== 'png') return fail(res, 400, 'INVALID_PARAMS', 'the custom mask must be a PNG', false)
        if (m.width !== o.width || m.height !== o.height) {
          return fail(
            res,
            400,
            'INVALID_PARAMS',
            `the custom mask is ${m.width}x${m.height}, the original ${o.width}x${o.height}`,
            false,
          )
        }
      }
      let outcome: FakeRun['outcome'] = 'Success'
      if (failNextRun) {
        failNextRun = false
        outcome = 'Failed'
      } else if (failureRate > 0 && random() < failureRate) {
        const total = failureMix.retryable + failureMix.nonRetryable + failureMix.runFailed
        const pick = random() * total
        if (pick < failureMix.retryable) {
          return fail(res, 503, 'SERVICE_BUSY', 'The generation service is busy, please retry later', true)
        }
        if (pick < failureMix.retryable + failureMix.nonRetryable) {
          return fail(res, 400, 'CONTENT_REJECTED', 'The image did not pass content review', false)
        }
        outcome = 'Failed'
      }
      const executionId = randomUUID().replace(/-/g, '')
      const fakeRun: FakeRun = {
        executionId,
        taskId: randomUUID().replace(/-/g, ''),
        key,
        agent: run.agent,
        input: run.input,
        params: run.params,
        batchCount: run.batchCount,
        createdAt: Date.now(),
        timings: { ...timings },
        outcome,
        polls: 0,
        statesSeen: [],
      }
      runs.set(executionId, fakeRun)
      if (outcome === 'Success') {
        const work = generate(fakeRun)
          .catch((e: unknown) => {
            fakeRun.outcome = 'Failed'
            fakeRun.images = []
            throw e
          })
          .finally(() => pending.delete(executionId))
        work.catch(() => undefined)
        pending.set(executionId, work)
      }
      return sendJson(res, 200, { success: true, data: { executionId, taskId: fakeRun.taskId }, meta: { executionId } })
    }

    const runMatch = /^\/openapi\/agent\/runs\/([^/]+)$/.exec(path)
    if (method === 'GET' && runMatch) {
      const injectedFailure = takeInjected('poll')
      if (injectedFailure) return answerInjected(res, injectedFailure)
      const run = runs.get(decodeURIComponent(runMatch[1]))
      // why by key: one account never sees another's runs.
      if (!run || run.key !== key) return fail(res, 404, 'EXECUTION_NOT_FOUND', 'no run with that executionId', false)
      run.polls++
      return sendJson(res, 200, { success: true, data: runView(run), meta: { executionId: run.executionId } })
    }

    if (method === 'GET' && path === '/openapi/v1/agent/info') {
      const injectedFailure = takeInjected('info')
      if (injectedFailure) return answerInjected(res, injectedFailure)
      const name = record.query.agentName
      const version = record.query.agentVersion ?? 'v1.0'
      if (!name) return fail(res, 400, 'INVALID_PARAMS', 'agentName is required', false)
      const data = PRESETS[name]
      if (!data || version !== 'v1.0')
        return fail(res, 404, 'AGENT_NOT_FOUND', `agent ${name} ${version} is not available`, false)
      return sendJson(res, 200, { success: true, data, meta: {} })
    }
    return fail(res, 404, 'NOT_FOUND', `no route ${method} ${path}`, false)
  }

  function answerInjected(res: http.ServerResponse, f: InjectedFailure): number {
    return fail(res, f.status, f.code, f.message ?? f.code, f.retryable, f.retryAfter ? { 'Retry-After': f.retryAfter } : {})
  }

  let garbage: GarbageKind | null = null
  const server = http.createServer((req, res) => {
    const parsed = new URL(req.url ?? '/', 'http://fake')
    const auth = req.headers.authorization
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      ...(auth !== undefined ? { authorization: auth } : {}),
      at: Date.now() - started,
    }
    requests.push(record)
    void (async () => {
      if (latencyMs > 0) await sleep(latencyMs)
      record.status = garbage ? answerGarbage(req, res, garbage) : await route(req, res, record)
    })().catch((e: unknown) => {
      if (!res.headersSent) record.status = fail(res, 500, 'INTERNAL_ERROR', (e as Error).message, true)
      else res.destroy()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url,
    requests,
    assets,
    runs,
    presets: PRESETS,
    configure(next) {
      if (next.latencyMs !== undefined) latencyMs = next.latencyMs
      if (next.timings) timings = { ...timings, ...next.timings }
      if (next.failureRate !== undefined) failureRate = next.failureRate
      if (next.failureMix) failureMix = { ...failureMix, ...next.failureMix }
      if ('rateLimit' in next) rateLimit = next.rateLimit
      if (next.tryonEdge !== undefined) tryonEdge = next.tryonEdge
      if (next.maxUploadBytes !== undefined) maxUploadBytes = next.maxUploadBytes
    },
    failNext(failure) {
      injected.push(failure)
    },
    failNextRun() {
      failNextRun = true
    },
    answerGarbage(kind) {
      garbage = kind
    },
    limitNext(count, retryAfter) {
      forced.count = count
      forced.retryAfter = retryAfter
    },
    async close() {
      await Promise.allSettled(pending.values())
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
