import { z } from 'zod'
import { AppError } from '#app/lib/errors.ts'
import { operationSchema, type Operation } from '#app/modules/looks/schema.ts'
import { apiNodeSchema, type ApiWorkflow, type InputValue } from './api.ts'
import type { ComfyuiPersonaSettings, ComfyuiSceneSettings } from './look-settings.ts'
import { rawTemplates } from './workflows.ts'

// A workflow template is a ComfyUI graph in API format plus its SLOTS: the
// node id and input name that each per-render value goes into. The graph
// holds ordinary default values (it can be pasted into ComfyUI as it is);
// filling a template overwrites exactly the slots and nothing else.

const slotRef = z.object({ node: z.string().min(1), input: z.string().min(1) })
export type SlotRef = z.infer<typeof slotRef>
const slotRefs = z.array(slotRef).min(1)

/** Scene settings a template can take (from the scene's `backends.comfyui`). */
export const sceneParams = [
  'checkpoint',
  'denoise',
  'steps',
  'cfg',
  'sampler',
  'scheduler',
  'controlnetModel',
  'controlnetStrength',
] as const
export type SceneParam = (typeof sceneParams)[number]
/** Persona settings a template can take (from the persona's `backends.comfyui`). */
export const personaParams = ['lora', 'loraStrength'] as const
export type PersonaParam = (typeof personaParams)[number]

export const templateSlotsSchema = z.object({
  /** LoadImage.image: the source photo on the work canvas. */
  sourceImage: slotRef,
  /** LoadImage.image: the mask PNG, alpha = keep (LoadImage's MASK is 1 − alpha = repaint). */
  mask: slotRef,
  prompt: slotRef,
  negativePrompt: slotRef,
  seed: slotRef,
  /** The SaveImage node whose images are the result, and its filename prefix. */
  output: z.object({ node: z.string().min(1), filenamePrefix: slotRef }),
  /** The node whose `progress` messages measure the render (the sampler). */
  progress: z.object({ node: z.string().min(1) }),
  scene: z.partialRecord(z.enum(sceneParams), slotRefs).default({}),
  persona: z.partialRecord(z.enum(personaParams), slotRefs).default({}),
})
export type TemplateSlots = z.infer<typeof templateSlotsSchema>

export const workflowTemplateSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9_]+$/),
    /** Bump on any change that alters pixels; renders record `id@version`. */
    version: z.number().int().positive(),
    operation: operationSchema,
    description: z.string().min(1),
    /** Longest edge of the frame the model works in (multiple of 64; sizes sent are multiples of 8). */
    workEdge: z.number().int().min(256).max(4096).multipleOf(64),
    /** Whether the template realises a persona (it then has persona slots). */
    persona: z.enum(['required', 'none']),
    /**
     * Where the keep mask comes from: `product` = the product cut-out (the
     * merchant's mask, else alpha, else a plain backdrop); `merchant` = only
     * the merchant's own mask (e.g. the garment alone, without the person).
     */
    maskSource: z.enum(['product', 'merchant']),
    /** Which of the scene's ControlNets (by `type`) fills the controlnet slots. */
    controlnet: z.string().optional(),
    graph: z.record(z.string(), apiNodeSchema),
    slots: templateSlotsSchema,
  })
  .superRefine((t, ctx) => {
    const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message })
    const seen = new Map<string, string>()
    const check = (ref: SlotRef, path: (string | number)[], classType?: string) => {
      const node = t.graph[ref.node]
      if (!node) return problem(path, `node "${ref.node}" is not in the graph`)
      if (!(ref.input in node.inputs)) return problem(path, `node "${ref.node}" (${node.class_type}) has no input "${ref.input}"`)
      if (Array.isArray(node.inputs[ref.input])) return problem(path, `"${ref.node}.${ref.input}" is a link, not a value`)
      if (classType && node.class_type !== classType)
        problem(path, `node "${ref.node}" must be a ${classType}, not ${node.class_type}`)
      const key = `${ref.node}.${ref.input}`
      const other = seen.get(key)
      if (other) problem(path, `"${key}" is already the ${other} slot`)
      seen.set(key, path.join('.'))
    }
    const s = t.slots
    check(s.sourceImage, ['slots', 'sourceImage'], 'LoadImage')
    check(s.mask, ['slots', 'mask'], 'LoadImage')
    check(s.prompt, ['slots', 'prompt'])
    check(s.negativePrompt, ['slots', 'negativePrompt'])
    check(s.seed, ['slots', 'seed'])
    if (t.graph[s.output.node]?.class_type !== 'SaveImage')
      problem(['slots', 'output', 'node'], `node "${s.output.node}" must be a SaveImage`)
    if (s.output.filenamePrefix.node !== s.output.node)
      problem(['slots', 'output', 'filenamePrefix'], 'must be on the output node')
    check(s.output.filenamePrefix, ['slots', 'output', 'filenamePrefix'], 'SaveImage')
    if (!t.graph[s.progress.node]) problem(['slots', 'progress', 'node'], `node "${s.progress.node}" is not in the graph`)
    for (const [param, refs] of Object.entries(s.scene)) refs?.forEach((ref, i) => check(ref, ['slots', 'scene', param, i]))
    for (const [param, refs] of Object.entries(s.persona)) refs?.forEach((ref, i) => check(ref, ['slots', 'persona', param, i]))
    const hasPersonaSlots = Object.keys(s.persona).length > 0
    if ((t.persona === 'required') !== hasPersonaSlots)
      problem(['persona'], 'persona "required" goes with persona slots, "none" without')
    const hasControlnetSlots = 'controlnetModel' in s.scene || 'controlnetStrength' in s.scene
    if (Boolean(t.controlnet) !== hasControlnetSlots)
      problem(['controlnet'], 'name the scene ControlNet type exactly when there are controlnet slots')
  })
export type WorkflowTemplate = z.infer<typeof workflowTemplateSchema>

/** How a render records the template it used. */
export function templateLabel(template: WorkflowTemplate): string {
  return `${template.id}@${template.version}`
}

/**
 * Validates template data at module load. why: a bad edit must fail at
 * start-up with the template and the slot named, not as a 400 from a GPU
 * server in the middle of a batch.
 */
export function parseTemplates(raw: readonly unknown[]): readonly WorkflowTemplate[] {
  const seen = new Set<Operation>()
  return Object.freeze(
    raw.map((item, index) => {
      const parsed = workflowTemplateSchema.safeParse(item)
      const id = (item as { id?: unknown } | null)?.id
      if (!parsed.success)
        throw new Error(
          `Invalid ComfyUI template ${typeof id === 'string' ? `"${id}"` : `#${index}`}:\n${z.prettifyError(parsed.error)}`,
        )
      if (seen.has(parsed.data.operation)) throw new Error(`Two ComfyUI templates for "${parsed.data.operation}"`)
      seen.add(parsed.data.operation)
      return parsed.data
    }),
  )
}

export const templates: readonly WorkflowTemplate[] = parseTemplates(rawTemplates)

export function templateFor(operation: Operation, from: readonly WorkflowTemplate[] = templates): WorkflowTemplate | undefined {
  return from.find((t) => t.operation === operation)
}

export interface SlotValues {
  sourceImage: string
  mask: string
  prompt: string
  negativePrompt: string
  seed: number
  filenamePrefix: string
  scene: ComfyuiSceneSettings
  persona?: ComfyuiPersonaSettings
}

/** The value each scene slot takes; the ControlNet is the scene's one of the template's type. */
function sceneValue(template: WorkflowTemplate, scene: ComfyuiSceneSettings, param: SceneParam): InputValue {
  switch (param) {
    case 'checkpoint':
      return scene.checkpoint
    case 'denoise':
      return scene.denoise
    case 'steps':
      return scene.steps
    case 'cfg':
      return scene.cfg
    case 'sampler':
      return scene.sampler
    case 'scheduler':
      return scene.scheduler
    case 'controlnetModel':
    case 'controlnetStrength': {
      const net = scene.controlnet.find((c) => c.type === template.controlnet)
      if (!net) throw missing(template, `a "${template.controlnet}" ControlNet in the scene`)
      return param === 'controlnetModel' ? net.model : net.strength
    }
  }
}

function personaValue(persona: ComfyuiPersonaSettings, param: PersonaParam): InputValue {
  return param === 'lora' ? persona.lora : persona.loraStrength
}

/** A setting the look lacks for this template: the same on every attempt. */
function missing(template: WorkflowTemplate, what: string): AppError {
  return new AppError('INVALID_INPUT', `The ComfyUI workflow ${templateLabel(template)} needs ${what}.`, {
    details: { workflow: templateLabel(template) },
  })
}

/** The template's graph with every slot filled: what goes to POST /prompt. */
export function fillTemplate(template: WorkflowTemplate, values: SlotValues): ApiWorkflow {
  const graph = structuredClone(template.graph) as ApiWorkflow
  const set = (ref: SlotRef, value: InputValue) => {
    graph[ref.node].inputs[ref.input] = value
  }
  const s = template.slots
  set(s.sourceImage, values.sourceImage)
  set(s.mask, values.mask)
  set(s.prompt, values.prompt)
  set(s.negativePrompt, values.negativePrompt)
  set(s.seed, values.seed)
  set(s.output.filenamePrefix, values.filenamePrefix)
  for (const param of sceneParams) for (const ref of s.scene[param] ?? []) set(ref, sceneValue(template, values.scene, param))
  if (template.persona === 'required') {
    if (!values.persona) throw missing(template, 'a persona')
    for (const param of personaParams) for (const ref of s.persona[param] ?? []) set(ref, personaValue(values.persona, param))
  }
  return graph
}
