import { posix } from 'node:path'
import { inpaintingFills, type ControlnetUnit, type Img2imgRequest, type SdModel } from './api.ts'
import {
  INPAINTING_FILL,
  PINNED_SETTINGS,
  moduleThresholds,
  type ControlnetUnitSettings,
  type SdwebuiSceneSettings,
} from './look-settings.ts'

// What goes over the wire to SD WebUI and how its names are matched: pure
// functions of their inputs, so each can be tested without a server.

/** A checkpoint title without its `[shorthash]` (the server adds it once the file is hashed). */
export function checkpointName(title: string): string {
  return title.replace(/\s+\[[0-9a-f]{8,64}\]$/i, '')
}

const stem = (name: string) => name.replace(/\.(safetensors|ckpt|pt|pth|bin|gguf)$/i, '')

/** The server's entry for a checkpoint named by a look (title, file name or model name; with or without hash). */
export function findCheckpoint(models: readonly SdModel[], wanted: string): SdModel | undefined {
  const name = checkpointName(wanted)
  return (
    models.find((m) => checkpointName(m.title) === name) ??
    models.find(
      (m) =>
        posix.basename(m.filename.replaceAll('\\', '/')) === name ||
        stem(checkpointName(m.title)) === stem(name) ||
        m.model_name === stem(name),
    )
  )
}

/** Whether `info.sd_model_name` (the file's stem) names this checkpoint. */
export function renderedWith(model: SdModel, infoName: string): boolean {
  const file = posix.basename(model.filename.replaceAll('\\', '/'))
  return infoName === stem(file) || infoName === model.model_name || infoName === stem(checkpointName(model.title))
}

/** A ControlNet model named without its hash, found in `name [hash]` form. */
export function findControlnetModel(list: readonly string[], wanted: string): string | undefined {
  const name = checkpointName(wanted).toLowerCase()
  return list.find((m) => m === wanted) ?? list.find((m) => checkpointName(m).toLowerCase() === name)
}

/** What one render needs, in the names this server uses. */
export interface Resolved {
  checkpoint: SdModel
  sampler: string
  scheduler: string
  units: ControlnetUnit[]
}

export interface PayloadInput {
  canvasPng: Buffer
  maskPng: Buffer
  work: { width: number; height: number }
  seed: number
  prompt: string
  negativePrompt: string
  denoise: number
  scene: SdwebuiSceneSettings
  resolved: Resolved
  taskId: string
}

/**
 * The img2img body, every field explicit. why each unusual value:
 * `inpaint_full_res: false` works on the whole picture (the API defaults to
 * "Only masked"); `inpainting_mask_invert: 0` because the mask we send is
 * already white = repaint; `override_settings_restore_afterwards: false`
 * keeps the checkpoint loaded (restoring it would make the server's options
 * say a model is loaded that is not); `save_images: false` leaves no files
 * on the server.
 */
export function img2imgPayload(input: PayloadInput): Img2imgRequest {
  const { scene, resolved, work } = input
  return {
    init_images: [input.canvasPng.toString('base64')],
    mask: input.maskPng.toString('base64'),
    resize_mode: 0,
    prompt: input.prompt,
    negative_prompt: input.negativePrompt,
    styles: [],
    seed: input.seed,
    subseed: -1,
    subseed_strength: 0,
    seed_resize_from_h: -1,
    seed_resize_from_w: -1,
    sampler_name: resolved.sampler,
    scheduler: resolved.scheduler,
    steps: scene.steps,
    cfg_scale: scene.cfg_scale,
    denoising_strength: input.denoise,
    width: work.width,
    height: work.height,
    batch_size: 1,
    n_iter: 1,
    restore_faces: false,
    tiling: false,
    mask_blur: scene.maskBlur,
    mask_blur_x: scene.maskBlur,
    mask_blur_y: scene.maskBlur,
    mask_round: true,
    inpainting_fill: inpaintingFills[INPAINTING_FILL],
    inpaint_full_res: false,
    inpaint_full_res_padding: 32,
    inpainting_mask_invert: 0,
    initial_noise_multiplier: 1,
    disable_extra_networks: false,
    do_not_save_samples: true,
    do_not_save_grid: true,
    save_images: false,
    send_images: true,
    include_init_images: false,
    script_args: [],
    override_settings: { sd_model_checkpoint: resolved.checkpoint.title, ...PINNED_SETTINGS },
    override_settings_restore_afterwards: false,
    force_task_id: input.taskId,
    alwayson_scripts: resolved.units.length > 0 ? { controlnet: { args: resolved.units } } : {},
  }
}

export function unitFor(
  settings: ControlnetUnitSettings,
  model: string,
  image: string,
  work: { width: number; height: number },
): ControlnetUnit {
  return {
    enabled: true,
    module: settings.module,
    model,
    weight: settings.weight,
    image,
    // why Just Resize: the image is already the work frame, so nothing is cropped or padded.
    resize_mode: 'Just Resize',
    low_vram: false,
    processor_res: Math.min(work.width, work.height),
    ...moduleThresholds(settings.module),
    guidance_start: 0,
    guidance_end: 1,
    pixel_perfect: true,
    control_mode: settings.control_mode,
    save_detected_map: false,
  }
}

/** A render id as it may appear in a task id. */
export function safeName(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 48)
}

/** An image the server answered, as bytes. */
export function decodeBase64Image(b64: string): Buffer {
  // why: some proxies and forks answer data URIs; api.py itself sends bare base64.
  const comma = b64.startsWith('data:') ? b64.indexOf(',') : -1
  return Buffer.from(comma >= 0 ? b64.slice(comma + 1) : b64, 'base64')
}
