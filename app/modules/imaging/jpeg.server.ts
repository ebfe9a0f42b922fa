import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { env } from '#app/lib/env.server.ts'
import { logger } from '#app/lib/logger.server.ts'
import type { RawImage } from './types.ts'

// The final JPEG of every render: the file Atelier stores, shows and publishes.
//
// Post-processing encodes it with native/jpeg.c (next to this file) (libjpeg-turbo through a small
// Node-API addon, docs/decisions/009-native-jpeg-encoder.md) when the addon is
// built, else with sharp. Both write the same file: a baseline JPEG at
// FINAL_JPEG's quality, 4:4:4, with optimised Huffman tables, which decodes to
// the same pixels either way (jpeg.server.test.ts checks it). The addon takes
// about 0.6× sharp's time for it, and post-processing waits for this encode.
//
// JPEG_ENCODER: `auto` (default) uses the addon when it loads and says once in
// the log when it doesn't; `native` makes a missing addon an error; `sharp`
// never loads it.

/** The stored render's JPEG settings (sharp's spelling; the addon gets the same three). */
export const FINAL_JPEG = { quality: 92, chromaSubsampling: '4:4:4', optimiseCoding: true } as const

interface JpegAddon {
  encode(
    pixels: Uint8Array,
    width: number,
    height: number,
    channels: number,
    quality: number,
    chroma444: boolean,
    optimize: boolean,
  ): Promise<Buffer>
  libjpegTurbo: number
}

export interface JpegEncoderInfo {
  name: 'native' | 'sharp'
  /** e.g. "libjpeg-turbo 2.1.5" or "sharp 0.35.5 (mozjpeg)". */
  library: string
  /** Why the addon isn't used, when it isn't. */
  reason?: string
}

const ADDON = path.join('app', 'modules', 'imaging', 'native', 'build', 'jpeg.node')

/** JPEG_ENCODER's values (see the top of this file). */
export type Encoder = 'auto' | 'native' | 'sharp'

const loaded = new Map<Encoder, { addon?: JpegAddon; info: JpegEncoderInfo }>()

function load(mode: Encoder): { addon?: JpegAddon; info: JpegEncoderInfo } {
  const known = loaded.get(mode)
  if (known) return known
  const keep = (entry: { addon?: JpegAddon; info: JpegEncoderInfo }) => {
    loaded.set(mode, entry)
    return entry
  }
  const viaSharp = (reason: string) =>
    keep({ info: { name: 'sharp', library: `sharp ${sharp.versions.sharp} (mozjpeg)`, reason } })
  if (mode === 'sharp') return viaSharp('JPEG_ENCODER=sharp')
  // why two places: the source tree (workers, tests, benches run from it) and the working directory (a bundled server).
  const candidates = [fileURLToPath(new URL('./native/build/jpeg.node', import.meta.url)), path.resolve(process.cwd(), ADDON)]
  const file = candidates.find((c) => existsSync(c))
  let reason: string
  if (file) {
    try {
      const addon = createRequire(import.meta.url)(file) as JpegAddon
      const v = addon.libjpegTurbo
      const library = `libjpeg-turbo ${Math.floor(v / 1e6)}.${Math.floor(v / 1e3) % 1e3}.${v % 1e3}`
      return keep({ addon, info: { name: 'native', library } })
    } catch (err) {
      reason = `${file} did not load: ${err instanceof Error ? err.message : String(err)}`
    }
  } else {
    reason = `${ADDON} is not built (npm run build:native)`
  }
  if (mode === 'native') throw new Error(`JPEG_ENCODER=native but ${reason}`)
  logger().warn({ reason }, 'native JPEG encoder unavailable: final JPEGs are encoded with sharp, about 1.6x slower')
  return viaSharp(reason)
}

/** Which encoder final JPEGs go through, and why when it is not the addon. */
export function jpegEncoder(encoder: Encoder = env().JPEG_ENCODER): JpegEncoderInfo {
  return load(encoder).info
}

/**
 * Encodes 8-bit pixels (1 or 3 channels) as the stored render's JPEG. The
 * pixels must not change until the promise settles: the addon reads them on
 * libuv's thread pool without copying them. `encoder` overrides JPEG_ENCODER
 * (the tests and the bench compare the two).
 */
export async function encodeFinalJpeg(px: RawImage, encoder: Encoder = env().JPEG_ENCODER): Promise<Buffer> {
  if (px.channels !== 1 && px.channels !== 3) throw new Error(`encodeFinalJpeg: 1 or 3 channels, not ${px.channels}`)
  if (px.data.length < px.width * px.height * px.channels) {
    throw new Error(`encodeFinalJpeg: ${px.data.length} bytes for a ${px.width}×${px.height}×${px.channels} image`)
  }
  const { addon } = load(encoder)
  if (addon) return addon.encode(px.data, px.width, px.height, px.channels, FINAL_JPEG.quality, FINAL_JPEG.chromaSubsampling === '4:4:4', FINAL_JPEG.optimiseCoding)
  return sharp(px.data, { raw: { width: px.width, height: px.height, channels: px.channels } })
    .jpeg(FINAL_JPEG)
    .toBuffer()
}
