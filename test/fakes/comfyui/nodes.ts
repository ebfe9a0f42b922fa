// The node classes the fake knows, with the inputs, return types and
// validation hooks of ComfyUI's own (nodes.py, comfy_extras/nodes_canny.py),
// and a tiny pixel interpreter instead of diffusion: LoadImage decodes the
// upload (MASK = 1 − alpha, or a 64×64 zero mask without alpha, as PIL does
// there), the inpaint encoders crop to multiples of 8 the way the VAE does,
// and KSampler keeps every unmasked pixel and paints the masked ones with a
// seed-dependent gradient, blended by `denoise`.
import sharp from 'sharp'

export interface FakeImage {
  kind: 'IMAGE'
  width: number
  height: number
  /** RGB, 8-bit, row-major. */
  rgb: Uint8Array
}

export interface FakeMask {
  kind: 'MASK'
  width: number
  height: number
  /** 0..1, 1 = repaint. */
  data: Float32Array
}

export interface FakeLatent {
  kind: 'LATENT'
  image: FakeImage
  noiseMask?: FakeMask
}

export interface ModelFiles {
  checkpoints: string[]
  loras: string[]
  controlnet: string[]
}

/** What validation can see of the server: model folders and the input directory. */
export interface NodeEnv {
  models: ModelFiles
  /** Files directly in the input directory (LoadImage's list; subfolders are not listed, as in ComfyUI). */
  inputFiles(): string[]
  inputExists(path: string): boolean
}

export interface ExecContext {
  env: NodeEnv
  promptId: string
  nodeId: string
  readInput(path: string): Buffer
  saveOutput(prefix: string, png: Buffer): { filename: string; subfolder: string; type: 'output' }
  /** One sampler step done: sends `progress`, waits the step time, throws if interrupted. */
  step(value: number, max: number): Promise<void>
  loadCheckpoint(name: string): Promise<void>
}

export interface InputDef {
  /** A link type ('IMAGE'), a primitive ('INT', 'FLOAT', 'STRING', 'BOOLEAN') or a combo (list of values). */
  type: string | ((env: NodeEnv) => string[])
  min?: number
  max?: number
}

export interface NodeClass {
  required: Record<string, InputDef>
  optional?: Record<string, InputDef>
  returns: string[]
  outputNode?: boolean
  /** VALIDATE_INPUTS: the inputs it takes (their combo and range checks are skipped, as in ComfyUI) and the check. */
  validateInputs?: { inputs: string[]; check: (values: Record<string, unknown>, env: NodeEnv) => true | string }
  execute(inputs: Record<string, unknown>, ctx: ExecContext): Promise<{ result: unknown[]; ui?: Record<string, unknown> }>
}

// Names as in comfy/samplers.py (KSAMPLER_NAMES + ddim/uni_pc, SCHEDULER_HANDLERS).
export const SAMPLERS = [
  'euler',
  'euler_cfg_pp',
  'euler_ancestral',
  'euler_ancestral_cfg_pp',
  'heun',
  'heunpp2',
  'dpm_2',
  'dpm_2_ancestral',
  'lms',
  'dpm_fast',
  'dpm_adaptive',
  'dpmpp_2s_ancestral',
  'dpmpp_2s_ancestral_cfg_pp',
  'dpmpp_sde',
  'dpmpp_sde_gpu',
  'dpmpp_2m',
  'dpmpp_2m_cfg_pp',
  'dpmpp_2m_sde',
  'dpmpp_2m_sde_gpu',
  'dpmpp_2m_sde_heun',
  'dpmpp_2m_sde_heun_gpu',
  'dpmpp_3m_sde',
  'dpmpp_3m_sde_gpu',
  'ddpm',
  'lcm',
  'ipndm',
  'ipndm_v',
  'deis',
  'res_multistep',
  'res_multistep_cfg_pp',
  'res_multistep_ancestral',
  'res_multistep_ancestral_cfg_pp',
  'gradient_estimation',
  'gradient_estimation_cfg_pp',
  'er_sde',
  'seeds_2',
  'seeds_3',
  'sa_solver',
  'sa_solver_pece',
  'ddim',
  'uni_pc',
  'uni_pc_bh2',
]
export const SCHEDULERS = [
  'simple',
  'sgm_uniform',
  'karras',
  'exponential',
  'ddim_uniform',
  'beta',
  'normal',
  'linear_quadratic',
  'kl_optimal',
]
const MAX_RESOLUTION = 16384
const VAE_DOWNSCALE = 8

// ---------------------------------------------------------------- pixels

function maskOf(width: number, height: number, fill = 0): FakeMask {
  return { kind: 'MASK', width, height, data: new Float32Array(width * height).fill(fill) }
}

/** Bilinear resize with half-pixel centres (torch.nn.functional.interpolate, align_corners=False). */
export function resizeMask(mask: FakeMask, width: number, height: number): FakeMask {
  if (mask.width === width && mask.height === height) return mask
  const out = maskOf(width, height)
  const sx = mask.width / width
  const sy = mask.height / height
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5)
    const y0 = Math.min(mask.height - 1, Math.floor(fy))
    const y1 = Math.min(mask.height - 1, y0 + 1)
    const wy = fy - y0
    for (let x = 0; x < width; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5)
      const x0 = Math.min(mask.width - 1, Math.floor(fx))
      const x1 = Math.min(mask.width - 1, x0 + 1)
      const wx = fx - x0
      const d = mask.data
      const top = d[y0 * mask.width + x0] * (1 - wx) + d[y0 * mask.width + x1] * wx
      const bottom = d[y1 * mask.width + x0] * (1 - wx) + d[y1 * mask.width + x1] * wx
      out.data[y * width + x] = top * (1 - wy) + bottom * wy
    }
  }
  return out
}

/** What the VAE does to a size that is not a multiple of 8: a centred crop (comfy/sd.py vae_encode_crop_pixels). */
function cropToLatentGrid(image: FakeImage, mask?: FakeMask): { image: FakeImage; mask?: FakeMask } {
  const width = Math.floor(image.width / VAE_DOWNSCALE) * VAE_DOWNSCALE
  const height = Math.floor(image.height / VAE_DOWNSCALE) * VAE_DOWNSCALE
  if (width === image.width && height === image.height) return { image, mask }
  const top = Math.floor((image.height % VAE_DOWNSCALE) / 2)
  const left = Math.floor((image.width % VAE_DOWNSCALE) / 2)
  const rgb = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) {
    const from = ((y + top) * image.width + left) * 3
    rgb.set(image.rgb.subarray(from, from + width * 3), y * width * 3)
  }
  let cropped: FakeMask | undefined
  if (mask) {
    cropped = maskOf(width, height)
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) cropped.data[y * width + x] = mask.data[(y + top) * mask.width + x + left]
    }
  }
  return { image: { kind: 'IMAGE', width, height, rgb }, mask: cropped }
}

function roundMask(mask: FakeMask): FakeMask {
  return { ...mask, data: mask.data.map((v) => Math.round(v)) }
}

/** Box dilation of a 0/1 mask by `size` px (VAEEncodeForInpaint's grow_mask_by). */
function growMask(mask: FakeMask, size: number): FakeMask {
  if (size <= 0) return mask
  const out = maskOf(mask.width, mask.height)
  const pad = Math.ceil((size - 1) / 2)
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      let hit = 0
      for (let dy = -pad; dy < size - pad && !hit; dy++) {
        const yy = y + dy
        if (yy < 0 || yy >= mask.height) continue
        for (let dx = -pad; dx < size - pad; dx++) {
          const xx = x + dx
          if (xx >= 0 && xx < mask.width && mask.data[yy * mask.width + xx] >= 0.5) {
            hit = 1
            break
          }
        }
      }
      out.data[y * mask.width + x] = hit
    }
  }
  return out
}

/** splitmix32: a seed → a stream of 32-bit values. */
function seededStream(seed: number): () => number {
  let state = (Math.floor(seed) ^ Math.floor(seed / 2 ** 32)) >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

/** The "generated" background: a two-colour linear gradient whose colours and angle come from the seed. */
export function seedGradient(seed: number, width: number, height: number): Uint8Array {
  const next = seededStream(seed)
  const a = [next() & 255, next() & 255, next() & 255]
  const b = [next() & 255, next() & 255, next() & 255]
  const angle = ((next() % 360) * Math.PI) / 180
  const cos = Math.cos(angle)
  const sin = Math.sin(angle)
  const span = Math.abs(cos) * width + Math.abs(sin) * height || 1
  const origin = Math.min(0, cos * width) + Math.min(0, sin * height)
  const out = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x * cos + y * sin - origin) / span
      const i = (y * width + x) * 3
      for (let c = 0; c < 3; c++) out[i + c] = Math.round(a[c] + (b[c] - a[c]) * t)
    }
  }
  return out
}

async function decodeUpload(bytes: Buffer): Promise<{ image: FakeImage; alpha?: Uint8Array }> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true })
  const { width, height, channels } = info
  const rgb = new Uint8Array(width * height * 3)
  const hasAlpha = channels === 2 || channels === 4
  const alpha = hasAlpha ? new Uint8Array(width * height) : undefined
  for (let p = 0; p < width * height; p++) {
    const i = p * channels
    if (channels <= 2) {
      rgb[p * 3] = rgb[p * 3 + 1] = rgb[p * 3 + 2] = data[i]
    } else {
      rgb[p * 3] = data[i]
      rgb[p * 3 + 1] = data[i + 1]
      rgb[p * 3 + 2] = data[i + 2]
    }
    if (alpha) alpha[p] = data[i + channels - 1]
  }
  return { image: { kind: 'IMAGE', width, height, rgb }, alpha }
}

// ---------------------------------------------------------------- classes

const combo = (list: (env: NodeEnv) => string[]): InputDef => ({ type: list })
const fixed = (values: string[]): InputDef => ({ type: () => values })
const link = (type: string): InputDef => ({ type })
const float = (min: number, max: number): InputDef => ({ type: 'FLOAT', min, max })
const int = (min: number, max: number): InputDef => ({ type: 'INT', min, max })

const loadImageCheck: NodeClass['validateInputs'] = {
  inputs: ['image'],
  check: (values, env) => (env.inputExists(String(values.image)) ? true : `Invalid image file: ${String(values.image)}`),
}

function model(checkpoint: string, loras: string[] = []) {
  return { kind: 'MODEL', checkpoint, loras }
}

export const NODE_CLASSES: Record<string, NodeClass> = {
  CheckpointLoaderSimple: {
    required: { ckpt_name: combo((env) => env.models.checkpoints) },
    returns: ['MODEL', 'CLIP', 'VAE'],
    async execute(inputs, ctx) {
      const name = String(inputs.ckpt_name)
      await ctx.loadCheckpoint(name)
      return { result: [model(name), { kind: 'CLIP', checkpoint: name }, { kind: 'VAE', checkpoint: name }] }
    },
  },
  LoraLoader: {
    required: {
      model: link('MODEL'),
      clip: link('CLIP'),
      lora_name: combo((env) => env.models.loras),
      strength_model: float(-100, 100),
      strength_clip: float(-100, 100),
    },
    returns: ['MODEL', 'CLIP'],
    async execute(inputs) {
      const base = inputs.model as { checkpoint: string; loras: string[] }
      return { result: [model(base.checkpoint, [...base.loras, String(inputs.lora_name)]), inputs.clip] }
    },
  },
  CLIPTextEncode: {
    required: { text: { type: 'STRING' }, clip: link('CLIP') },
    returns: ['CONDITIONING'],
    async execute(inputs) {
      return { result: [{ kind: 'CONDITIONING', text: String(inputs.text), controls: [] }] }
    },
  },
  LoadImage: {
    required: { image: combo((env) => env.inputFiles()) },
    returns: ['IMAGE', 'MASK'],
    validateInputs: loadImageCheck,
    async execute(inputs, ctx) {
      const { image, alpha } = await decodeUpload(ctx.readInput(String(inputs.image)))
      let mask = maskOf(64, 64)
      if (alpha) {
        mask = maskOf(image.width, image.height)
        for (let p = 0; p < alpha.length; p++) mask.data[p] = 1 - alpha[p] / 255
      }
      return { result: [image, mask] }
    },
  },
  LoadImageMask: {
    required: { image: combo((env) => env.inputFiles()), channel: fixed(['alpha', 'red', 'green', 'blue']) },
    returns: ['MASK'],
    validateInputs: loadImageCheck,
    async execute(inputs, ctx) {
      const { image, alpha } = await decodeUpload(ctx.readInput(String(inputs.image)))
      const channel = String(inputs.channel)
      const mask = maskOf(image.width, image.height)
      for (let p = 0; p < image.width * image.height; p++) {
        if (channel === 'alpha') mask.data[p] = 1 - (alpha ? alpha[p] : 255) / 255
        else mask.data[p] = image.rgb[p * 3 + ['red', 'green', 'blue'].indexOf(channel)] / 255
      }
      return { result: [mask] }
    },
  },
  ImageScale: {
    required: {
      image: link('IMAGE'),
      upscale_method: fixed(['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos']),
      width: int(0, MAX_RESOLUTION),
      height: int(0, MAX_RESOLUTION),
      crop: fixed(['disabled', 'center']),
    },
    returns: ['IMAGE'],
    async execute(inputs) {
      const image = inputs.image as FakeImage
      let width = Number(inputs.width)
      let height = Number(inputs.height)
      if (width === 0 && height === 0) return { result: [image] }
      if (width === 0) width = Math.max(1, Math.round((image.width * height) / image.height))
      if (height === 0) height = Math.max(1, Math.round((image.height * width) / image.width))
      const { data } = await sharp(image.rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
        .resize(width, height, { fit: inputs.crop === 'center' ? 'cover' : 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true })
      return { result: [{ kind: 'IMAGE', width, height, rgb: new Uint8Array(data) }] }
    },
  },
  VAEEncode: {
    required: { pixels: link('IMAGE'), vae: link('VAE') },
    returns: ['LATENT'],
    async execute(inputs) {
      return { result: [{ kind: 'LATENT', image: cropToLatentGrid(inputs.pixels as FakeImage).image }] }
    },
  },
  VAEEncodeForInpaint: {
    required: { pixels: link('IMAGE'), vae: link('VAE'), mask: link('MASK'), grow_mask_by: int(0, 64) },
    returns: ['LATENT'],
    async execute(inputs) {
      const pixels = inputs.pixels as FakeImage
      const full = resizeMask(inputs.mask as FakeMask, pixels.width, pixels.height)
      const { image, mask } = cropToLatentGrid(pixels, full)
      const rounded = roundMask(mask!)
      // Masked pixels become mid grey before encoding: with denoise < 1 the grey shows through.
      const rgb = new Uint8Array(image.rgb)
      for (let p = 0; p < rounded.data.length; p++) {
        if (rounded.data[p] >= 0.5) rgb[p * 3] = rgb[p * 3 + 1] = rgb[p * 3 + 2] = 128
      }
      const noiseMask = growMask(rounded, Number(inputs.grow_mask_by))
      return { result: [{ kind: 'LATENT', image: { ...image, rgb }, noiseMask }] }
    },
  },
  InpaintModelConditioning: {
    required: {
      positive: link('CONDITIONING'),
      negative: link('CONDITIONING'),
      vae: link('VAE'),
      pixels: link('IMAGE'),
      mask: link('MASK'),
      noise_mask: { type: 'BOOLEAN' },
    },
    returns: ['CONDITIONING', 'CONDITIONING', 'LATENT'],
    async execute(inputs) {
      const pixels = inputs.pixels as FakeImage
      const full = resizeMask(inputs.mask as FakeMask, pixels.width, pixels.height)
      const { image, mask } = cropToLatentGrid(pixels, full)
      const latent: FakeLatent = { kind: 'LATENT', image, noiseMask: inputs.noise_mask ? mask : undefined }
      return { result: [inputs.positive, inputs.negative, latent] }
    },
  },
  SetLatentNoiseMask: {
    required: { samples: link('LATENT'), mask: link('MASK') },
    returns: ['LATENT'],
    async execute(inputs) {
      const samples = inputs.samples as FakeLatent
      return {
        result: [{ ...samples, noiseMask: resizeMask(inputs.mask as FakeMask, samples.image.width, samples.image.height) }],
      }
    },
  },
  KSampler: {
    required: {
      model: link('MODEL'),
      seed: int(0, 0xffffffffffffffff),
      steps: int(1, 10000),
      cfg: float(0, 100),
      sampler_name: fixed(SAMPLERS),
      scheduler: fixed(SCHEDULERS),
      positive: link('CONDITIONING'),
      negative: link('CONDITIONING'),
      latent_image: link('LATENT'),
      denoise: float(0, 1),
    },
    returns: ['LATENT'],
    async execute(inputs, ctx) {
      const latent = inputs.latent_image as FakeLatent
      const steps = Number(inputs.steps)
      for (let i = 1; i <= steps; i++) await ctx.step(i, steps)
      const { width, height, rgb } = latent.image
      const gradient = seedGradient(Number(inputs.seed), width, height)
      const mask = latent.noiseMask ? resizeMask(latent.noiseMask, width, height) : undefined
      const denoise = Number(inputs.denoise)
      const out = new Uint8Array(rgb.length)
      for (let p = 0; p < width * height; p++) {
        const w = (mask ? mask.data[p] : 1) * denoise
        for (let c = 0; c < 3; c++) {
          const i = p * 3 + c
          out[i] = w === 0 ? rgb[i] : Math.round(rgb[i] * (1 - w) + gradient[i] * w)
        }
      }
      return { result: [{ kind: 'LATENT', image: { kind: 'IMAGE', width, height, rgb: out } }] }
    },
  },
  VAEDecode: {
    required: { samples: link('LATENT'), vae: link('VAE') },
    returns: ['IMAGE'],
    async execute(inputs) {
      return { result: [(inputs.samples as FakeLatent).image] }
    },
  },
  SaveImage: {
    required: { images: link('IMAGE'), filename_prefix: { type: 'STRING' } },
    returns: [],
    outputNode: true,
    async execute(inputs, ctx) {
      const image = inputs.images as FakeImage
      const png = await sharp(image.rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
        .png({ compressionLevel: 1 })
        .toBuffer()
      return { result: [], ui: { images: [ctx.saveOutput(String(inputs.filename_prefix), png)] } }
    },
  },
  Canny: {
    required: { image: link('IMAGE'), low_threshold: float(0.01, 0.99), high_threshold: float(0.01, 0.99) },
    returns: ['IMAGE'],
    async execute(inputs) {
      return { result: [inputs.image] }
    },
  },
  ControlNetLoader: {
    required: { control_net_name: combo((env) => env.models.controlnet) },
    returns: ['CONTROL_NET'],
    async execute(inputs) {
      return { result: [{ kind: 'CONTROL_NET', name: String(inputs.control_net_name) }] }
    },
  },
  ControlNetApplyAdvanced: {
    required: {
      positive: link('CONDITIONING'),
      negative: link('CONDITIONING'),
      control_net: link('CONTROL_NET'),
      image: link('IMAGE'),
      strength: float(0, 10),
      start_percent: float(0, 1),
      end_percent: float(0, 1),
    },
    optional: { vae: link('VAE') },
    returns: ['CONDITIONING', 'CONDITIONING'],
    async execute(inputs) {
      const name = (inputs.control_net as { name: string }).name
      const withControl = (c: unknown) => {
        const cond = c as { text: string; controls: string[] }
        return { ...cond, controls: [...cond.controls, name] }
      }
      return { result: [withControl(inputs.positive), withControl(inputs.negative)] }
    },
  },
}
