// Binary-mask operations on Uint8Array planes (one byte a pixel, 0 or 1).
// why this shape: they run on megapixel masks inside a render, so filters
// work on bit-packed rows and labelling works on runs, not pixels.

/**
 * A binary mask packed 32 pixels to a word: pixel x of row y is bit (x & 31)
 * of word y * stride + (x >> 5). why: erosion and dilation then work on 32
 * pixels per operation, which makes cleanup at 1024 px nearly free.
 */
export interface Bits {
  words: Uint32Array
  width: number
  height: number
  stride: number
}

export function pack(mask: Uint8Array, width: number, height: number): Bits {
  const stride = (width + 31) >> 5
  const words = new Uint32Array(stride * height)
  for (let y = 0; y < height; y++) {
    const row = y * width
    const out = y * stride
    for (let w = 0; w < stride; w++) {
      const x0 = w << 5
      const n = Math.min(32, width - x0)
      let word = 0
      for (let b = 0; b < n; b++) word |= (mask[row + x0 + b] & 1) << b
      words[out + w] = word
    }
  }
  return { words, width, height, stride }
}

export function unpack(bits: Bits): Uint8Array {
  const { words, width, height, stride } = bits
  const mask = new Uint8Array(width * height)
  for (let y = 0; y < height; y++) {
    const row = y * width
    const from = y * stride
    for (let w = 0; w < stride; w++) {
      const word = words[from + w]
      if (word === 0) continue
      const x0 = w << 5
      const n = Math.min(32, width - x0)
      for (let b = 0; b < n; b++) mask[row + x0 + b] = (word >>> b) & 1
    }
  }
  return mask
}

/**
 * One step of a 3×3 erosion (`erode`) or dilation. Pixels outside the image
 * count as 1 for erosion (a product may touch the frame) and 0 for dilation.
 */
function step3(src: Bits, erodeStep: boolean): Bits {
  const { width, height, stride } = src
  const outside = erodeStep ? 0xffffffff : 0
  const tailBits = width & 31
  // why: bits beyond the last pixel of a row behave like the outside.
  const tailMask = tailBits === 0 ? 0 : (0xffffffff << tailBits) >>> 0
  const horizontal = new Uint32Array(src.words.length)
  for (let y = 0; y < height; y++) {
    const base = y * stride
    for (let w = 0; w < stride; w++) {
      let word = src.words[base + w]
      if (w === stride - 1 && tailMask !== 0) word = erodeStep ? word | tailMask : word & ~tailMask
      const prev = w > 0 ? src.words[base + w - 1] : outside
      const next = w < stride - 1 ? src.words[base + w + 1] : outside
      const left = (word << 1) | (prev >>> 31)
      const right = (word >>> 1) | (next << 31)
      horizontal[base + w] = erodeStep ? word & left & right : word | left | right
    }
  }
  const out = new Uint32Array(src.words.length)
  for (let y = 0; y < height; y++) {
    const base = y * stride
    const up = y > 0 ? base - stride : -1
    const down = y < height - 1 ? base + stride : -1
    for (let w = 0; w < stride; w++) {
      const a = up >= 0 ? horizontal[up + w] : outside
      const b = down >= 0 ? horizontal[down + w] : outside
      const c = horizontal[base + w]
      out[base + w] = erodeStep ? a & b & c : a | b | c
    }
  }
  return { words: out, width, height, stride }
}

function repeat(bits: Bits, times: number, erodeStep: boolean): Bits {
  let current = bits
  for (let i = 0; i < times; i++) current = step3(current, erodeStep)
  return current
}

/** A pixel stays 1 only if its whole (2r+1)² square is 1 (the frame counts as 1: products may touch it). */
export function erode(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  if (radius <= 0) return mask.slice()
  return unpack(repeat(pack(mask, width, height), radius, true))
}

/** A pixel becomes 1 if any pixel of its (2r+1)² square is 1. */
export function dilate(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  if (radius <= 0) return mask.slice()
  return unpack(repeat(pack(mask, width, height), radius, false))
}

/**
 * Opening then closing with a (2r+1)² square: removes 1-regions thinner than
 * the square (specks, spurs), then fills 0-gaps thinner than it (pinholes).
 */
export function openThenClose(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  if (radius <= 0) return mask.slice()
  return unpack(openThenCloseBits(pack(mask, width, height), radius))
}

/** openThenClose on a packed mask. why one packing: all four filters run on the words. */
export function openThenCloseBits(bits: Bits, radius: number): Bits {
  let out = repeat(bits, radius, true)
  out = repeat(out, 2 * radius, false)
  return repeat(out, radius, true)
}

/**
 * Clears 8-connected 1-regions smaller than `minArea` pixels and smaller than
 * `minShareOfLargest` of the largest region; returns the number of 1s kept.
 * why the share: a pair of earrings is two similar regions and both are the
 * product; a dust speck next to a shirt is not.
 */
export function removeSmallRegions(
  mask: Uint8Array,
  width: number,
  height: number,
  minArea: number,
  minShareOfLargest: number,
): number {
  const bits = pack(mask, width, height)
  const kept = removeSmallRegionsBits(bits, minArea, minShareOfLargest)
  mask.set(unpack(bits))
  return kept
}

/** Index of the lowest set bit of a non-zero word. */
function lowestBit(word: number): number {
  return 31 - Math.clz32(word & -word)
}

/** First pixel at or after x in the row at `base` whose bit is `value`, or `width` if none. */
function nextBit(words: Uint32Array, base: number, width: number, x: number, value: 0 | 1): number {
  if (x >= width) return width
  const flip = value === 1 ? 0 : 0xffffffff
  const last = (width - 1) >> 5
  let w = x >> 5
  let word = ((words[base + w] ^ flip) >>> (x & 31)) << (x & 31)
  while (word === 0) {
    if (++w > last) return width
    word = words[base + w] ^ flip
  }
  return Math.min(width, (w << 5) + lowestBit(word))
}

/** A copy of a run table with room for `capacity` entries (run tables grow by doubling). */
export function grownTo(table: Int32Array, capacity: number): Int32Array {
  const bigger = new Int32Array(capacity)
  bigger.set(table)
  return bigger
}

/**
 * removeSmallRegions on a packed mask, clearing in place. Runs of 1s are
 * found a word at a time (lowest set bit), then joined with union-find where
 * they touch a run of the row above (8-connected).
 */
export function removeSmallRegionsBits(bits: Bits, minArea: number, minShareOfLargest: number): number {
  const { words, width, height, stride } = bits
  // Runs as [start, end) pixel offsets in their row; rowOf says which row.
  let starts: Int32Array = new Int32Array(1024)
  let ends: Int32Array = new Int32Array(1024)
  let rows: Int32Array = new Int32Array(1024)
  let parent: Int32Array = new Int32Array(1024)
  let count = 0
  let prevFirst = 0
  let prevLast = 0
  for (let y = 0; y < height; y++) {
    const base = y * stride
    const first = count
    let prev = prevFirst
    let x = nextBit(words, base, width, 0, 1)
    while (x < width) {
      const end = nextBit(words, base, width, x, 0)
      if (count === starts.length) {
        starts = grownTo(starts, 2 * count)
        ends = grownTo(ends, 2 * count)
        rows = grownTo(rows, 2 * count)
        parent = grownTo(parent, 2 * count)
      }
      const id = count++
      starts[id] = x
      ends[id] = end
      rows[id] = y
      parent[id] = id
      // Runs of the row above overlapping [x - 1, end] touch this one; both
      // rows are sorted, so the scan resumes where the last one stopped.
      while (prev < prevLast && ends[prev] < x) prev++
      for (let k = prev; k < prevLast && starts[k] <= end; k++) {
        let a = k
        while (parent[a] !== a) a = parent[a] = parent[parent[a]]
        let b = id
        while (parent[b] !== b) b = parent[b] = parent[parent[b]]
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b)
      }
      x = nextBit(words, base, width, end, 1)
    }
    prevFirst = first
    prevLast = count
  }
  // Parents always have lower ids, so one forward pass resolves every root.
  const area = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    parent[i] = parent[parent[i]]
    area[parent[i]] += ends[i] - starts[i]
  }
  let largest = 0
  for (let i = 0; i < count; i++) if (area[i] > largest) largest = area[i]
  const keepFrom = Math.max(minArea, largest * minShareOfLargest)
  let kept = 0
  for (let i = 0; i < count; i++) {
    if (area[parent[i]] >= keepFrom) kept += ends[i] - starts[i]
    else clearBits(words, rows[i] * stride, starts[i], ends[i])
  }
  return kept
}

/** Clears pixels [from, to) of the row at `base`. */
export function clearBits(words: Uint32Array, base: number, from: number, to: number): void {
  while (from < to) {
    const w = from >> 5
    const lo = from & 31
    const n = Math.min(32 - lo, to - from)
    const span = n === 32 ? 0xffffffff : ((1 << n) - 1) << lo
    words[base + w] &= ~span
    from += n
  }
}

/**
 * Binary 0/1 → 0..255 with a one-pixel feather that lies INSIDE the 1-region:
 * each 1 becomes the share of 1s in its 3×3 neighbourhood (the frame counts
 * as 1), each 0 stays 0.
 * why inward: a feather reaching outwards would blend the old backdrop into
 * the new scene as a light halo.
 */
export function featherInward(mask: Uint8Array, width: number, height: number): Uint8Array {
  return featherInwardBits(pack(mask, width, height))
}

/**
 * featherInward of a packed mask. why packed: only boundary pixels need the
 * count, read from the words; whole words of interior are filled at once.
 */
export function featherInwardBits(bits: Bits): Uint8Array {
  const { words, width, height, stride } = bits
  const interior = step3(bits, true)
  const out = new Uint8Array(width * height)
  for (let y = 0; y < height; y++) {
    const row = y * width
    const base = y * stride
    for (let w = 0; w < stride; w++) {
      const word = words[base + w]
      if (word === 0) continue
      const x0 = w << 5
      const n = Math.min(32, width - x0)
      const inner = interior.words[base + w]
      if (word === 0xffffffff && inner === 0xffffffff && n === 32) {
        out.fill(255, row + x0, row + x0 + 32)
        continue
      }
      for (let b = 0; b < n; b++) {
        if (((word >>> b) & 1) === 0) continue
        const x = x0 + b
        out[row + x] = ((inner >>> b) & 1) === 1 ? 255 : neighbourShare(bits, x, y)
      }
    }
  }
  return out
}

/** 255 × (1s in the 3×3 around (x, y)) / 9, the frame counting as 1. */
function neighbourShare(bits: Bits, x: number, y: number): number {
  const { words, width, height, stride } = bits
  let count = 0
  for (let dy = -1; dy <= 1; dy++) {
    const yy = y + dy
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx
      count += xx < 0 || yy < 0 || xx >= width || yy >= height ? 1 : (words[yy * stride + (xx >> 5)] >>> (xx & 31)) & 1
    }
  }
  return ((count * 255 + 4) / 9) | 0
}

/**
 * Separable box blur of an 8-bit plane, radius r (window 2r+1), edges clamped.
 * Used for soft shadows; integer arithmetic throughout.
 */
export function boxBlur(plane: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  if (radius <= 0) return plane.slice()
  const size = 2 * radius + 1
  const half = size >> 1
  const tmp = new Uint8Array(plane.length)
  for (let y = 0; y < height; y++) {
    const base = y * width
    const last = plane[base + width - 1]
    let sum = plane[base] * (radius + 1)
    for (let i = 1; i <= radius; i++) sum += plane[base + Math.min(i, width - 1)]
    for (let x = 0; x < width; x++) {
      tmp[base + x] = ((sum + half) / size) | 0
      const enter = x + radius + 1
      const leave = x - radius
      sum += (enter < width ? plane[base + enter] : last) - (leave > 0 ? plane[base + leave] : plane[base])
    }
  }
  const out = new Uint8Array(plane.length)
  const column = new Uint32Array(width)
  for (let x = 0; x < width; x++) {
    let sum = tmp[x] * (radius + 1)
    for (let i = 1; i <= radius; i++) sum += tmp[Math.min(i, height - 1) * width + x]
    column[x] = sum
  }
  const lastRow = (height - 1) * width
  for (let y = 0; y < height; y++) {
    const base = y * width
    for (let x = 0; x < width; x++) out[base + x] = ((column[x] + half) / size) | 0
    const enter = y + radius + 1
    const leave = y - radius
    const enterBase = enter < height ? enter * width : lastRow
    const leaveBase = leave > 0 ? leave * width : 0
    for (let x = 0; x < width; x++) column[x] += tmp[enterBase + x] - tmp[leaveBase + x]
  }
  return out
}
