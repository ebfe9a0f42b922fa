// Shared memory for what crosses to a fidelity thread: a view over a
// SharedArrayBuffer is posted without a copy, anything else is copied twice.
import type { RawImage } from '../types.ts'

type Plane = Uint8Array | Int32Array | Float32Array | Float64Array

const shared = new WeakMap<Uint8Array, RawImage>()

function isShared(plane: ArrayBufferView): boolean {
  return plane.buffer instanceof SharedArrayBuffer
}

/** A copy of `plane` in shared memory (the plane itself when it already is). */
export function sharePlane<T extends Plane>(plane: T): T {
  if (isShared(plane)) return plane
  const memory = new SharedArrayBuffer(plane.byteLength)
  // why Buffer.from: `new Buffer(memory)` is deprecated, and a Buffer should stay one.
  const copy = Buffer.isBuffer(plane)
    ? (Buffer.from(memory) as unknown as T)
    : new (plane.constructor as new (b: SharedArrayBuffer) => T)(memory)
  copy.set(plane as never)
  return copy
}

/** `image` with its pixels in shared memory; the copy is made once per pixel buffer. */
export function shareImage<T extends RawImage>(image: T): T {
  if (isShared(image.data)) return image
  let data = shared.get(image.data)?.data
  if (!data) {
    data = sharePlane(image.data)
    shared.set(image.data, { ...image, data })
  }
  return { ...image, data }
}

/** Every typed array directly inside `value` moved to shared memory (nested plain objects too). */
export function shareFields<T extends object>(value: T): T {
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) out[key] = sharePlane(v as Plane)
    else if (v && typeof v === 'object' && !Array.isArray(v)) out[key] = shareFields(v)
    else out[key] = v
  }
  return out as T
}

/** A zero-filled byte buffer in shared memory: pixels a fidelity thread will read without a copy. */
export function sharedBytes(length: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(length))
}
