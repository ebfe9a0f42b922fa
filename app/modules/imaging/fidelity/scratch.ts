// Scratch planes: the work buffers every measure borrows instead of allocating.

/**
 * Work planes reused from one call to the next. why: a comparison needs some
 * twenty planes of a quarter-million values; allocated and dropped for every
 * render they fragment the C heap, and RSS creeps up over thousands of
 * renders (test/bench/postprocess.bench.ts). Sharing is safe: each user
 * fills and reads its planes within one synchronous stretch (no await in
 * between), and nothing that outlives a call — the reference, the measures —
 * is made of them.
 */
const pool = new Map<string, Float32Array | Float64Array | Uint8Array | Int32Array>()

function scratch<T extends Float32Array | Float64Array | Uint8Array | Int32Array>(
  key: string,
  length: number,
  make: (n: number) => T,
  zero: boolean,
): T {
  let plane = pool.get(key) as T | undefined
  if (!plane || plane.length !== length || plane.constructor !== make(0).constructor) {
    plane = make(length)
    pool.set(key, plane)
  } else if (zero) plane.fill(0)
  return plane
}

export const f32 = (key: string, length: number, zero = true): Float32Array => scratch(key, length, (n) => new Float32Array(n), zero)
export const u8 = (key: string, length: number, zero = true): Uint8Array => scratch(key, length, (n) => new Uint8Array(n), zero)
export const i32 = (key: string, length: number, zero = true): Int32Array => scratch(key, length, (n) => new Int32Array(n), zero)
export const f64 = (key: string, length: number, zero = true): Float64Array => scratch(key, length, (n) => new Float64Array(n), zero)
