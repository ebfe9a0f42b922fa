// Turns a product's defect specs (in catalog drawing units) into altered
// renders (in result px) with what the manifest records about each.
import type { Placement } from '#app/modules/backends/types.ts'
import { addPart, removePart, type Shape } from './parts.ts'
import type { Rgb8 } from '../golden/pixels.ts'
import { seedOf } from '../golden/pixels.ts'
import { elementWeight, garbled, melted, recoloured, warped } from './print.ts'
import type { DefectSpec, Part, RealisticProduct, Rect } from './products.ts'
import { hemShortened, narrowed, necklineDeeper, thickened } from './shape.ts'

/** Everything a defect needs about one render. */
export interface Scene {
  clean: Rgb8
  alpha: Float32Array
  signed: Float32Array
  /** The scene painted alone, for what shows where the product gives way. */
  plate: Rgb8
  /** Height of the product on the result, px. */
  productHeight: number
}

export interface Altered {
  image: Rgb8
  magnitude: number
  unit: string
  note: string
  /** The recoloured element, for measuring its achieved ΔE on the stored file. */
  element?: Float32Array
}

/** Maps drawing units to result px through the catalog's layout and the render's placement. */
export function drawingToResult(product: RealisticProduct, source: { width: number; height: number }, p: Placement) {
  const [W, H] = product.drawing.canvas
  const [dw, dh] = product.drawing.design
  const s = Math.min((W * product.drawing.fill) / dw, (H * product.drawing.fill) / dh)
  const ox = (W - dw * s) / 2
  const oy = (H - dh * s) / 2
  const k = source.width / W
  const length = (l: number): number => l * s * k * p.scale
  const point = (x: number, y: number): [number, number] => [
    p.x + ((ox + x * s) * k - p.crop.left) * p.scale,
    p.y + ((oy + y * s) * (source.height / H) - p.crop.top) * p.scale,
  ]
  const rect = (r: Rect) => {
    const [x0, y0] = point(r[0], r[1])
    const [x1, y1] = point(r[2], r[3])
    return { x0, y0, x1, y1 }
  }
  const shape = (part: Part): Shape => {
    const [cx, cy] = point(...part.at)
    return { cx, cy, rx: length(part.r[0]), ry: length(part.r[1]), shape: part.shape }
  }
  return { point, length, rect, shape }
}

type Map = ReturnType<typeof drawingToResult>

export async function applyDefect(spec: DefectSpec, scene: Scene, map: Map, product: RealisticProduct): Promise<Altered> {
  const { clean, alpha, signed, plate } = scene
  const area = (part: Shape): number => Math.round(part.shape === 'box' ? 4 * part.rx * part.ry : Math.PI * part.rx * part.ry)
  const offset = (d: [number, number]): [number, number] => [Math.round(map.length(d[0])), Math.round(map.length(d[1]))]
  const percent = (px: number): string => `${((100 * px) / scene.productHeight).toFixed(1)} % of the product's height`
  switch (spec.op) {
    case 'remove': {
      const part = map.shape(spec.part)
      const image = removePart(clean, alpha, part, offset(spec.donor))
      return { image, magnitude: area(part), unit: 'px² of the part', note: 'inpainted from the fabric beside it, grain kept' }
    }
    case 'add': {
      const part = map.shape(spec.part)
      const image = addPart(clean, clean, alpha, part, map.point(...spec.to), spec.mirror)
      return {
        image,
        magnitude: area(part),
        unit: 'px² of the part',
        note: `a copy of an existing part${spec.mirror ? ', mirrored' : ''}`,
      }
    }
    case 'move': {
      const part = map.shape(spec.part)
      const by = offset(spec.by)
      const removed = removePart(clean, alpha, part, offset(spec.donor))
      const image = addPart(clean, removed, alpha, part, [part.cx + by[0], part.cy + by[1]])
      return { image, magnitude: Math.hypot(...by), unit: 'px the part moved', note: percent(Math.hypot(...by)) }
    }
    case 'recolour': {
      const element = elementWeight(clean, alpha, map.rect(spec.box), spec.ref, spec.tolerance, spec.far)
      const share = element.reduce((s, w) => s + w, 0) / alpha.reduce((s, a) => s + a, 0)
      const image = await recoloured(clean, element, spec.hue, spec.target)
      return {
        image,
        element,
        magnitude: spec.target,
        unit: 'mean ΔE2000 over the element',
        note: `element is ${(100 * share).toFixed(1)} % of the product, hue ${spec.hue}°`,
      }
    }
    case 'warp': {
      const [cx, cy] = map.point(...spec.at)
      const image = warped(clean, signed, { cx, cy, sigma: map.length(spec.sigma), peak: spec.peak, angle: spec.angle })
      return {
        image,
        magnitude: spec.peak,
        unit: 'px peak displacement',
        note: `Gaussian bump σ ${map.length(spec.sigma).toFixed(1)} px at ${spec.angle}°`,
      }
    }
    case 'melt': {
      const box = map.rect(spec.box)
      const image = await melted(clean, alpha, box)
      return {
        image,
        magnitude: Math.round((box.x1 - box.x0) * (box.y1 - box.y0)),
        unit: 'px² melted',
        note: 'blurred and dragged down',
      }
    }
    case 'garble': {
      const image = garbled(clean, map.rect(spec.box), spec.letters, spec.swap)
      return {
        image,
        magnitude: 2,
        unit: 'letters changed',
        note: `letters ${spec.swap[0] + 1} and ${spec.swap[1] + 1} of ${spec.letters} swapped`,
      }
    }
    case 'neckline': {
      const [cx, from] = map.point(spec.cx, spec.from)
      const cut = { cx, from, halfWidth: map.length(spec.halfWidth), band: map.length(spec.band), depth: map.length(spec.depth) }
      const image = necklineDeeper(clean, alpha, cut, seedOf(product.id))
      return { image, magnitude: Math.round(cut.depth * 10) / 10, unit: 'px deeper at the centre', note: percent(cut.depth) }
    }
    case 'hem': {
      const by = map.length(spec.by)
      const image = hemShortened(clean, alpha, plate, map.rect(spec.box), by)
      return { image, magnitude: Math.round(by * 10) / 10, unit: 'px shorter', note: percent(by) }
    }
    case 'narrow':
      return {
        image: narrowed(clean, alpha, signed, plate, map.rect(spec.box), spec.px),
        magnitude: spec.px,
        unit: 'px narrower each side',
        note: 'scene painted where the edge was',
      }
    case 'thicken':
      return {
        image: thickened(clean, alpha, map.rect(spec.box), spec.px),
        magnitude: spec.px,
        unit: 'px wider each side',
        note: 'painted with the part’s own colour',
      }
  }
}
