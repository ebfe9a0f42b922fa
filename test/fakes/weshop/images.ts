// The fake's "generation": deterministic pictures made with sharp, seeded by
// the run's params and the source image, so the same run gives the same
// bytes and a test can tell which parts were kept.
// - aimodel / aiproduct keep the protected region's pixels exactly (the
//   custom mask's opaque pixels, or what the fake's segmenter finds) and
//   paint everything else with a seeded backdrop; the frame is the source's.
// - virtualtryon draws a new picture (a figure wearing the garment, shrunk
//   onto its torso) at the requested aspect ratio: the geometry changes.
// - aipose shifts the whole photo a little: the pose "changed".
import { createHash } from 'node:crypto'
import sharp from 'sharp'

export interface Rgb {
  data: Buffer
  width: number
  height: number
}

/** mulberry32: small, fast, good enough for test pictures. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function seedOf(...parts: Array<string | Buffer>): number {
  const h = createHash('sha256')
  for (const p of parts) h.update(p).update('\u0000')
  return h.digest().readUInt32LE(0)
}

export async function decodeRgb(bytes: Buffer): Promise<Rgb> {
  const { data, info } = await sharp(bytes)
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height }
}

/** The alpha of a custom mask PNG (opaque = protected), single channel. */
export async function decodeMaskAlpha(bytes: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(bytes).ensureAlpha().extractChannel(3).raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height }
}

/**
 * The fake segmenter: whatever differs clearly from the photo's border colour
 * (median of the outermost pixels). Good for product shots on a plain
 * backdrop, which is what the tests send; 255 = protected.
 */
export function segment(image: Rgb): Buffer {
  const { data, width, height } = image
  const border: number[][] = [[], [], []]
  const push = (x: number, y: number) => {
    const i = (y * width + x) * 3
    for (let c = 0; c < 3; c++) border[c].push(data[i + c])
  }
  for (let x = 0; x < width; x++) {
    push(x, 0)
    push(x, height - 1)
  }
  for (let y = 0; y < height; y++) {
    push(0, y)
    push(width - 1, y)
  }
  const median = border.map((values) => values.sort((a, b) => a - b)[values.length >> 1])
  const mask = Buffer.alloc(width * height)
  for (let p = 0; p < width * height; p++) {
    const dr = data[p * 3] - median[0]
    const dg = data[p * 3 + 1] - median[1]
    const db = data[p * 3 + 2] - median[2]
    if (dr * dr + dg * dg + db * db > 40 * 40) mask[p] = 255
  }
  return mask
}

/** A seeded backdrop: a vertical gradient between two colours with soft diagonal bands. */
export function backdrop(width: number, height: number, seed: number): Buffer {
  const r = rng(seed)
  const top = [0, 1, 2].map(() => 60 + Math.floor(r() * 180))
  const bottom = [0, 1, 2].map(() => 30 + Math.floor(r() * 160))
  const period = 24 + r() * 64
  const out = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) {
    const t = height > 1 ? y / (height - 1) : 0
    for (let x = 0; x < width; x++) {
      const band = 12 * Math.sin(((x + y) / period) * Math.PI * 2)
      const i = (y * width + x) * 3
      for (let c = 0; c < 3; c++) out[i + c] = Math.max(0, Math.min(255, Math.round(top[c] * (1 - t) + bottom[c] * t + band)))
    }
  }
  return out
}

/** aimodel / aiproduct: the protected pixels kept exactly, the rest repainted. */
export function keepAndRepaint(source: Rgb, keep: Buffer, seed: number): Buffer {
  const out = backdrop(source.width, source.height, seed)
  for (let p = 0; p < source.width * source.height; p++) {
    const a = keep[p] / 255
    if (a <= 0) continue
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(source.data[p * 3 + c] * a + out[p * 3 + c] * (1 - a))
  }
  return out
}

/** virtualtryon: a figure on a seeded backdrop, the garment shrunk onto its torso. */
export async function tryOn(garment: Buffer, size: { width: number; height: number }, seed: number): Promise<Buffer> {
  const { width, height } = size
  const r = rng(seed ^ 0x5bd1e995)
  const skin = [150 + Math.floor(r() * 90), 100 + Math.floor(r() * 80), 70 + Math.floor(r() * 70)]
  const base = backdrop(width, height, seed)
  const cx = width / 2
  const head = { y: height * 0.18, r: Math.min(width, height) * 0.08 }
  const body = { top: height * 0.27, bottom: height * 0.95, half: width * 0.16 }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inHead = (x - cx) ** 2 + (y - head.y) ** 2 < head.r ** 2
      const inBody = y > body.top && y < body.bottom && Math.abs(x - cx) < body.half
      if (!inHead && !inBody) continue
      const i = (y * width + x) * 3
      for (let c = 0; c < 3; c++) base[i + c] = skin[c]
    }
  }
  const torso = {
    width: Math.max(8, Math.round(body.half * 2.4)),
    height: Math.max(8, Math.round((body.bottom - body.top) * 0.6)),
  }
  const shrunk = await sharp(garment)
    .flatten({ background: '#ffffff' })
    .resize(torso.width, torso.height, { fit: 'inside' })
    .png()
    .toBuffer()
  const meta = await sharp(shrunk).metadata()
  const { data } = await sharp(base, { raw: { width, height, channels: 3 } })
    .composite([
      {
        input: shrunk,
        left: Math.max(0, Math.round(cx - (meta.width ?? torso.width) / 2)),
        top: Math.round(body.top + height * 0.02),
      },
    ])
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  return data
}

/** aipose: the same photo, moved a little (a new pose, crudely). */
export function shifted(source: Rgb, seed: number): Buffer {
  const r = rng(seed)
  const dx = Math.round((r() - 0.5) * source.width * 0.1)
  const out = backdrop(source.width, source.height, seed)
  for (let y = 0; y < source.height; y++) {
    for (let x = 0; x < source.width; x++) {
      const sx = x - dx
      if (sx < 0 || sx >= source.width) continue
      const i = (y * source.width + x) * 3
      const j = (y * source.width + sx) * 3
      out[i] = source.data[j]
      out[i + 1] = source.data[j + 1]
      out[i + 2] = source.data[j + 2]
    }
  }
  return out
}

export function jpeg(data: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 92 })
    .toBuffer()
}

/** virtualtryon's frame: the aspect ratio asked for (else the garment photo's), `longEdge` on its long side. */
export function tryonSize(aspectRatio: string | undefined, garment: { width: number; height: number }, longEdge: number) {
  const [w, h] = aspectRatio ? aspectRatio.split(':').map(Number) : [garment.width, garment.height]
  const even = (v: number) => Math.max(8, Math.round(v / 2) * 2)
  return w >= h
    ? { width: even(longEdge), height: even((longEdge * h) / w) }
    : { width: even((longEdge * w) / h), height: even(longEdge) }
}
