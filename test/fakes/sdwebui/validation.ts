// Request validation as SD WebUI's FastAPI app does it, so the fake refuses
// what the real server refuses, with the same 422 body.
//
// The request models (modules/api/models.py) are generated from the
// StableDiffusionProcessing dataclasses: every field is Optional and typed
// from the dataclass annotation, unknown fields are ignored, and nothing is
// range-checked. A1111 runs pydantic 1 (`{loc, msg, type}` items, lax
// coercion: "28" and 28.9 are valid ints); newer forks run pydantic 2
// (`{type, loc, msg, input, url}`).

export type FieldType = 'int' | 'float' | 'bool' | 'str' | 'list' | 'dict' | 'any'
export type PydanticVersion = 1 | 2

export interface ValidationIssue {
  loc: Array<string | number>
  msg: string
  type: string
  input?: unknown
  url?: string
  ctx?: Record<string, unknown>
}

/** StableDiffusionProcessing's init fields, minus api.py's API_NOT_ALLOWED. */
const PROCESSING_FIELDS: Record<string, FieldType> = {
  prompt: 'str',
  negative_prompt: 'str',
  styles: 'list',
  seed: 'int',
  subseed: 'int',
  subseed_strength: 'float',
  seed_resize_from_h: 'int',
  seed_resize_from_w: 'int',
  sampler_name: 'str',
  scheduler: 'str',
  batch_size: 'int',
  n_iter: 'int',
  steps: 'int',
  cfg_scale: 'float',
  width: 'int',
  height: 'int',
  restore_faces: 'bool',
  tiling: 'bool',
  do_not_save_samples: 'bool',
  do_not_save_grid: 'bool',
  eta: 'float',
  denoising_strength: 'float',
  s_min_uncond: 'float',
  s_churn: 'float',
  s_tmax: 'float',
  s_tmin: 'float',
  s_noise: 'float',
  override_settings: 'dict',
  override_settings_restore_afterwards: 'bool',
  refiner_checkpoint: 'str',
  refiner_switch_at: 'float',
  disable_extra_networks: 'bool',
  firstpass_image: 'str',
  comments: 'dict',
}

/** The fields models.py adds to both request models. */
const API_FIELDS: Record<string, FieldType> = {
  sampler_index: 'str',
  script_name: 'str',
  script_args: 'list',
  send_images: 'bool',
  save_images: 'bool',
  alwayson_scripts: 'dict',
  force_task_id: 'str',
  infotext: 'str',
}

export const IMG2IMG_FIELDS: Record<string, FieldType> = {
  ...PROCESSING_FIELDS,
  init_images: 'list',
  resize_mode: 'int',
  image_cfg_scale: 'float',
  mask: 'str',
  mask_blur_x: 'int',
  mask_blur_y: 'int',
  mask_blur: 'int',
  mask_round: 'bool',
  inpainting_fill: 'int',
  inpaint_full_res: 'bool',
  inpaint_full_res_padding: 'int',
  inpainting_mask_invert: 'int',
  initial_noise_multiplier: 'float',
  latent_mask: 'str',
  include_init_images: 'bool',
  ...API_FIELDS,
}

export const TXT2IMG_FIELDS: Record<string, FieldType> = {
  ...PROCESSING_FIELDS,
  enable_hr: 'bool',
  firstphase_width: 'int',
  firstphase_height: 'int',
  hr_scale: 'float',
  hr_upscaler: 'str',
  hr_second_pass_steps: 'int',
  hr_resize_x: 'int',
  hr_resize_y: 'int',
  hr_checkpoint_name: 'str',
  hr_sampler_name: 'str',
  hr_scheduler: 'str',
  hr_prompt: 'str',
  hr_negative_prompt: 'str',
  ...API_FIELDS,
}

/** What a field is when the request leaves it out (dataclass defaults; models.py's additions). */
export const DEFAULTS: Record<string, unknown> = {
  prompt: '',
  negative_prompt: '',
  styles: null,
  seed: -1,
  subseed: -1,
  subseed_strength: 0,
  seed_resize_from_h: -1,
  seed_resize_from_w: -1,
  sampler_name: null,
  scheduler: null,
  batch_size: 1,
  n_iter: 1,
  steps: 50,
  cfg_scale: 7.0,
  width: 512,
  height: 512,
  restore_faces: null,
  tiling: null,
  do_not_save_samples: false,
  do_not_save_grid: false,
  eta: null,
  denoising_strength: 0.75,
  override_settings: null,
  override_settings_restore_afterwards: true,
  disable_extra_networks: false,
  init_images: null,
  resize_mode: 0,
  mask: null,
  mask_blur_x: 4,
  mask_blur_y: 4,
  mask_blur: null,
  mask_round: true,
  inpainting_fill: 0,
  inpaint_full_res: true,
  inpaint_full_res_padding: 0,
  inpainting_mask_invert: 0,
  initial_noise_multiplier: null,
  force_task_id: null,
  sampler_index: 'Euler',
  include_init_images: false,
  script_name: null,
  script_args: [],
  send_images: true,
  save_images: false,
  alwayson_scripts: {},
  infotext: null,
  enable_hr: false,
}

const TRUE = new Set(['1', 'on', 't', 'true', 'y', 'yes'])
const FALSE = new Set(['0', 'off', 'f', 'false', 'n', 'no'])

function issue(
  version: PydanticVersion,
  loc: Array<string | number>,
  v1: [string, string],
  v2: [string, string],
  input: unknown,
): ValidationIssue {
  if (version === 1) return { loc, msg: v1[0], type: v1[1] }
  return { type: v2[1], loc, msg: v2[0], input, url: `https://errors.pydantic.dev/2.9/v/${v2[1]}` }
}

/** One value coerced like pydantic would, or the issue it raises. */
export function coerce(
  type: FieldType,
  value: unknown,
  loc: Array<string | number>,
  version: PydanticVersion,
): { ok: true; value: unknown } | { ok: false; issue: ValidationIssue } {
  if (value === null || type === 'any') return { ok: true, value }
  const fail = (v1: [string, string], v2: [string, string]) => ({ ok: false as const, issue: issue(version, loc, v1, v2, value) })
  switch (type) {
    case 'int': {
      if (typeof value === 'number' && Number.isFinite(value)) {
        if (Number.isInteger(value)) return { ok: true, value }
        if (version === 1) return { ok: true, value: Math.trunc(value) }
        return fail(['', ''], ['Input should be a valid integer, got a number with a fractional part', 'int_from_float'])
      }
      if (typeof value === 'boolean' && version === 1) return { ok: true, value: value ? 1 : 0 }
      if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return { ok: true, value: Number.parseInt(value, 10) }
      if (typeof value === 'string') {
        return fail(
          ['value is not a valid integer', 'type_error.integer'],
          ['Input should be a valid integer, unable to parse string as an integer', 'int_parsing'],
        )
      }
      return fail(['value is not a valid integer', 'type_error.integer'], ['Input should be a valid integer', 'int_type'])
    }
    case 'float': {
      if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value }
      if (typeof value === 'boolean' && version === 1) return { ok: true, value: value ? 1 : 0 }
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
        return { ok: true, value: Number(value) }
      if (typeof value === 'string') {
        return fail(
          ['value is not a valid float', 'type_error.float'],
          ['Input should be a valid number, unable to parse string as a number', 'float_parsing'],
        )
      }
      return fail(['value is not a valid float', 'type_error.float'], ['Input should be a valid number', 'float_type'])
    }
    case 'bool': {
      if (typeof value === 'boolean') return { ok: true, value }
      if (value === 0 || value === 1) return { ok: true, value: value === 1 }
      if (typeof value === 'string' && TRUE.has(value.toLowerCase())) return { ok: true, value: true }
      if (typeof value === 'string' && FALSE.has(value.toLowerCase())) return { ok: true, value: false }
      return fail(
        ['value could not be parsed to a boolean', 'type_error.bool'],
        ['Input should be a valid boolean, unable to interpret input', 'bool_parsing'],
      )
    }
    case 'str': {
      if (typeof value === 'string') return { ok: true, value }
      if (typeof value === 'number' && version === 1) return { ok: true, value: String(value) }
      return fail(['str type expected', 'type_error.str'], ['Input should be a valid string', 'string_type'])
    }
    case 'list':
      return Array.isArray(value)
        ? { ok: true, value }
        : fail(['value is not a valid list', 'type_error.list'], ['Input should be a valid list', 'list_type'])
    case 'dict':
      return value && typeof value === 'object' && !Array.isArray(value)
        ? { ok: true, value }
        : fail(['value is not a valid dict', 'type_error.dict'], ['Input should be a valid dictionary', 'dict_type'])
  }
}

export type Validated =
  { ok: true; values: Record<string, unknown>; sent: Set<string> } | { ok: false; detail: ValidationIssue[] }

/** Parses a request body like FastAPI: invalid JSON, a non-object, or wrongly typed fields are a 422 `{detail: [...]}`. */
export function validateBody(raw: string, fields: Record<string, FieldType>, version: PydanticVersion): Validated {
  let body: unknown
  try {
    body = JSON.parse(raw)
  } catch (e) {
    const message = (e as Error).message
    const pos = Number(/position (\d+)/.exec(message)?.[1] ?? 0)
    if (version === 1) {
      return {
        ok: false,
        detail: [
          { loc: ['body', pos], msg: 'Expecting value', type: 'value_error.jsondecode', ctx: { msg: 'Expecting value', pos } },
        ],
      }
    }
    return {
      ok: false,
      detail: [
        { type: 'json_invalid', loc: ['body', pos], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting value' } },
      ],
    }
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return {
      ok: false,
      detail: [
        version === 1
          ? { loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }
          : {
              type: 'model_attributes_type',
              loc: ['body'],
              msg: 'Input should be a valid dictionary or object to extract fields from',
              input: body,
            },
      ],
    }
  }
  const values: Record<string, unknown> = {}
  const sent = new Set<string>()
  const detail: ValidationIssue[] = []
  for (const [name, type] of Object.entries(fields)) {
    if (!(name in body)) {
      values[name] = DEFAULTS[name] ?? null
      continue
    }
    sent.add(name)
    const result = coerce(type, (body as Record<string, unknown>)[name], ['body', name], version)
    if (result.ok) values[name] = result.value
    else detail.push(result.issue)
  }
  return detail.length > 0 ? { ok: false, detail } : { ok: true, values, sent }
}
