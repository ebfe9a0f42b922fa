// The sd-webui-controlnet extension's side of an img2img request, as its
// scripts read `alwayson_scripts.controlnet.args` (internal_controlnet/args.py
// ControlNetUnit, scripts/controlnet.py), including how it fails: the units
// are parsed inside the ScriptRunner's `process` hook, whose exceptions A1111
// logs and swallows, so a bad unit never fails the request: the image is
// rendered without ControlNet, and only the console says why.

export const RESIZE_MODES = ['Just Resize', 'Crop and Resize', 'Resize and Fill'] as const
const RESIZE_ALIASES: Record<string, string> = {
  'Inner Fit (Scale to Fit)': 'Crop and Resize',
  'Outer Fit (Shrink to Fit)': 'Resize and Fill',
  'Scale to Fit (Inner Fit)': 'Crop and Resize',
  'Envelope (Outer Fit)': 'Resize and Fill',
}
export const CONTROL_MODES = ['Balanced', 'My prompt is more important', 'ControlNet is more important'] as const

export interface ControlnetUnit {
  enabled: boolean
  module: string
  model: string
  weight: number
  image: unknown
  resize_mode: string
  low_vram: boolean
  processor_res: number
  threshold_a: number
  threshold_b: number
  guidance_start: number
  guidance_end: number
  pixel_perfect: boolean
  control_mode: string
  save_detected_map: boolean
}

export interface ControlnetOutcome {
  /** Enabled units that parsed (what the infotext names). */
  units: ControlnetUnit[]
  /** Whether the units took effect; false when the extension's hook failed. */
  applied: boolean
  /** The console line when it failed. */
  error?: string
  /** `ControlNet N` entries for the infotext. */
  infotext: Record<string, string>
}

const DEFAULT_UNIT: ControlnetUnit = {
  // why false: A1111's extension ignores a unit that does not say enabled (Forge defaults it on).
  enabled: false,
  module: 'none',
  model: 'None',
  weight: 1,
  image: null,
  resize_mode: 'Crop and Resize',
  low_vram: false,
  processor_res: -1,
  threshold_a: -1,
  threshold_b: -1,
  guidance_start: 0,
  guidance_end: 1,
  pixel_perfect: false,
  control_mode: 'Balanced',
  save_detected_map: true,
}

class UnitError extends Error {}

function pydanticError(field: string, message: string, type: string): UnitError {
  return new UnitError(`1 validation error for ControlNetUnit\n${field}\n  ${message} (type=${type})`)
}

function number(value: unknown, field: string, min?: number, max?: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isFinite(n)) throw pydanticError(field, 'value is not a valid float', 'type_error.float')
  if (min !== undefined && n < min) {
    throw pydanticError(
      field,
      `ensure this value is greater than or equal to ${min.toFixed(1)}`,
      `value_error.number.not_ge; limit_value=${min.toFixed(1)}`,
    )
  }
  if (max !== undefined && n > max) {
    throw pydanticError(
      field,
      `ensure this value is less than or equal to ${max.toFixed(1)}`,
      `value_error.number.not_le; limit_value=${max.toFixed(1)}`,
    )
  }
  return n
}

function bool(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value
  if (value === 0 || value === 1) return value === 1
  throw pydanticError(field, 'value could not be parsed to a boolean', 'type_error.bool')
}

/** ControlNetUnit.from_dict: unknown fields ignored, `mask_image` is `mask`, enums by value. */
export function parseUnit(raw: Record<string, unknown>, modules: readonly string[]): ControlnetUnit {
  const unit: ControlnetUnit = { ...DEFAULT_UNIT }
  const has = (k: string) => k in raw && raw[k] !== undefined
  if (has('enabled')) unit.enabled = bool(raw.enabled, 'enabled')
  if (has('module')) unit.module = String(raw.module)
  if (!modules.includes(unit.module))
    throw pydanticError('module', `module(${unit.module}) not found in supported modules.`, 'value_error')
  if (has('model')) unit.model = String(raw.model)
  if (has('weight')) unit.weight = number(raw.weight, 'weight', 0, 2)
  if (has('image')) unit.image = raw.image
  if (has('resize_mode')) {
    const value = String(raw.resize_mode)
    const mode = RESIZE_ALIASES[value] ?? value
    if (!(RESIZE_MODES as readonly string[]).includes(mode)) {
      throw pydanticError('resize_mode', `'${value}' is not a valid ResizeMode`, 'value_error')
    }
    unit.resize_mode = mode
  }
  if (has('low_vram')) unit.low_vram = bool(raw.low_vram, 'low_vram')
  if (has('processor_res')) unit.processor_res = Math.trunc(number(raw.processor_res, 'processor_res'))
  if (has('threshold_a')) unit.threshold_a = number(raw.threshold_a, 'threshold_a')
  if (has('threshold_b')) unit.threshold_b = number(raw.threshold_b, 'threshold_b')
  if (has('guidance_start')) unit.guidance_start = number(raw.guidance_start, 'guidance_start', 0, 1)
  if (has('guidance_end')) unit.guidance_end = number(raw.guidance_end, 'guidance_end', 0, 1)
  if (unit.guidance_start > unit.guidance_end) {
    throw pydanticError('__root__', `guidance_start(${unit.guidance_start}) > guidance_end(${unit.guidance_end})`, 'value_error')
  }
  if (has('pixel_perfect')) unit.pixel_perfect = bool(raw.pixel_perfect, 'pixel_perfect')
  if (has('control_mode')) {
    const value = String(raw.control_mode)
    if (!(CONTROL_MODES as readonly string[]).includes(value)) {
      throw pydanticError(
        'control_mode',
        `value is not a valid enumeration member; permitted: ${CONTROL_MODES.map((m) => `'${m}'`).join(', ')}`,
        'type_error.enum',
      )
    }
    unit.control_mode = value
  }
  if (has('save_detected_map')) unit.save_detected_map = bool(raw.save_detected_map, 'save_detected_map')
  return unit
}

/** `name [hash]` for a model named with or without its hash (global_state.cn_models / cn_models_names). */
export function findModel(models: readonly string[], name: string): string | undefined {
  return (
    models.find((m) => m === name) ?? models.find((m) => m.replace(/ \[[0-9a-f]+\]$/, '').toLowerCase() === name.toLowerCase())
  )
}

function serialize(unit: ControlnetUnit): string {
  const f = (n: number) => (Number.isInteger(n) ? n.toFixed(1) : String(n))
  return [
    `Module: ${unit.module}`,
    `Model: ${unit.model}`,
    `Weight: ${f(unit.weight)}`,
    `Resize Mode: ${unit.resize_mode}`,
    `Processor Res: ${unit.processor_res}`,
    `Threshold A: ${f(unit.threshold_a)}`,
    `Threshold B: ${f(unit.threshold_b)}`,
    `Guidance Start: ${f(unit.guidance_start)}`,
    `Guidance End: ${f(unit.guidance_end)}`,
    `Pixel Perfect: ${unit.pixel_perfect ? 'True' : 'False'}`,
    `Control Mode: ${unit.control_mode}`,
  ].join(', ')
}

/** What the extension makes of its args: parsed and enabled units, whether they apply, and the infotext. */
export function runControlnet(
  args: unknown[],
  env: { modules: readonly string[]; models: readonly string[] },
): ControlnetOutcome {
  let units: ControlnetUnit[]
  try {
    units = args
      .filter((a): a is Record<string, unknown> => !!a && typeof a === 'object' && !Array.isArray(a))
      .map((a) => parseUnit(a, env.modules))
      .filter((u) => u.enabled)
  } catch (e) {
    // Parsing fails before the infotext is written: nothing says ControlNet was asked for.
    return {
      units: [],
      applied: false,
      error: `Error running process: extensions/sd-webui-controlnet/scripts/controlnet.py\n${(e as Error).message}`,
      infotext: {},
    }
  }
  const infotext = Object.fromEntries(units.map((u, i) => [`ControlNet ${i}`, serialize(u)]))
  for (const unit of units) {
    // why after the infotext: the extension writes it first, then loads models and fails.
    if (!unit.model || unit.model === 'None') {
      return { units, applied: false, error: 'RuntimeError: You have not selected any ControlNet Model.', infotext }
    }
    const model = findModel(env.models, unit.model)
    if (!model) return { units, applied: false, error: `RuntimeError: model not found: ${unit.model}`, infotext }
    unit.model = model
  }
  return {
    units,
    applied: units.length > 0,
    infotext: Object.fromEntries(units.map((u, i) => [`ControlNet ${i}`, serialize(u)])),
  }
}
