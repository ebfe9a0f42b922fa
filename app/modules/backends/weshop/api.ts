import { z } from 'zod'

// WeShop OpenAPI's wire shapes, from WeShop's own reference (repo
// weshopai/skills, skills/weshop-openapi-skill, "Last Updated 2026-04-03")
// and its CLI (weshopai/weshop-cli 0.2.5, src/client.ts). Everything that
// crosses the wire is parsed with these; unknown extra fields are ignored.
//
// Every endpoint answers with one envelope:
//   {"success": true,  "data": {...}, "meta": {"executionId": "..."}}
//   {"success": false, "error": {"code": "...", "message": "...", "retryable": false}}

export const AGENT_VERSION = 'v1.0'

/** The error half of the envelope. `retryable` is WeShop's own word on whether trying again can help. */
export const errorEnvelopeSchema = z.object({
  success: z.literal(false),
  error: z.object({
    code: z.string().default('UNKNOWN'),
    message: z.string().default(''),
    retryable: z.boolean().default(false),
  }),
})
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>

export const metaSchema = z.object({ executionId: z.string().optional() }).loose()

/** The success half of the envelope around `data`. */
export function successEnvelopeSchema<S extends z.ZodType>(data: S) {
  return z.object({ success: z.literal(true), data, meta: metaSchema.optional() })
}

/** POST /openapi/agent/assets/images (multipart `image`) → a reusable URL for `input.originalImage` and mask URLs. */
export const uploadedAssetSchema = z.object({ image: z.url() })
export type UploadedAsset = z.infer<typeof uploadedAssetSchema>

/** POST /openapi/agent/runs → the handle to poll (also in `meta.executionId`). */
export const runAcceptedSchema = z.object({ executionId: z.string().min(1), taskId: z.string().optional() })
export type RunAccepted = z.infer<typeof runAcceptedSchema>

/** The states the reference names; others may appear and are passed through as strings. */
export const runStates = ['Pending', 'Segmenting', 'Running', 'Success', 'Failed'] as const
export type RunState = (typeof runStates)[number]
export const terminalStates: readonly string[] = ['Success', 'Failed']

export const runResultSchema = z.object({
  status: z.string(),
  image: z.string().optional(),
  video: z.string().optional(),
  videoPoster: z.string().optional(),
})
export type RunResult = z.infer<typeof runResultSchema>

export const executionSchema = z.object({
  executionId: z.string(),
  status: z.string(),
  executionTime: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  result: z.array(runResultSchema).nullable().default([]),
})
export type Execution = z.infer<typeof executionSchema>

/** GET /openapi/agent/runs/{executionId}: the latest execution is the last one (weshop-cli reads `executions.at(-1)`). */
export const runSchema = z.object({
  agentName: z.string(),
  agentVersion: z.string(),
  initParams: z.record(z.string(), z.unknown()).optional(),
  executions: z.array(executionSchema),
})
export type Run = z.infer<typeof runSchema>

/** One preset of GET /openapi/v1/agent/info (as weshop-cli's `info` command reads it). */
export const presetSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  image: z.string().optional(),
  categories: z.array(z.string()).nullable().optional(),
  type: z.string().optional(),
})
export type Preset = z.infer<typeof presetSchema>

export const agentInfoSchema = z
  .object({
    locations: z.array(presetSchema).optional(),
    fashionModels: z.array(presetSchema).optional(),
    backgrounds: z.array(presetSchema).optional(),
  })
  .loose()
export type AgentInfo = z.infer<typeof agentInfoSchema>

// ---------------------------------------------------------------- run requests

export const generatedContents = ['freeCreation', 'referToOrigin'] as const
export const aimodelMaskTypes = [
  'autoApparelSegment',
  'autoUpperApparelSegment',
  'autoLowerApparelSegment',
  'autoSubjectSegment',
  'autoHumanSegment',
  'inverseAutoHumanSegment',
  'custom',
] as const
export const aiproductMaskTypes = ['autoSubjectSegment', 'custom'] as const
export const poses = ['originalImagePose', 'referenceImagePose', 'freePose'] as const
export const generateVersions = ['weshopFlash', 'weshopPro', 'bananaPro'] as const
export const descriptionTypes = ['auto', 'custom'] as const
/** virtualtryon's output ratios (weshopPro and bananaPro only). */
export const tryonAspectRatios = ['1:1', '2:3', '3:2', '3:4', '4:3', '9:16', '16:9', '21:9'] as const
export type TryonAspectRatio = (typeof tryonAspectRatios)[number]

const batchCount = z.number().int().min(1).max(16)
const presetId = z.number().int().positive()

/**
 * aimodel v1.0: keeps the masked region (the garment, or the subject) and
 * regenerates the rest. With `custom`, `customMaskUrl` is a PNG the size of
 * the original whose opaque pixels are kept and transparent ones repainted.
 */
export const aimodelParamsSchema = z.object({
  originalImage: z.url(),
  generatedContent: z.enum(generatedContents),
  maskType: z.enum(aimodelMaskTypes),
  textDescription: z.string().min(1).optional(),
  locationId: presetId.optional(),
  fashionModelId: presetId.optional(),
  negTextDescription: z.string().optional(),
  pose: z.enum(poses).optional(),
  customMaskUrl: z.url().optional(),
  batchCount: batchCount.optional(),
})
export type AimodelParams = z.infer<typeof aimodelParamsSchema>

/** virtualtryon v1.0: the garment (Figure 1) put on a generated model; the geometry is new. */
export const virtualtryonParamsSchema = z.object({
  originalImage: z.url(),
  fashionModelImage: z.url().optional(),
  locationImage: z.url().optional(),
  generateVersion: z.enum(generateVersions),
  descriptionType: z.enum(descriptionTypes),
  textDescription: z.string().min(1).optional(),
  aspectRatio: z.enum(tryonAspectRatios).optional(),
  imageSize: z.enum(['1K', '2K', '4K']).optional(),
  batchCount: batchCount.optional(),
})
export type VirtualtryonParams = z.infer<typeof virtualtryonParamsSchema>

/** aiproduct v1.0: keeps the product (auto or custom mask) and replaces the background. */
export const aiproductParamsSchema = z.object({
  originalImage: z.url(),
  generatedContent: z.enum(generatedContents),
  maskType: z.enum(aiproductMaskTypes),
  textDescription: z.string().min(1).optional(),
  locationId: presetId.optional(),
  negTextDescription: z.string().optional(),
  customMaskUrl: z.url().optional(),
  batchCount: batchCount.optional(),
})
export type AiproductParams = z.infer<typeof aiproductParamsSchema>

/** The agents this backend drives, and what each one's params look like. */
export interface AgentParams {
  aimodel: AimodelParams
  virtualtryon: VirtualtryonParams
  aiproduct: AiproductParams
}
export type AgentName = keyof AgentParams
export const agentNames = ['aimodel', 'virtualtryon', 'aiproduct'] as const satisfies readonly AgentName[]

/** POST /openapi/agent/runs body. */
export interface RunRequest<A extends AgentName = AgentName> {
  agent: { name: A; version: typeof AGENT_VERSION }
  input: { originalImage: string; taskName?: string; fashionModelImage?: string; locationImage?: string }
  params: AgentParams[A]
  callbackUrl?: string
}
