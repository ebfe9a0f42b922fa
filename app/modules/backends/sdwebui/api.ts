import { z } from 'zod'

// SD WebUI's wire shapes, as AUTOMATIC1111's modules/api/api.py and
// models.py produce them (checked against v1.10 and Forge, which keeps the
// same API), plus the sd-webui-controlnet extension's unit and routes
// (scripts/api.py, internal_controlnet/args.py). Everything that crosses the
// wire is parsed with these; unknown extra fields are ignored.

// ---------------------------------------------------------------- requests

/** ControlNet's resize modes (scripts/enums.py ResizeMode values). */
export const controlnetResizeModes = ['Just Resize', 'Crop and Resize', 'Resize and Fill'] as const
/** ControlNet's control modes (scripts/enums.py ControlMode values). */
export const controlnetControlModes = ['Balanced', 'My prompt is more important', 'ControlNet is more important'] as const

/** One ControlNet unit as `alwayson_scripts.controlnet.args[i]` takes it (ControlNetUnit.from_dict). */
export const controlnetUnitSchema = z.object({
  enabled: z.boolean(),
  module: z.string().min(1),
  model: z.string().min(1),
  weight: z.number().min(0).max(2),
  /** Base64 PNG; without it the unit would silently read the img2img init image. */
  image: z.string().min(1),
  resize_mode: z.enum(controlnetResizeModes),
  low_vram: z.boolean(),
  processor_res: z.number().int(),
  threshold_a: z.number(),
  threshold_b: z.number(),
  guidance_start: z.number().min(0).max(1),
  guidance_end: z.number().min(0).max(1),
  pixel_perfect: z.boolean(),
  control_mode: z.enum(controlnetControlModes),
  /** false: the detected map is neither saved nor appended to the response's images. */
  save_detected_map: z.boolean(),
})
export type ControlnetUnit = z.infer<typeof controlnetUnitSchema>

/**
 * `inpainting_fill`: what the sampler starts from under the mask
 * (0 fill with the surrounding colour, 1 the original pixels, 2 latent
 * noise, 3 latent nothing).
 */
export const inpaintingFills = { fill: 0, original: 1, 'latent noise': 2, 'latent nothing': 3 } as const
export type InpaintingFill = keyof typeof inpaintingFills

/**
 * POST /sdapi/v1/img2img, every field we send. why all of them: the API's
 * defaults are not the UI's (steps 50, sampler "Euler", "Only masked"
 * inpainting, the server's own face restoration and tiling settings, the
 * previous checkpoint restored afterwards), so nothing is left to them.
 */
export const img2imgRequestSchema = z.object({
  init_images: z.array(z.string().min(1)).length(1),
  /** Base64 PNG, white = repaint (after `inpainting_mask_invert`). */
  mask: z.string().min(1),
  resize_mode: z.literal(0),
  prompt: z.string(),
  negative_prompt: z.string(),
  styles: z.array(z.string()),
  seed: z.number().int().min(0),
  subseed: z.literal(-1),
  subseed_strength: z.literal(0),
  seed_resize_from_h: z.literal(-1),
  seed_resize_from_w: z.literal(-1),
  sampler_name: z.string().min(1),
  scheduler: z.string().min(1),
  steps: z.number().int().min(1),
  cfg_scale: z.number(),
  denoising_strength: z.number().min(0).max(1),
  width: z.number().int().multipleOf(8),
  height: z.number().int().multipleOf(8),
  batch_size: z.literal(1),
  n_iter: z.literal(1),
  restore_faces: z.literal(false),
  tiling: z.literal(false),
  mask_blur: z.number().int().min(0),
  mask_blur_x: z.number().int().min(0),
  mask_blur_y: z.number().int().min(0),
  mask_round: z.boolean(),
  inpainting_fill: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  inpaint_full_res: z.boolean(),
  inpaint_full_res_padding: z.number().int().min(0),
  inpainting_mask_invert: z.union([z.literal(0), z.literal(1)]),
  initial_noise_multiplier: z.number(),
  disable_extra_networks: z.literal(false),
  do_not_save_samples: z.literal(true),
  do_not_save_grid: z.literal(true),
  save_images: z.literal(false),
  send_images: z.literal(true),
  include_init_images: z.literal(false),
  script_args: z.array(z.unknown()).length(0),
  override_settings: z
    .object({ sd_model_checkpoint: z.string().min(1) })
    .catchall(z.union([z.string(), z.number(), z.boolean()])),
  override_settings_restore_afterwards: z.literal(false),
  /** Our id for the job: the server's log and its /internal/progress name it. */
  force_task_id: z.string().min(1),
  alwayson_scripts: z.record(z.string(), z.object({ args: z.array(z.unknown()) })),
})
export type Img2imgRequest = z.infer<typeof img2imgRequestSchema>

// ---------------------------------------------------------------- responses

/**
 * `info` of an img2img/txt2img answer: a JSON string (Processed.js()).
 * `index_of_first_image` skips a grid; ControlNet may append detected maps
 * after the results.
 */
export const processedInfoSchema = z.object({
  seed: z.number().optional(),
  all_seeds: z.array(z.number()).optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  sampler_name: z.string().nullable().optional(),
  steps: z.number().optional(),
  denoising_strength: z.number().nullable().optional(),
  sd_model_name: z.string().nullable().optional(),
  sd_model_hash: z.string().nullable().optional(),
  index_of_first_image: z.number().int().min(0).default(0),
  extra_generation_params: z.record(z.string(), z.unknown()).default({}),
  infotexts: z.array(z.string()).default([]),
  job_timestamp: z.string().optional(),
  version: z.string().nullable().optional(),
})
export type ProcessedInfo = z.infer<typeof processedInfoSchema>

/** POST /sdapi/v1/img2img and /txt2img → 200 (models.ImageToImageResponse). */
export const generationResponseSchema = z.object({
  images: z.array(z.string()).nullable().default(null),
  parameters: z.record(z.string(), z.unknown()).default({}),
  info: z.string(),
})

/** shared.state.dict(), inside GET /sdapi/v1/progress. */
export const progressStateSchema = z.object({
  skipped: z.boolean().default(false),
  interrupted: z.boolean().default(false),
  stopping_generation: z.boolean().optional(),
  job: z.string().default(''),
  job_count: z.number().default(0),
  job_timestamp: z.string().default(''),
  job_no: z.number().default(0),
  sampling_step: z.number().default(0),
  sampling_steps: z.number().default(0),
})

/** GET /sdapi/v1/progress (models.ProgressResponse): global to the server, not per request. */
export const progressSchema = z.object({
  progress: z.number(),
  eta_relative: z.number(),
  state: progressStateSchema,
  current_image: z.string().nullable().optional(),
  textinfo: z.string().nullable().optional(),
})
export type Progress = z.infer<typeof progressSchema>

/** GET /sdapi/v1/options: every setting; we read the loaded checkpoint's title. */
export const optionsSchema = z.object({ sd_model_checkpoint: z.string().nullable().optional() }).catchall(z.unknown())
export type Options = z.infer<typeof optionsSchema>

/** GET /sdapi/v1/sd-models (models.SDModelItem). `title` is `name [shorthash]` once hashed. */
export const sdModelSchema = z.object({
  title: z.string().min(1),
  model_name: z.string(),
  hash: z.string().nullable().optional(),
  sha256: z.string().nullable().optional(),
  filename: z.string(),
  config: z.string().nullable().optional(),
})
export type SdModel = z.infer<typeof sdModelSchema>

/** GET /sdapi/v1/samplers (models.SamplerItem). */
export const samplerSchema = z.object({
  name: z.string(),
  aliases: z.array(z.string()).default([]),
  options: z.record(z.string(), z.unknown()).default({}),
})
export type Sampler = z.infer<typeof samplerSchema>

/** GET /sdapi/v1/schedulers (models.SchedulerItem; v1.9+). */
export const schedulerSchema = z.object({
  name: z.string(),
  label: z.string(),
  aliases: z.array(z.string()).nullable().optional(),
})
export type Scheduler = z.infer<typeof schedulerSchema>

/** GET /controlnet/model_list: names as `name [hash]`. */
export const controlnetModelListSchema = z.object({ model_list: z.array(z.string()) })
/** GET /controlnet/module_list: preprocessor names. */
export const controlnetModuleListSchema = z.object({ module_list: z.array(z.string()) })

// ---------------------------------------------------------------- errors

/**
 * FastAPI's own 422 for a body that does not fit the pydantic model:
 * pydantic 1 (A1111) items are `{loc, msg, type}`, pydantic 2 (newer forks)
 * add `input` and `url`.
 */
export const validationErrorSchema = z.object({
  detail: z.array(
    z.object({
      loc: z.array(z.union([z.string(), z.number()])).default([]),
      msg: z.string(),
      type: z.string().default(''),
    }),
  ),
})
export type ValidationErrorBody = z.infer<typeof validationErrorSchema>

/**
 * What api.py's exception handler answers for everything else:
 * `{error: type(e).__name__, detail, body, errors: str(e)}`, the status taken
 * from the exception (HTTPException) or 500.
 */
export const apiErrorSchema = z.object({
  error: z.string(),
  detail: z.unknown().optional(),
  body: z.unknown().optional(),
  errors: z.unknown().optional(),
})
export type ApiErrorBody = z.infer<typeof apiErrorSchema>
