// What WeShop's reference says a run needs (weshopai/skills,
// skills/weshop-openapi-skill: SKILL.md, references/{aimodel,virtualtryon,
// aiproduct,aipose,shared-enums}.md), checked the way a server would: the
// first problem found is reported. Written from the reference, not from our
// client's schemas, so a client bug can't hide behind a shared mistake.

export const SUPPORTED_AGENTS = ['aimodel', 'virtualtryon', 'aiproduct', 'aipose'] as const
export type FakeAgent = (typeof SUPPORTED_AGENTS)[number]

const GENERATED_CONTENT = ['freeCreation', 'referToOrigin']
const AIMODEL_MASKS = [
  'autoApparelSegment',
  'autoUpperApparelSegment',
  'autoLowerApparelSegment',
  'autoSubjectSegment',
  'autoHumanSegment',
  'inverseAutoHumanSegment',
  'custom',
]
const AIPRODUCT_MASKS = ['autoSubjectSegment', 'custom']
const POSES = ['originalImagePose', 'referenceImagePose', 'freePose']
const TRYON_VERSIONS = ['weshopFlash', 'weshopPro', 'bananaPro']
const DESCRIPTION_TYPES = ['auto', 'custom']
const ASPECT_RATIOS = ['1:1', '2:3', '3:2', '3:4', '4:3', '9:16', '16:9', '21:9']
const IMAGE_SIZES = ['1K', '2K', '4K']
const POSE_VERSIONS = ['lite', 'pro']

export interface PresetLists {
  locations: Set<number>
  fashionModels: Set<number>
}

export interface ValidRun {
  agent: FakeAgent
  input: Record<string, unknown> & { originalImage: string }
  params: Record<string, unknown>
  batchCount: number
  callbackUrl?: string
}

export type Validation = { ok: true; run: ValidRun } | { ok: false; code: string; message: string; status: number }

type Json = Record<string, unknown>

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isUrl(v: unknown): v is string {
  if (typeof v !== 'string') return false
  try {
    const u = new URL(v)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}

function invalid(message: string): Validation {
  return { ok: false, code: 'INVALID_PARAMS', message, status: 400 }
}

/** Problems with one agent's params, or undefined. */
function checkParams(agent: FakeAgent, params: Json, input: Json, presets: Record<string, PresetLists>): string | undefined {
  const oneOf = (name: string, allowed: string[], required: boolean): string | undefined => {
    const v = params[name]
    if (v === undefined) return required ? `params.${name} is required` : undefined
    if (typeof v !== 'string' || !allowed.includes(v)) return `params.${name} must be one of ${allowed.join(', ')}`
    return undefined
  }
  const text = (name: string): string | undefined => {
    const v = params[name]
    if (v !== undefined && (typeof v !== 'string' || v.trim() === '')) return `params.${name} must be a non-empty string`
    return undefined
  }
  const preset = (name: 'locationId' | 'fashionModelId', list: Set<number> | undefined): string | undefined => {
    const v = params[name]
    if (v === undefined) return undefined
    if (typeof v !== 'number' || !Number.isInteger(v)) return `params.${name} must be an integer`
    if (!list?.has(v)) return `params.${name} ${v} is not a preset of ${agent} (GET /openapi/v1/agent/info)`
    return undefined
  }
  const mask = (): string | undefined => {
    if (params.maskType !== 'custom') return undefined
    if (params.customMaskUrl === undefined && params.customMask === undefined)
      return 'params.customMaskUrl or params.customMask is required when maskType=custom'
    if (params.customMaskUrl !== undefined && !isUrl(params.customMaskUrl)) return 'params.customMaskUrl must be a URL'
    if (params.customMask !== undefined && (typeof params.customMask !== 'string' || params.customMask.startsWith('data:')))
      return 'params.customMask must be base64 PNG without the data:image/png;base64, prefix'
    return undefined
  }
  switch (agent) {
    case 'aimodel':
      return (
        oneOf('generatedContent', GENERATED_CONTENT, true) ??
        oneOf('maskType', AIMODEL_MASKS, true) ??
        oneOf('pose', POSES, false) ??
        text('textDescription') ??
        text('negTextDescription') ??
        preset('locationId', presets.aimodel?.locations) ??
        preset('fashionModelId', presets.aimodel?.fashionModels) ??
        (params.locationId === undefined && params.fashionModelId === undefined && params.textDescription === undefined
          ? 'provide at least one of locationId, fashionModelId, or textDescription'
          : undefined) ??
        mask()
      )
    case 'aiproduct':
      return (
        oneOf('generatedContent', GENERATED_CONTENT, true) ??
        oneOf('maskType', AIPRODUCT_MASKS, true) ??
        text('textDescription') ??
        text('negTextDescription') ??
        preset('locationId', presets.aiproduct?.locations) ??
        (params.locationId === undefined && params.textDescription === undefined
          ? 'provide at least one of locationId or textDescription'
          : undefined) ??
        mask()
      )
    case 'virtualtryon': {
      const problem =
        oneOf('generateVersion', TRYON_VERSIONS, true) ??
        oneOf('descriptionType', DESCRIPTION_TYPES, true) ??
        oneOf('aspectRatio', ASPECT_RATIOS, false) ??
        oneOf('imageSize', IMAGE_SIZES, false) ??
        text('textDescription')
      if (problem) return problem
      if (params.descriptionType === 'custom' && params.textDescription === undefined)
        return 'params.textDescription is required when descriptionType=custom'
      if (params.aspectRatio !== undefined && params.generateVersion === 'weshopFlash')
        return 'params.aspectRatio is valid for weshopPro and bananaPro only'
      if (params.generateVersion === 'bananaPro' && params.imageSize === undefined)
        return 'params.imageSize is required when generateVersion=bananaPro'
      for (const name of ['fashionModelImage', 'locationImage']) {
        const v = params[name] ?? input[name]
        if (v !== undefined && !isUrl(v)) return `${name} must be a URL`
      }
      return undefined
    }
    case 'aipose':
      if (typeof params.textDescription !== 'string' || params.textDescription.trim() === '')
        return 'params.textDescription is required'
      return oneOf('generateVersion', POSE_VERSIONS, false)
  }
}

/** POST /openapi/agent/runs body → the run, or the error envelope's code and message. */
export function validateRun(body: unknown, presets: Record<string, PresetLists>): Validation {
  if (!isObject(body)) return invalid('request body must be a JSON object')
  const agent = body.agent
  if (!isObject(agent) || typeof agent.name !== 'string') return invalid('agent.name is required')
  if (!(SUPPORTED_AGENTS as readonly string[]).includes(agent.name)) {
    return { ok: false, code: 'AGENT_NOT_FOUND', message: `agent ${agent.name} is not available`, status: 404 }
  }
  if (agent.version !== 'v1.0') return invalid(`agent.version ${String(agent.version)} is not available for ${agent.name}`)
  const input = body.input
  if (!isObject(input)) return invalid('input is required')
  if (!isUrl(input.originalImage)) return invalid('input.originalImage must be a URL')
  if (input.taskName !== undefined && typeof input.taskName !== 'string') return invalid('input.taskName must be a string')
  const params = body.params === undefined ? {} : body.params
  if (!isObject(params)) return invalid('params must be an object')
  if (params.originalImage !== undefined && !isUrl(params.originalImage)) return invalid('params.originalImage must be a URL')
  if (body.callbackUrl !== undefined && !isUrl(body.callbackUrl)) return invalid('callbackUrl must be a URL')
  const batch = params.batchCount ?? 1
  if (typeof batch !== 'number' || !Number.isInteger(batch) || batch < 1 || batch > 16)
    return invalid('params.batchCount must be an integer from 1 to 16')
  const name = agent.name as FakeAgent
  const problem = checkParams(name, params, input, presets)
  if (problem) return invalid(problem)
  return {
    ok: true,
    run: {
      agent: name,
      input: input as ValidRun['input'],
      params,
      batchCount: batch,
      ...(typeof body.callbackUrl === 'string' ? { callbackUrl: body.callbackUrl } : {}),
    },
  }
}
