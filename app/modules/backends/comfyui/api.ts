import { z } from 'zod'

// ComfyUI's wire shapes, as its server.py and execution.py produce them
// (checked against Comfy-Org/ComfyUI, Oct 2025, and the newer
// `missing_node_type` answer). Everything that crosses the wire is parsed
// with these; unknown extra fields are ignored.

/** A literal, or a link [sourceNodeId, outputIndex]. */
export const inputValueSchema = z.union([
  z.tuple([z.string(), z.number().int().min(0)]),
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
])
export type InputValue = z.infer<typeof inputValueSchema>

/** One node of a workflow in "API format". */
export const apiNodeSchema = z.object({
  class_type: z.string().min(1),
  inputs: z.record(z.string(), inputValueSchema),
  _meta: z.object({ title: z.string() }).optional(),
})
export type ApiNode = z.infer<typeof apiNodeSchema>
/** `{ "<nodeId>": { class_type, inputs } }`, what POST /prompt takes. */
export type ApiWorkflow = Record<string, ApiNode>

/** One validation reason (execution.py validate_inputs). */
export const validationErrorSchema = z.object({
  type: z.string(),
  message: z.string(),
  details: z.string().default(''),
  extra_info: z.record(z.string(), z.unknown()).default({}),
})
export type ValidationError = z.infer<typeof validationErrorSchema>

export const nodeErrorsSchema = z.record(
  z.string(),
  z.object({
    errors: z.array(validationErrorSchema),
    dependent_outputs: z.array(z.string()).default([]),
    class_type: z.string(),
  }),
)
export type NodeErrors = z.infer<typeof nodeErrorsSchema>

/** POST /prompt → 200. */
export const promptAcceptedSchema = z.object({
  prompt_id: z.string(),
  number: z.number(),
  node_errors: z.union([nodeErrorsSchema, z.array(z.unknown())]).default({}),
})

/** POST /prompt → 400. Very old servers sent `error` as a bare string. */
export const promptRejectedSchema = z.object({
  error: z.union([validationErrorSchema, z.string()]),
  node_errors: z.union([nodeErrorsSchema, z.array(z.unknown())]).default({}),
})
export type PromptRejected = z.infer<typeof promptRejectedSchema>

/** POST /upload/image → 200. `name` may differ from what was sent ("x (1).png" on a clash). */
export const uploadedSchema = z.object({ name: z.string().min(1), subfolder: z.string(), type: z.string() })
export type Uploaded = z.infer<typeof uploadedSchema>

/** An image a node saved, for GET /view. */
export const outputImageSchema = z.object({
  filename: z.string().min(1),
  subfolder: z.string().default(''),
  type: z.string().default('output'),
})
export type OutputImage = z.infer<typeof outputImageSchema>

/** A status message kept in history: [event, data] (a Python tuple). */
const statusMessageSchema = z.tuple([z.string(), z.record(z.string(), z.unknown())])

export const historyEntrySchema = z.object({
  outputs: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  status: z
    .object({
      status_str: z.string(),
      completed: z.boolean(),
      messages: z.array(statusMessageSchema).default([]),
    })
    .nullable()
    .optional(),
})
export type HistoryEntry = z.infer<typeof historyEntrySchema>
/** GET /history/{id}: `{}` until the prompt finished, then `{ [id]: entry }`. */
export const historyResponseSchema = z.record(z.string(), historyEntrySchema)

/** GET /queue: items are (number, prompt_id, prompt, extra_data, outputs_to_execute). */
export const queueSchema = z.object({
  queue_running: z.array(z.array(z.unknown())),
  queue_pending: z.array(z.array(z.unknown())),
})

export const systemStatsSchema = z.object({
  system: z.object({ comfyui_version: z.string().optional(), pytorch_version: z.string().optional() }).default({}),
  devices: z.array(
    z.object({
      name: z.string(),
      type: z.string(),
      vram_total: z.number(),
      vram_free: z.number(),
    }),
  ),
})
export type SystemStats = z.infer<typeof systemStatsSchema>

// ---------------------------------------------------------------- WebSocket

export const socketMessageSchema = z.object({ type: z.string(), data: z.record(z.string(), z.unknown()).default({}) })

const promptScoped = { prompt_id: z.string() }
export const socketEvents = {
  execution_start: z.object(promptScoped),
  execution_cached: z.object({ ...promptScoped, nodes: z.array(z.string()).default([]) }),
  /** node null: the prompt is done and its history is written. */
  executing: z.object({ ...promptScoped, node: z.string().nullable() }),
  progress: z.object({ ...promptScoped, value: z.number(), max: z.number(), node: z.string().nullable().optional() }),
  executed: z.object({ ...promptScoped, node: z.string(), output: z.record(z.string(), z.unknown()).nullable().optional() }),
  execution_success: z.object(promptScoped),
  execution_error: z.object({
    ...promptScoped,
    node_id: z.string().optional(),
    node_type: z.string().optional(),
    exception_message: z.string().default(''),
    exception_type: z.string().default(''),
  }),
  execution_interrupted: z.object({ ...promptScoped, node_id: z.string().optional(), node_type: z.string().optional() }),
} as const
export type ExecutionError = z.infer<(typeof socketEvents)['execution_error']>
