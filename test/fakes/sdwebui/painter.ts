// What the fake "diffuses": deterministic pixels built with sharp from the
// init image, the mask and the seed, following the steps A1111's img2img takes
// (modules/processing.py StableDiffusionProcessingImg2Img.init and
// process_images_inner):
//
// 1. the init image is resized to width × height (resize_mode 0);
// 2. the mask is inverted if `inpainting_mask_invert`, blurred by
//    mask_blur_x / mask_blur_y (a Gaussian of that sigma), and doubled for the
//    overlay (np.clip(mask * 2, 0, 255));
// 3. under the (rounded) latent mask the sampler starts from: 0 fill = the
//    mean colour of the kept area, 1 original = the init pixels, 2 latent
//    noise = seeded noise, 3 latent nothing = mid grey;
// 4. "sampling" moves those pixels toward a scene tint that depends on the
//    checkpoint, the prompt and the seed, by denoising_strength × the share of
//    steps done (an interrupted job returns a half-way image, like A1111);
// 5. the overlay puts the original pixels back wherever the overlay mask is 0.
import { createHash } from 'node:crypto'
import sharp from 'sharp'

export interface Rgb8 {
  data: Buffer
  width: number
  height: number
}

export interface PaintParams {
  width: number
  height: number
  seed: number
  prompt: string
  checkpoint: string
  denoise: number
  /** Share of the sampling steps done, 0..1. */
  done: number
  mask?: {
    png: Buffer
    invert: boolean
    blurX: number
    blurY: number
    round: boolean
    fill: number
  }
}

/** 32-bit xorshift from a seed: the fake's only randomness. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 2 ** 32
  }
}

/** Two colours for the scene's top and bottom, from what would steer a real sampler. */
export function sceneTint(
  checkpoint: string,
  prompt: string,
  seed: number,
): { top: [number, number, number]; bottom: [number, number, number] } {
  const h = createHash('sha256').update(`${checkpoint}\u0000${prompt}\u0000${seed}`).digest()
  return { top: [h[0], h[1], h[2]], bottom: [h[3], h[4], h[5]] }
}

export async function decodeRgb(bytes: Buffer, width: number, height: number): Promise<Rgb8> {
  const { data, info } = await sharp(bytes)
    .toColourspace('srgb')
    .flatten({ background: { r: 0, g: 0, b: 0 } })
    .resize(width, height, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height }
}

/** The mask as one channel at width × height: its alpha if that varies, else its luminance (create_binary_mask). */
async function maskChannel(png: Buffer, width: number, height: number): Promise<Buffer> {
  const meta = await sharp(png).metadata()
  let pick = sharp(png)
  if (meta.hasAlpha) {
    const alpha = (await sharp(png).stats()).channels.at(-1)!
    pick = alpha.min !== 255 ? pick.extractChannel((meta.channels! - 1) as 1 | 3) : pick.removeAlpha().greyscale()
  } else {
    pick = pick.greyscale()
  }
  return pick.resize(width, height, { fit: 'fill' }).extractChannel(0).raw().toBuffer()
}

async function blur(mask: Buffer, width: number, height: number, sigmaX: number, sigmaY: number): Promise<Buffer> {
  const sigma = Math.max(sigmaX, sigmaY)
  if (sigma <= 0) return mask
  return sharp(mask, { raw: { width, height, channels: 1 } })
    .blur(Math.max(0.3, sigma))
    .extractChannel(0)
    .raw()
    .toBuffer()
}

/**
 * Seeded noise as it looks once decoded: a coarse field of muted colours,
 * smooth at pixel scale. why not per-pixel noise: the sampler denoises the latent,
 * so a real result never keeps pixel-level noise, only its colour drift.
 */
async function latentNoise(width: number, height: number, random: () => number): Promise<Buffer> {
  const cells = Buffer.alloc(8 * 8 * 3)
  for (let i = 0; i < cells.length; i++) cells[i] = 96 + Math.floor(random() * 64)
  return sharp(cells, { raw: { width: 8, height: 8, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer()
}

/** The generated RGB pixels (width × height), as img2img (with a mask: inpainting) would return them. */
export async function paint(init: Rgb8, params: PaintParams): Promise<Buffer> {
  const { width, height } = params
  const n = width * height
  const tint = sceneTint(params.checkpoint, params.prompt, params.seed)
  const random = seededRandom(params.seed ^ 0x5bd1e995)
  const strength = Math.max(0, Math.min(1, params.denoise)) * Math.max(0, Math.min(1, params.done))
  const out = Buffer.alloc(n * 3)

  let overlay: Buffer | undefined
  let latent: Float32Array | undefined
  const start = Buffer.from(init.data)
  if (params.mask) {
    const m = params.mask
    let channel = await maskChannel(m.png, width, height)
    if (m.invert) channel = Buffer.from(channel.map((v) => 255 - v))
    const blurred = await blur(channel, width, height, m.blurX, m.blurY)
    overlay = Buffer.from(blurred.map((v) => Math.min(255, v * 2)))
    latent = new Float32Array(n)
    for (let p = 0; p < n; p++) latent[p] = m.round ? Math.round(blurred[p] / 255) : blurred[p] / 255
    if (m.fill === 0) {
      const sum = [0, 0, 0]
      let count = 0
      for (let p = 0; p < n; p++) {
        if (latent[p] > 0) continue
        for (let c = 0; c < 3; c++) sum[c] += init.data[p * 3 + c]
        count++
      }
      const mean = sum.map((s) => (count ? Math.round(s / count) : 127))
      for (let p = 0; p < n; p++) if (latent[p] > 0) for (let c = 0; c < 3; c++) start[p * 3 + c] = mean[c]
    } else if (m.fill === 2) {
      const noise = await latentNoise(width, height, random)
      for (let p = 0; p < n; p++) if (latent[p] > 0) for (let c = 0; c < 3; c++) start[p * 3 + c] = noise[p * 3 + c]
    } else if (m.fill === 3) {
      for (let p = 0; p < n; p++) if (latent[p] > 0) start.fill(127, p * 3, p * 3 + 3)
    }
  }

  for (let y = 0; y < height; y++) {
    const t = height > 1 ? y / (height - 1) : 0
    for (let x = 0; x < width; x++) {
      const p = y * width + x
      const inside = latent ? latent[p] : 1
      for (let c = 0; c < 3; c++) {
        const o = p * 3 + c
        const target = tint.top[c] + (tint.bottom[c] - tint.top[c]) * t
        const generated = start[o] + (target - start[o]) * strength
        const sampled = init.data[o] + (generated - init.data[o]) * inside
        const a = overlay ? overlay[p] / 255 : 1
        out[o] = Math.round(init.data[o] + (sampled - init.data[o]) * a)
      }
    }
  }
  return out
}

export async function encodePng(rgb: Buffer, width: number, height: number): Promise<string> {
  const png = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 3 })
    .toBuffer()
  return png.toString('base64')
}

/** A stand-in for a preprocessor's detected map (what ControlNet appends unless save_detected_map is false). */
export async function detectedMap(init: Rgb8): Promise<string> {
  const png = await sharp(init.data, { raw: { width: init.width, height: init.height, channels: 3 } })
    .greyscale()
    .normalise()
    .png()
    .toBuffer()
  return png.toString('base64')
}
