// Binary-mask operations on Uint8Array planes (one byte a pixel, 0 or 1).
// why this shape: they run on megapixel masks inside a render, so filters
// work on bit-packed rows and labelling works on runs, not pixels.

/**
 * A binary mask packed 32 pixels to a word: pixel x of row y is bit (x & 31)
 * of word y * stride + (x >> 5). why: erosion and dilation then work on 32
 * pixels per operation, which makes cleanup at 1024 px nearly free.
 */
interface Bits {
  words: Uint32Array
  width: number
  height: number
  stride: number
}

function pack(mask: Uint8Array, width: number, height: number): Bits {
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

function unpack(bits: Bits): Uint8Array {
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
 * why one pack: all four filters run on the packed mask.
 */
export function openThenClose(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  if (radius <= 0) return mask.slice()
  let bits = pack(mask, width, height)
  bits = repeat(bits, radius, true)
  bits = repeat(bits, 2 * radius, false)
  bits = repeat(bits, radius, true)
  return unpack(bits)
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
  // Runs of 1s per row, joined with union-find where they touch (8-connected).
  const starts: number[] = []
  const ends: number[] = []
  const parent: number[] = []
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]]
      i = parent[i]
    }
    return i
  }
  let prevFirst = 0
  let prevLast = 0
  for (let y = 0; y < height; y++) {
    const base = y * width
    const first = starts.length
    let prev = prevFirst
    let x = 0
    while (x < width) {
      if (mask[base + x] === 0) {
        x++
        continue
      }
      const start = x
      while (x < width && mask[base + x] === 1) x++
      const id = starts.length
      starts.push(base + start)
      ends.push(base + x)
      parent.push(id)
      // Runs of the previous row overlapping [start - 1, x] touch this one;
      // both rows are sorted, so the scan resumes where the last one stopped.
      const rowAbove = base - width
      while (prev < prevLast && ends[prev] - rowAbove < start) prev++
      for (let k = prev; k < prevLast && starts[k] - rowAbove <= x; k++) {
        const a = find(k)
        const b = find(id)
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b)
      }
    }
    prevFirst = first
    prevLast = starts.length
  }
  const area = new Float64Array(starts.length)
  for (let i = 0; i < starts.length; i++) area[find(i)] += ends[i] - starts[i]
  let largest = 0
  for (let i = 0; i < area.length; i++) if (area[i] > largest) largest = area[i]
  const keepFrom = Math.max(minArea, largest * minShareOfLargest)
  let kept = 0
  for (let i = 0; i < starts.length; i++) {
    if (area[find(i)] >= keepFrom) kept += ends[i] - starts[i]
    else mask.fill(0, starts[i], ends[i])
  }
  return kept
}

/**
 * Binary 0/1 → 0..255 with a one-pixel feather that lies INSIDE the 1-region:
 * each 1 becomes the share of 1s in its 3×3 neighbourhood (the frame counts
 * as 1), each 0 stays 0.
 * why inward: a feather reaching outwards would blend the old backdrop into
 * the new scene as a light halo. why packed: only boundary pixels need the
 * count; whole words of interior are filled at once.
 */
export function featherInward(mask: Uint8Array, width: number, height: number): Uint8Array {
  const bits = pack(mask, width, height)
  const interior = step3(bits, true)
  const out = new Uint8Array(mask.length)
  const { stride } = bits
  for (let y = 0; y < height; y++) {
    const row = y * width
    for (let w = 0; w < stride; w++) {
      const word = bits.words[y * stride + w]
      if (word === 0) continue
      const x0 = w << 5
      const n = Math.min(32, width - x0)
      const inner = interior.words[y * stride + w]
      if (word === 0xffffffff && inner === 0xffffffff && n === 32) {
        out.fill(255, row + x0, row + x0 + 32)
        continue
      }
      for (let b = 0; b < n; b++) {
        if (((word >>> b) & 1) === 0) continue
        const x = x0 + b
        out[row + x] = ((inner >>> b) & 1) === 1 ? 255 : neighbourShare(mask, width, height, x, y)
      }
    }
  }
  return out
}

/** 255 × (1s in the 3×3 around (x, y)) / 9, the frame counting as 1. */
function neighbourShare(mask: Uint8Array, width: number, height: number, x: number, y: number): number {
  let count = 0
  for (let dy = -1; dy <= 1; dy++) {
    const yy = y + dy
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx
      count += xx < 0 || yy < 0 || xx >= width || yy >= height ? 1 : mask[yy * width + xx]
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
