// ComfyUI's prompt queue and executor (execution.py PromptQueue/PromptExecutor,
// main.py prompt_worker), one prompt at a time, with its message order:
//   execution_start → execution_cached → (executing → progress* → executed?)*
//   → execution_success | execution_error | execution_interrupted
//   → [history written] → executing {node: null}
// `execution_success` goes out BEFORE the history entry exists (the history
// is written by task_done after execute returns); `historyDelayMs` widens
// that window so clients that trust the socket alone are caught.
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { NODE_CLASSES, type ExecContext, type NodeEnv } from './nodes.ts'
import type { ApiPrompt } from './validation.ts'

/** ComfyUI's queue item: (number, prompt_id, prompt, extra_data, outputs_to_execute). */
export type QueueItem = [number, string, ApiPrompt, Record<string, unknown>, string[]]

export interface HistoryEntry {
  prompt: QueueItem
  outputs: Record<string, Record<string, unknown>>
  status: { status_str: 'success' | 'error'; completed: boolean; messages: Array<[string, Record<string, unknown>]> }
  meta: Record<string, Record<string, unknown>>
}

export interface ExecutorTimings {
  /** Time each executed node takes, ms. */
  nodeLatencyMs: number
  /** Time each sampler step takes, ms. */
  stepMs: number
  /** Gap between `execution_success` and the history entry (the race), ms. */
  historyDelayMs: number
  /** Extra time when the workflow's checkpoint differs from the loaded one, ms. */
  modelSwitchMs: number
  /** Chance (0..1) that a KSampler run fails with a CUDA out-of-memory error. */
  failureRate: number
  /** Send binary preview frames during sampling (ComfyUI does with --preview-method). */
  previews: boolean
}

export interface InjectedFailure {
  /** Node class that fails (default KSampler). */
  classType?: string
  exceptionType?: string
  message?: string
}

/** Where the executor's messages go (the WebSocket hub). sid null = every socket. */
export interface MessageHub {
  send(event: string, data: Record<string, unknown>, sid: string | null): void
  sendBinary(data: Buffer, sid: string | null): void
  statusChanged(): void
  /** The client the running prompt belongs to and its current node (resent on reconnect, as ComfyUI does). */
  executing(sid: string | null, node: string | null): void
}

export interface Files {
  readInput(path: string): Buffer
  saveOutput(prefix: string, png: Buffer): { filename: string; subfolder: string; type: 'output' }
}

class Interrupted extends Error {}

class ExecutionFailure extends Error {
  constructor(
    readonly exceptionType: string,
    message: string,
  ) {
    super(message)
  }
}

const MAXIMUM_HISTORY_SIZE = 10_000
const OOM_MESSAGE =
  'Allocation on device \nThis error means you ran out of memory on your GPU.\n\n' +
  'TIPS: If the workflow worked before you might have accidentally set the batch_size to a large number.'

export interface Executor {
  put(item: QueueItem): void
  running(): QueueItem | undefined
  pending(): QueueItem[]
  tasksRemaining(): number
  deleteQueued(promptId: string): boolean
  wipeQueue(): void
  /** Targeted when promptId is given (only if it is the running prompt), global otherwise; true if it interrupted. */
  interrupt(promptId?: string): boolean
  history(): Map<string, HistoryEntry>
  failNext(failure: InjectedFailure): void
  readonly stats: { executed: number; interrupts: number; modelLoads: number; failures: number }
  idle(): Promise<void>
}

export function createExecutor(
  env: NodeEnv,
  files: Files,
  hub: MessageHub,
  timings: () => ExecutorTimings,
  seed: number,
): Executor {
  const queue: QueueItem[] = []
  const history = new Map<string, HistoryEntry>()
  const failures: InjectedFailure[] = []
  const stats = { executed: 0, interrupts: 0, modelLoads: 0, failures: 0 }
  let cache = new Map<string, { result: unknown[]; ui?: Record<string, unknown> }>()
  let current: { item: QueueItem; interrupted: boolean } | undefined
  let loadedCheckpoint: string | undefined
  let pumping: Promise<void> | undefined
  let random = seed >>> 0 || 1
  const nextRandom = () => {
    random ^= random << 13
    random ^= random >>> 17
    random ^= random << 5
    return (random >>> 0) / 2 ** 32
  }

  function order(prompt: ApiPrompt, outputs: string[]): string[] {
    const seen = new Set<string>()
    const list: string[] = []
    const visit = (id: string) => {
      if (seen.has(id)) return
      seen.add(id)
      for (const value of Object.values(prompt[id].inputs ?? {})) if (Array.isArray(value)) visit(String(value[0]))
      list.push(id)
    }
    for (const id of outputs) visit(id)
    return list
  }

  /** A node's cache key: class, literal inputs, upstream keys, and the input file's hash for loaders (IS_CHANGED). */
  function signatures(prompt: ApiPrompt, ids: string[]): Map<string, string> {
    const keys = new Map<string, string>()
    for (const id of ids) {
      const node = prompt[id]
      const inputs = Object.entries(node.inputs ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, Array.isArray(v) ? [keys.get(String(v[0])), v[1]] : v])
      let changed = ''
      if (node.class_type === 'LoadImage' || node.class_type === 'LoadImageMask') {
        try {
          changed = createHash('sha256')
            .update(files.readInput(String(node.inputs?.image)))
            .digest('hex')
        } catch {
          changed = 'missing'
        }
      }
      keys.set(
        id,
        createHash('sha256')
          .update(JSON.stringify([node.class_type, inputs, changed]))
          .digest('hex'),
      )
    }
    return keys
  }

  async function run(item: QueueItem): Promise<void> {
    const [, promptId, prompt, extra, outputs] = item
    const sid = typeof extra.client_id === 'string' ? extra.client_id : null
    const messages: Array<[string, Record<string, unknown>]> = []
    const add = (event: string, data: Record<string, unknown>, broadcast: boolean) => {
      const stamped = { ...data, timestamp: Date.now() }
      messages.push([event, stamped])
      if (sid !== null || broadcast) hub.send(event, stamped, sid)
    }
    add('execution_start', { prompt_id: promptId }, false)
    const ids = order(prompt, outputs)
    const keys = signatures(prompt, ids)
    const cached = ids.filter((id) => cache.has(keys.get(id)!))
    add('execution_cached', { nodes: cached, prompt_id: promptId }, false)

    const values = new Map<string, unknown[]>()
    const ui: Record<string, Record<string, unknown>> = {}
    const meta: Record<string, Record<string, unknown>> = {}
    const nextCache = new Map<string, { result: unknown[]; ui?: Record<string, unknown> }>()
    const executed: string[] = []
    let success = true
    let failedNode: string | undefined
    let failedInputs: Record<string, unknown> = {}

    const checkInterrupt = () => {
      if (current?.interrupted) throw new Interrupted('Processing interrupted')
    }
    const recordUi = (id: string, output: Record<string, unknown>) => {
      ui[id] = output
      meta[id] = { node_id: id, display_node: id, parent_node: null, real_node_id: id }
      if (sid !== null) hub.send('executed', { node: id, display_node: id, output, prompt_id: promptId }, sid)
    }

    try {
      for (const id of ids) {
        const key = keys.get(id)!
        const hit = cache.get(key)
        if (hit) {
          values.set(id, hit.result)
          nextCache.set(key, hit)
          if (hit.ui) recordUi(id, hit.ui)
          continue
        }
        const node = prompt[id]
        const cls = NODE_CLASSES[node.class_type!]
        failedNode = id
        if (sid !== null) {
          hub.executing(sid, id)
          hub.send('executing', { node: id, display_node: id, prompt_id: promptId }, sid)
        }
        const inputs: Record<string, unknown> = {}
        for (const [name, value] of Object.entries(node.inputs ?? {})) {
          inputs[name] = Array.isArray(value) ? values.get(String(value[0]))![Number(value[1])] : value
        }
        failedInputs = Object.fromEntries(
          Object.entries(node.inputs ?? {}).map(([k, v]) => [k, Array.isArray(v) ? ['<linked>'] : [v]]),
        )
        await sleep(timings().nodeLatencyMs)
        checkInterrupt()
        const injected = failures.findIndex((f) => (f.classType ?? 'KSampler') === node.class_type)
        if (injected >= 0) {
          const [failure] = failures.splice(injected, 1)
          throw new ExecutionFailure(failure.exceptionType ?? 'torch.OutOfMemoryError', failure.message ?? OOM_MESSAGE)
        }
        if (node.class_type === 'KSampler' && nextRandom() < timings().failureRate) {
          throw new ExecutionFailure('torch.OutOfMemoryError', OOM_MESSAGE)
        }
        const ctx: ExecContext = {
          env,
          promptId,
          nodeId: id,
          readInput: files.readInput,
          saveOutput: files.saveOutput,
          step: async (value, max) => {
            await sleep(timings().stepMs)
            checkInterrupt()
            const progress = { value, max, prompt_id: promptId, node: id }
            hub.send('progress', progress, sid)
            hub.send(
              'progress_state',
              {
                prompt_id: promptId,
                nodes: {
                  [id]: {
                    value,
                    max,
                    state: 'running',
                    node_id: id,
                    prompt_id: promptId,
                    display_node_id: id,
                    parent_node_id: null,
                    real_node_id: id,
                  },
                },
              },
              sid,
            )
            if (timings().previews) {
              // BinaryEventTypes.PREVIEW_IMAGE (1), then the image type (2 = PNG) and the image bytes.
              const frame = Buffer.alloc(8 + 8)
              frame.writeUInt32BE(1, 0)
              frame.writeUInt32BE(2, 4)
              frame.write('\x89PNG\r\n\x1a\n', 8, 'latin1')
              hub.sendBinary(frame, sid)
            }
          },
          loadCheckpoint: async (name) => {
            if (loadedCheckpoint === name) return
            stats.modelLoads++
            await sleep(timings().modelSwitchMs)
            loadedCheckpoint = name
          },
        }
        const out = await cls.execute(inputs, ctx)
        values.set(id, out.result)
        nextCache.set(key, out)
        if (out.ui) recordUi(id, out.ui)
        executed.push(id)
      }
      add('execution_success', { prompt_id: promptId }, false)
      stats.executed++
    } catch (e) {
      success = false
      const nodeId = failedNode ?? ids[0]
      const nodeType = prompt[nodeId]?.class_type ?? 'unknown'
      if (e instanceof Interrupted) {
        stats.interrupts++
        add('execution_interrupted', { prompt_id: promptId, node_id: nodeId, node_type: nodeType, executed }, true)
      } else {
        stats.failures++
        const exceptionType = e instanceof ExecutionFailure ? e.exceptionType : (e as Error).name
        add(
          'execution_error',
          {
            prompt_id: promptId,
            node_id: nodeId,
            node_type: nodeType,
            executed,
            exception_message: (e as Error).message,
            exception_type: exceptionType,
            traceback: [`  File "execution.py", line 496, in execute\n`, `${exceptionType}: ${(e as Error).message}\n`],
            current_inputs: failedInputs,
            current_outputs: [...values.keys()],
          },
          false,
        )
      }
    }
    cache = nextCache
    hub.executing(sid, null)
    await sleep(timings().historyDelayMs)
    if (history.size > MAXIMUM_HISTORY_SIZE) history.delete(history.keys().next().value!)
    history.set(promptId, {
      prompt: item,
      outputs: ui,
      status: { status_str: success ? 'success' : 'error', completed: success, messages },
      meta,
    })
    current = undefined
    hub.statusChanged()
    if (sid !== null) hub.send('executing', { node: null, prompt_id: promptId }, sid)
  }

  async function pump(): Promise<void> {
    while (queue.length > 0) {
      queue.sort((a, b) => a[0] - b[0])
      const item = queue.shift()!
      current = { item, interrupted: false }
      hub.statusChanged()
      await run(item)
    }
  }

  function kick(): void {
    pumping ??= pump().finally(() => {
      pumping = undefined
      if (queue.length > 0) kick()
    })
  }

  return {
    put(item) {
      queue.push(item)
      hub.statusChanged()
      kick()
    },
    running: () => current?.item,
    pending: () => [...queue].sort((a, b) => a[0] - b[0]),
    tasksRemaining: () => queue.length + (current ? 1 : 0),
    deleteQueued(promptId) {
      const index = queue.findIndex((item) => item[1] === promptId)
      if (index < 0) return false
      queue.splice(index, 1)
      hub.statusChanged()
      return true
    },
    wipeQueue() {
      queue.length = 0
      hub.statusChanged()
    },
    interrupt(promptId) {
      if (!current) return false
      if (promptId !== undefined && current.item[1] !== promptId) return false
      current.interrupted = true
      return true
    },
    history: () => history,
    failNext(failure) {
      failures.push(failure)
    },
    stats,
    idle: async () => {
      while (pumping) await pumping
    },
  }
}
