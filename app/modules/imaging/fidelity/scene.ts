// The scene behind the product and the product's own colour near its outline,
// and how much of an edge pixel is product, read from its colour between the two.
import { f32, f64 } from './scratch.ts'
import { BAND } from './grid.ts'

/** Share of the product's height, from its lowest row up, where it stands on the floor. */
const FLOOR_ZONE = 0.06

/**
 * First grid row of the floor zone: the product's lowest FLOOR_ZONE of its
 * height. why: feet, a stand's base, a hem lying on the floor sit in the
 * contact shadow whatever their outline's direction.
 */
export function floorRow(alpha: Float32Array, width: number, height: number): number {
  let top = -1
  let bottom = -1
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (alpha[y * width + x] < 0.5) continue
      if (top < 0) top = y
      bottom = y
      break
    }
  }
  if (top < 0) return height
  return Math.round(bottom - FLOOR_ZONE * (bottom - top))
}

/**
 * Whether the outline near band pixel i faces down (its outward normal
 * points below the horizontal by more than 30°). why that stretch is not
 * read: that is where the product meets the floor, and both the photo and
 * every scene put a contact shadow there; its edge is shadow against shadow.
 */
export function facesDown(signed: Float32Array, i: number, width: number, height: number): boolean {
  const x = i % width
  const y = (i - x) / width
  if (x < 1 || y < 1 || x >= width - 1 || y >= height - 1) return false
  const gx = signed[i + 1] - signed[i - 1]
  const gy = signed[i + width] - signed[i - width]
  const length = Math.hypot(gx, gy)
  return length > 0 && -gy / length > 0.5
}

/** How far out (grid px) scene colours are gathered from, and read at. */
const SCENE_REACH = 40
const NEAR_OUT = BAND + 8

/** Index lists: pixels near the outline, and scene pixels within SCENE_REACH of it. */
export function nearOutline(signed: Float32Array): { near: Int32Array; sceneNear: Int32Array } {
  let nearCount = 0
  let sceneCount = 0
  for (let i = 0; i < signed.length; i++) {
    const v = signed[i]
    if (v >= -NEAR_OUT && v <= BAND + 1) nearCount++
    if (v >= -SCENE_REACH && v <= -(BAND + 2)) sceneCount++
  }
  const near = new Int32Array(nearCount)
  const sceneNear = new Int32Array(sceneCount)
  let a = 0
  let b = 0
  for (let i = 0; i < signed.length; i++) {
    const v = signed[i]
    if (v >= -NEAR_OUT && v <= BAND + 1) near[a++] = i
    if (v >= -SCENE_REACH && v <= -(BAND + 2)) sceneNear[b++] = i
  }
  return { near, sceneNear }
}

/** Side of the coarse cells the scene is filled in on, grid px. */
const FILL_CELL = 4

/**
 * The image's colour where `signed ≤ limit` (the scene, clear of the
 * product), filled in everywhere near the product from the nearest such
 * pixels: cell means on a FILL_CELL-coarse grid, spread by widening
 * normalised box averages, read back bilinearly at `readAt` (the rest is
 * NaN: never used).
 * why coarse: the scene behind a product is smooth at this scale (a sweep,
 * a shadow, an out-of-focus room) and the fill is 16× cheaper.
 */
export function fillFrom(
  rgb: Uint8Array,
  signed: Float32Array,
  width: number,
  height: number,
  limit: number,
  scenePixels: Int32Array,
  readAt: Int32Array,
  key?: string,
): Float32Array {
  const taps = fillTaps(width, height, scenePixels, readAt)
  const { cw, ch, sceneCell, readCell, readTx, readTy, right, down } = taps
  const m = cw * ch
  const w = f32('fill.w', m)
  const r = f32('fill.r', m)
  const g = f32('fill.g', m)
  const b = f32('fill.b', m)
  for (let k = 0; k < scenePixels.length; k++) {
    const i = scenePixels[k]
    if (signed[i] > limit) continue
    const c = sceneCell[k]
    w[c]++
    r[c] += rgb[3 * i]
    g[c] += rgb[3 * i + 1]
    b[c] += rgb[3 * i + 2]
  }
  const coarse = f32('fill.coarse', 3 * m, false).fill(Number.NaN)
  // Summed-area tables of the four planes, built once; each radius reads box sums off them.
  const stride = cw + 1
  const planes = [w, r, g, b]
  const tables = planes.map((_, p) => f64(`fill.table${p}`, stride * (ch + 1)))
  for (let p = 0; p < 4; p++) {
    const plane = planes[p]
    const sat = tables[p]
    for (let y = 0; y < ch; y++) {
      let row = 0
      for (let x = 0; x < cw; x++) {
        row += plane[y * cw + x]
        sat[(y + 1) * stride + x + 1] = sat[y * stride + x + 1] + row
      }
    }
  }
  const [tw, tr, tg, tb] = tables
  for (const radius of [0, 1, 2, 4, 8]) {
    let missing = 0
    for (let y = 0; y < ch; y++) {
      const y0 = Math.max(0, y - radius) * stride
      const y1 = Math.min(ch, y + radius + 1) * stride
      for (let x = 0; x < cw; x++) {
        const c = y * cw + x
        if (!Number.isNaN(coarse[3 * c])) continue
        const x0 = Math.max(0, x - radius)
        const x1 = Math.min(cw, x + radius + 1)
        const sw = tw[y1 + x1] - tw[y0 + x1] - tw[y1 + x0] + tw[y0 + x0]
        if (sw < 1) {
          missing++
          continue
        }
        coarse[3 * c] = (tr[y1 + x1] - tr[y0 + x1] - tr[y1 + x0] + tr[y0 + x0]) / sw
        coarse[3 * c + 1] = (tg[y1 + x1] - tg[y0 + x1] - tg[y1 + x0] + tg[y0 + x0]) / sw
        coarse[3 * c + 2] = (tb[y1 + x1] - tb[y0 + x1] - tb[y1 + x0] + tb[y0 + x0]) / sw
      }
    }
    if (missing === 0) break
  }
  // why no NaN fill: only `readAt` pixels are ever read (and all of them are written).
  const out = key ? f32(key, 3 * width * height, false) : new Float32Array(3 * width * height)
  for (let q = 0; q < readAt.length; q++) {
    const o = 3 * readAt[q]
    const a = readCell[q]
    const bq = a + right
    const c = a + down
    const d = c + right
    const tx = readTx[q]
    const ty = readTy[q]
    for (let k = 0; k < 3; k++) {
      const top = coarse[a + k] + tx * (coarse[bq + k] - coarse[a + k])
      const bottom = coarse[c + k] + tx * (coarse[d + k] - coarse[c + k])
      out[o + k] = top + ty * (bottom - top)
    }
  }
  return out
}

/** Where fillFrom gathers each scene pixel into, and reads each `readAt` pixel back from, on its coarse grid. */
interface FillTaps {
  width: number
  scene: Int32Array
  cw: number
  ch: number
  /** The coarse cell of each scene pixel. */
  sceneCell: Int32Array
  /** Per `readAt` pixel: its top-left tap (× 3, RGB) and bilinear weights; the other taps are `right` and `down` on. */
  readCell: Int32Array
  readTx: Float64Array
  readTy: Float64Array
  right: number
  down: number
}

/**
 * why kept per `readAt` list: a reference's pixel lists are fixed, and fillFrom
 * runs on them once on the source side and twice per comparison; the divisions
 * and clamps are then paid once, while the backend renders.
 */
const fillTapsCache = new WeakMap<Int32Array, FillTaps>()

function fillTaps(width: number, height: number, scene: Int32Array, readAt: Int32Array): FillTaps {
  const cached = fillTapsCache.get(readAt)
  if (cached && cached.scene === scene && cached.width === width) return cached
  const cw = Math.ceil(width / FILL_CELL)
  const ch = Math.ceil(height / FILL_CELL)
  const sceneCell = new Int32Array(scene.length)
  for (let k = 0; k < scene.length; k++) {
    const i = scene[k]
    const x = i % width
    sceneCell[k] = (((i - x) / width / FILL_CELL) | 0) * cw + ((x / FILL_CELL) | 0)
  }
  const readCell = new Int32Array(readAt.length)
  const readTx = new Float64Array(readAt.length)
  const readTy = new Float64Array(readAt.length)
  for (let q = 0; q < readAt.length; q++) {
    const i = readAt[q]
    const x = i % width
    const y = (i - x) / width
    const fy = Math.min(ch - 1, Math.max(0, (y + 0.5) / FILL_CELL - 0.5))
    const y0 = Math.min(ch - 2, Math.floor(fy))
    const fx = Math.min(cw - 1, Math.max(0, (x + 0.5) / FILL_CELL - 0.5))
    const x0 = Math.min(cw - 2, Math.floor(fx))
    readTy[q] = ch < 2 ? 0 : fy - y0
    readTx[q] = cw < 2 ? 0 : fx - x0
    readCell[q] = 3 * (Math.max(0, y0) * cw + Math.max(0, x0))
  }
  const taps = { width, scene, cw, ch, sceneCell, readCell, readTx, readTy, right: cw < 2 ? 0 : 3, down: ch < 2 ? 0 : 3 * cw }
  fillTapsCache.set(readAt, taps)
  return taps
}

/**
 * The product's own colour at each edge-band pixel: the pixel's own where
 * the mask is solid, else the mean of solid product pixels (mask ≥ 0.95)
 * within 3 px, else, for parts too thin to have any (a 2 px strap), the
 * most product-like pixel by mask within 2 px.
 */
export function productColour(
  src: Uint8Array,
  alpha: Float32Array,
  signed: Float32Array,
  width: number,
  height: number,
): Float32Array {
  const out = new Float32Array(3 * width * height).fill(Number.NaN)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x
      if (Math.abs(signed[i]) > BAND) continue
      // why its own colour where the mask is solid: whatever the mask calls product
      // (a light seam, a shadow the cut-out kept) is what must reappear there.
      if (alpha[i] >= 0.95) {
        out[3 * i] = src[3 * i]
        out[3 * i + 1] = src[3 * i + 1]
        out[3 * i + 2] = src[3 * i + 2]
        continue
      }
      let n = 0
      let r = 0
      let g = 0
      let b = 0
      let best = -1
      let bestAlpha = 0.5
      for (let yy = Math.max(0, y - 3); yy <= Math.min(height - 1, y + 3); yy++) {
        for (let xx = Math.max(0, x - 3); xx <= Math.min(width - 1, x + 3); xx++) {
          const k = yy * width + xx
          const a = alpha[k]
          if (a >= 0.95) {
            n++
            r += src[3 * k]
            g += src[3 * k + 1]
            b += src[3 * k + 2]
          } else if (a > bestAlpha && Math.abs(yy - y) <= 2 && Math.abs(xx - x) <= 2) {
            bestAlpha = a
            best = k
          }
        }
      }
      if (n >= 2) {
        out[3 * i] = r / n
        out[3 * i + 1] = g / n
        out[3 * i + 2] = b / n
      } else if (best >= 0) {
        out[3 * i] = src[3 * best]
        out[3 * i + 1] = src[3 * best + 1]
        out[3 * i + 2] = src[3 * best + 2]
      }
    }
  }
  return out
}

/** Grid px inside the outline from which the product's colour holds nothing of the photo's backdrop. */
const RIM = 2
/** Grey-level spread of the nearest deeper pixels past which they are two colours of a print, not one. */
const RIM_SPREAD = 12
/** RGB distance a rim colour may lie off the line from the product's deeper colour to the backdrop and still be a mix of the two. */
const RIM_OFF_LINE = 10

/**
 * The product's colour at the outline's rim with the photo's backdrop taken
 * out (NaN where productColour's needs nothing taken out): where the colour
 * productColour read lies between the product's colour nearest deeper in
 * (RIM px and more, within 3 px, one colour of it) and the backdrop, the
 * deeper colour. why: the outermost pixels of a photo mix the product with
 * its backdrop even where the mask is solid. A render may keep that mix or
 * un-mix it (as the studio's matte does); the edge band reads both ways
 * (edge-band.ts) and keeps the one that explains the result.
 */
export function rimProduct(
  product: Float32Array,
  src: Uint8Array,
  signed: Float32Array,
  backdrop: Float32Array,
  width: number,
  height: number,
): Float32Array {
  const out = new Float32Array(3 * width * height).fill(Number.NaN)
  const deeper = new Float64Array(3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x
      if (Math.abs(signed[i]) > BAND || !(signed[i] < RIM) || Number.isNaN(product[3 * i])) continue
      if (!deeperColour(src, signed, x, y, width, height, deeper)) continue
      if (!mixedWithBackdrop(product, backdrop, i, deeper[0], deeper[1], deeper[2])) continue
      out.set(deeper, 3 * i)
    }
  }
  return out
}

/**
 * The mean colour of the pixels RIM px and more inside nearest (x, y), within
 * 3 px, into `out`; false when there are none, or they are two colours of a
 * print (their grey levels spread past RIM_SPREAD).
 */
function deeperColour(
  src: Uint8Array,
  signed: Float32Array,
  x: number,
  y: number,
  width: number,
  height: number,
  out: Float64Array,
): boolean {
  const y0 = Math.max(0, y - 3)
  const y1 = Math.min(height - 1, y + 3)
  const x0 = Math.max(0, x - 3)
  const x1 = Math.min(width - 1, x + 3)
  let near = Infinity
  for (let yy = y0; yy <= y1; yy++) {
    for (let xx = x0; xx <= x1; xx++) if (signed[yy * width + xx] >= RIM) near = Math.min(near, (xx - x) ** 2 + (yy - y) ** 2)
  }
  if (near === Infinity) return false
  let n = 0
  let lo = 255
  let hi = 0
  out.fill(0)
  for (let yy = y0; yy <= y1; yy++) {
    for (let xx = x0; xx <= x1; xx++) {
      const k = yy * width + xx
      if (signed[k] < RIM || (xx - x) ** 2 + (yy - y) ** 2 > near + 1) continue
      n++
      for (let c = 0; c < 3; c++) out[c] += src[3 * k + c]
      const l = (src[3 * k] + src[3 * k + 1] + src[3 * k + 2]) / 3
      lo = Math.min(lo, l)
      hi = Math.max(hi, l)
    }
  }
  for (let c = 0; c < 3; c++) out[c] /= n
  return hi - lo <= RIM_SPREAD
}

/** Whether product colour i lies between (r, g, b) and the backdrop there: the two mixed, not a colour of its own. */
function mixedWithBackdrop(product: Float32Array, backdrop: Float32Array, i: number, r: number, g: number, b: number): boolean {
  const dr = backdrop[3 * i] - r
  const dg = backdrop[3 * i + 1] - g
  const db = backdrop[3 * i + 2] - b
  const dd = dr * dr + dg * dg + db * db
  if (!(dd >= MIN_CONTRAST * MIN_CONTRAST)) return false
  const pr = product[3 * i] - r
  const pg = product[3 * i + 1] - g
  const pb = product[3 * i + 2] - b
  const t = (pr * dr + pg * dg + pb * db) / dd
  if (!(t > 0.05 && t < 1)) return false
  return (pr - t * dr) ** 2 + (pg - t * dg) ** 2 + (pb - t * db) ** 2 <= RIM_OFF_LINE * RIM_OFF_LINE
}

/**
 * How much of pixel i is product: its colour projected on the line from
 * the scene's colour to the product's, 0 scene … 1 product (unclamped).
 * NaN where the two are too close in colour to tell.
 */
export function coverageOf(rgb: Uint8Array | Float32Array, i: number, product: Float32Array, backdrop: Float32Array): number {
  const fr = product[3 * i] - backdrop[3 * i]
  const fg = product[3 * i + 1] - backdrop[3 * i + 1]
  const fb = product[3 * i + 2] - backdrop[3 * i + 2]
  const contrast = fr * fr + fg * fg + fb * fb
  if (!(contrast >= MIN_CONTRAST * MIN_CONTRAST)) return Number.NaN
  const cr = rgb[3 * i] - backdrop[3 * i]
  const cg = rgb[3 * i + 1] - backdrop[3 * i + 1]
  const cb = rgb[3 * i + 2] - backdrop[3 * i + 2]
  return (cr * fr + cg * fg + cb * fb) / contrast
}

/** RGB distance between product and scene below which coverage can't be read from colour. */
const MIN_CONTRAST = 40
