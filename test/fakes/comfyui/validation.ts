// Prompt validation with the shapes of ComfyUI's execution.py
// (validate_prompt / validate_inputs): the same error types, messages,
// `details` strings and `extra_info`, the same node_errors assembly
// ({errors, dependent_outputs, class_type}, upstream nodes without reasons
// left out), and the newer `missing_node_type` answer for an unknown class.
import { NODE_CLASSES, type InputDef, type NodeEnv } from './nodes.ts'

export interface PromptNode {
  class_type?: string
  inputs?: Record<string, unknown>
  _meta?: { title?: string }
}
export type ApiPrompt = Record<string, PromptNode>

export interface ValidationError {
  type: string
  message: string
  details: string
  extra_info: Record<string, unknown>
}

export interface NodeError {
  errors: ValidationError[]
  dependent_outputs: string[]
  class_type: string
}

export type Validation =
  | { ok: true; outputs: string[]; nodeErrors: Record<string, NodeError> }
  | { ok: false; error: ValidationError; nodeErrors: Record<string, NodeError> }

type Verdict = { valid: boolean; reasons: ValidationError[] }

/** Python's str() of a list of strings: ['a', 'b']. */
function pyList(values: string[]): string {
  return `[${values.map((v) => `'${v}'`).join(', ')}]`
}

/** Python's str() of a KeyError. */
class KeyError extends Error {
  constructor(key: string) {
    super(`'${key}'`)
    this.name = 'KeyError'
  }
}

function resolveType(def: InputDef, env: NodeEnv): string | string[] {
  return typeof def.type === 'function' ? def.type(env) : def.type
}

function inputConfig(def: InputDef, env: NodeEnv): unknown[] {
  const options: Record<string, number> = {}
  if (def.min !== undefined) options.min = def.min
  if (def.max !== undefined) options.max = def.max
  return [resolveType(def, env), options]
}

function convert(type: string, value: unknown): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (type === 'INT') {
    if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value: Math.trunc(value) }
    if (typeof value === 'boolean') return { ok: true, value: value ? 1 : 0 }
    if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) return { ok: true, value: Number.parseInt(value, 10) }
    return { ok: false, reason: `invalid literal for int() with base 10: '${String(value)}'` }
  }
  if (type === 'FLOAT') {
    if (typeof value === 'number') return { ok: true, value }
    if (typeof value === 'boolean') return { ok: true, value: value ? 1 : 0 }
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
      return { ok: true, value: Number(value) }
    return { ok: false, reason: `could not convert string to float: '${String(value)}'` }
  }
  if (type === 'STRING') return { ok: true, value: typeof value === 'string' ? value : JSON.stringify(value) }
  if (type === 'BOOLEAN') return { ok: true, value: Boolean(value) }
  return { ok: true, value }
}

async function validateInputs(prompt: ApiPrompt, id: string, validated: Map<string, Verdict>, env: NodeEnv): Promise<Verdict> {
  const known = validated.get(id)
  if (known) return known
  const node = prompt[id]
  if (!node.inputs) throw new KeyError('inputs')
  const inputs = node.inputs
  const cls = NODE_CLASSES[node.class_type!]
  const defs: Array<[string, InputDef, 'required' | 'optional']> = [
    ...Object.entries(cls.required).map(([k, d]) => [k, d, 'required'] as [string, InputDef, 'required']),
    ...Object.entries(cls.optional ?? {}).map(([k, d]) => [k, d, 'optional'] as [string, InputDef, 'optional']),
  ]
  const ownInputs = cls.validateInputs?.inputs ?? []
  const errors: ValidationError[] = []
  let valid = true

  for (const [name, def, category] of defs) {
    if (!(name in inputs)) {
      if (category === 'required') {
        errors.push({
          type: 'required_input_missing',
          message: 'Required input is missing',
          details: name,
          extra_info: { input_name: name },
        })
      }
      continue
    }
    let value = inputs[name]
    const type = resolveType(def, env)
    if (Array.isArray(value)) {
      if (value.length !== 2) {
        errors.push({
          type: 'bad_linked_input',
          message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]',
          details: name,
          extra_info: { input_name: name, input_config: inputConfig(def, env), received_value: value },
        })
        continue
      }
      const [fromId, slot] = value as [string, number]
      const from = prompt[String(fromId)]
      // why not caught here: in ComfyUI a link to a missing node raises out of
      // validate_inputs and becomes the output's exception_during_validation.
      if (!from) throw new KeyError(String(fromId))
      const returned = NODE_CLASSES[from.class_type!]?.returns[slot]
      if (returned === undefined) throw new RangeError('tuple index out of range')
      if (returned !== type) {
        errors.push({
          type: 'return_type_mismatch',
          message: 'Return type mismatch between linked nodes',
          details: `${name}, received_type(${returned}) mismatch input_type(${String(type)})`,
          extra_info: { input_name: name, input_config: inputConfig(def, env), received_type: returned, linked_node: value },
        })
        continue
      }
      try {
        const upstream = await validateInputs(prompt, String(fromId), validated, env)
        if (!upstream.valid) valid = false
      } catch (e) {
        valid = false
        validated.set(String(fromId), {
          valid: false,
          reasons: [
            {
              type: 'exception_during_inner_validation',
              message: 'Exception when validating inner node',
              details: (e as Error).message,
              extra_info: {
                input_name: name,
                input_config: inputConfig(def, env),
                exception_message: (e as Error).message,
                exception_type: (e as Error).name,
                traceback: [],
                linked_node: value,
              },
            },
          ],
        })
      }
      continue
    }

    if (typeof type === 'string') {
      const converted = convert(type, value)
      if (!converted.ok) {
        errors.push({
          type: 'invalid_input_type',
          message: `Failed to convert an input value to a ${type} value`,
          details: `${name}, ${String(value)}, ${converted.reason}`,
          extra_info: {
            input_name: name,
            input_config: inputConfig(def, env),
            received_value: value,
            exception_message: converted.reason,
          },
        })
        continue
      }
      value = converted.value
      inputs[name] = value
    }
    if (ownInputs.includes(name)) continue
    if (def.min !== undefined && typeof value === 'number' && value < def.min) {
      errors.push({
        type: 'value_smaller_than_min',
        message: `Value ${value} smaller than min of ${def.min}`,
        details: name,
        extra_info: { input_name: name, input_config: inputConfig(def, env), received_value: value },
      })
      continue
    }
    if (def.max !== undefined && typeof value === 'number' && value > def.max) {
      errors.push({
        type: 'value_bigger_than_max',
        message: `Value ${value} bigger than max of ${def.max}`,
        details: name,
        extra_info: { input_name: name, input_config: inputConfig(def, env), received_value: value },
      })
      continue
    }
    if (Array.isArray(type) && !type.includes(value as string)) {
      // ComfyUI keeps huge lists (scanned model files) out of the answer.
      const long = type.length > 20
      errors.push({
        type: 'value_not_in_list',
        message: 'Value not in list',
        details: `${name}: '${String(value)}' not in ${long ? `(list of length ${type.length})` : pyList(type)}`,
        extra_info: { input_name: name, input_config: long ? null : inputConfig(def, env), received_value: value },
      })
      continue
    }
  }

  if (cls.validateInputs) {
    const result = cls.validateInputs.check(inputs, env)
    if (result !== true) {
      for (const name of cls.validateInputs.inputs) {
        errors.push({
          type: 'custom_validation_failed',
          message: 'Custom validation failed for node',
          details: `${name} - ${result}`,
          extra_info: { input_name: name },
        })
      }
    }
  }

  const verdict: Verdict = errors.length > 0 || !valid ? { valid: false, reasons: errors } : { valid: true, reasons: [] }
  validated.set(id, verdict)
  return verdict
}

export async function validatePrompt(prompt: ApiPrompt, env: NodeEnv): Promise<Validation> {
  const outputs: string[] = []
  for (const [id, node] of Object.entries(prompt)) {
    const title = node._meta?.title
    if (node.class_type === undefined) {
      return {
        ok: false,
        error: {
          type: 'missing_node_type',
          message: `Node '${title ?? `ID #${id}`}' has no class_type. The workflow may be corrupted or a custom node is missing.`,
          details: `Node ID '#${id}'`,
          extra_info: { node_id: id, class_type: null, node_title: title ?? null },
        },
        nodeErrors: {},
      }
    }
    const cls = NODE_CLASSES[node.class_type]
    if (!cls) {
      return {
        ok: false,
        error: {
          type: 'missing_node_type',
          message: `Node '${title ?? node.class_type}' not found. The custom node may not be installed.`,
          details: `Node ID '#${id}'`,
          extra_info: { node_id: id, class_type: node.class_type, node_title: title ?? node.class_type },
        },
        nodeErrors: {},
      }
    }
    if (cls.outputNode) outputs.push(id)
  }
  if (outputs.length === 0) {
    return {
      ok: false,
      error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} },
      nodeErrors: {},
    }
  }

  const good: string[] = []
  const failed: Array<[string, ValidationError[]]> = []
  const nodeErrors: Record<string, NodeError> = {}
  const validated = new Map<string, Verdict>()
  for (const output of outputs) {
    let verdict: Verdict
    try {
      verdict = await validateInputs(prompt, output, validated, env)
    } catch (e) {
      verdict = {
        valid: false,
        reasons: [
          {
            type: 'exception_during_validation',
            message: 'Exception when validating node',
            details: (e as Error).message,
            extra_info: { exception_type: (e as Error).name, traceback: [] },
          },
        ],
      }
      validated.set(output, verdict)
    }
    if (verdict.valid) {
      good.push(output)
      continue
    }
    failed.push([output, verdict.reasons])
    for (const [id, result] of validated) {
      if (result.valid || result.reasons.length === 0) continue
      nodeErrors[id] ??= { errors: result.reasons, dependent_outputs: [], class_type: prompt[id].class_type! }
      nodeErrors[id].dependent_outputs.push(output)
    }
  }
  if (good.length === 0) {
    const details = failed.flatMap(([, reasons]) => reasons.map((r) => `${r.message}: ${r.details}`)).join('\n')
    return {
      ok: false,
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {} },
      nodeErrors,
    }
  }
  return { ok: true, outputs: good, nodeErrors }
}
