// The catalog garments of the realistic set, their fabric, scenes and the
// cases made from each. Positions are in the drawing units of
// scripts/make-sample-catalog.ts (each garment's own design box), so they
// name the button, pocket or print the catalog drew there.
import type { DefectFamily } from '#test/golden/realistic-set.ts'
import type { Fabric } from './texture.ts'

export type Point = [number, number]
export type Rect = [number, number, number, number]

/** How the sample catalog placed a drawing of w × h units on a W × H canvas at `fill`. */
export interface Drawing {
  canvas: [number, number]
  design: [number, number]
  fill: number
}

/** A region a defect works on: an ellipse (centre, radii) or a box, in drawing units. */
export interface Part {
  at: Point
  r: Point
  shape: 'ellipse' | 'box'
}

export type DefectSpec = { family: DefectFamily; kind: string } & (
  | { op: 'remove'; part: Part; donor: Point }
  | { op: 'add'; part: Part; to: Point; mirror?: boolean }
  | { op: 'move'; part: Part; donor: Point; by: Point }
  | { op: 'recolour'; box: Rect; ref: [number, number, number]; tolerance: number; far?: boolean; hue: number; target: number }
  | { op: 'warp'; at: Point; sigma: number; peak: number; angle: number }
  | { op: 'melt'; box: Rect }
  | { op: 'garble'; box: Rect; letters: number; swap: [number, number] }
  | { op: 'neckline'; cx: number; halfWidth: number; from: number; band: number; depth: number }
  | { op: 'hem'; box: Rect; by: number }
  | { op: 'narrow'; box: Rect; px: number }
  | { op: 'thicken'; box: Rect; px: number }
)

/** Clean controls beyond the studio render every product gets. */
export interface ControlSpec {
  jpeg?: { quality: number; chroma: '4:4:4' | '4:2:0' }
  shift?: Point
  zoom?: { percent: number; about: Point }
  relight?: { angle: number; warmth: number }
  swap?: string
  sharpen?: number
  resynth?: boolean
  crop?: number
  /** More scenes to deliver the untouched render on. */
  alsoOn?: string[]
}

export interface RealisticProduct {
  id: string
  file: string
  drawing: Drawing
  fabric: Fabric
  scene: string
  output: { width: number; height: number }
  brushMask?: boolean
  note: string
  defects: DefectSpec[]
  controls: ControlSpec
}

const box = (at: Point, r: Point): Part => ({ at, r, shape: 'box' })
const disc = (at: Point, r: number | Point): Part => ({ at, r: typeof r === 'number' ? [r, r] : r, shape: 'ellipse' })

export const PRODUCTS: RealisticProduct[] = [
  {
    id: 'graphic-tee',
    file: 'catalog/classic-graphic-tee/front.jpg',
    drawing: { canvas: [1600, 1600], design: [1000, 1000], fill: 0.86 },
    fabric: { weave: 'knit', period: 3, amplitude: 4, grain: 3, folds: 0.07 },
    scene: 'loft',
    output: { width: 480, height: 640 },
    note: 'navy jersey tee, sun-and-mountains print, SUNDAY SUPPLY CO. lettering',
    defects: [
      {
        family: 'print_colour',
        kind: 'sun_recoloured',
        op: 'recolour',
        box: [420, 340, 580, 500],
        ref: [233, 162, 59],
        tolerance: 22,
        hue: 340,
        target: 8,
      },
      { family: 'print_warp', kind: 'print_warped', op: 'warp', at: [500, 470], sigma: 55, peak: 9, angle: 35 },
      { family: 'print_detail', kind: 'sunday_melted', op: 'melt', box: [385, 538, 615, 595] },
      { family: 'print_detail', kind: 'supply_garbled', op: 'garble', box: [372, 600, 628, 634], letters: 10, swap: [1, 3] },
      {
        family: 'interior_shape',
        kind: 'neckline_deeper',
        op: 'neckline',
        cx: 500,
        halfWidth: 104,
        from: 100,
        band: 40,
        depth: 45,
      },
      { family: 'outline', kind: 'hem_shortened', op: 'hem', box: [180, 790, 820, 960], by: 38 },
    ],
    controls: { jpeg: { quality: 75, chroma: '4:4:4' }, zoom: { percent: 2, about: [500, 500] }, swap: 'street', resynth: true },
  },
  {
    id: 'breton-top',
    file: 'catalog/breton-striped-long-sleeve/front.jpg',
    drawing: { canvas: [1200, 1500], design: [1000, 1100], fill: 0.86 },
    fabric: { weave: 'knit', period: 3, amplitude: 3, grain: 2.5, folds: 0.06 },
    scene: 'street',
    output: { width: 480, height: 640 },
    note: 'ecru knit with navy stripes',
    defects: [
      {
        family: 'print_colour',
        kind: 'stripes_recoloured',
        op: 'recolour',
        box: [292, 568, 708, 646],
        ref: [31, 43, 77],
        tolerance: 18,
        hue: 320,
        target: 7,
      },
      { family: 'print_warp', kind: 'stripes_warped', op: 'warp', at: [520, 560], sigma: 55, peak: 8, angle: 80 },
      {
        family: 'interior_shape',
        kind: 'neckline_deeper',
        op: 'neckline',
        cx: 500,
        halfWidth: 100,
        from: 100,
        band: 36,
        depth: 45,
      },
      { family: 'outline', kind: 'sleeve_narrowed', op: 'narrow', box: [770, 470, 945, 790], px: 4 },
    ],
    controls: { shift: [4, -2], relight: { angle: 30, warmth: 1 }, crop: 10 },
  },
  {
    id: 'slip-dress',
    file: 'catalog/silk-slip-dress/front.jpg',
    drawing: { canvas: [1000, 1400], design: [600, 1000], fill: 0.9 },
    fabric: { weave: 'satin', period: 2, amplitude: 1.5, grain: 1.5, folds: 0.06 },
    scene: 'cream-minimal',
    output: { width: 480, height: 640 },
    brushMask: true,
    note: 'champagne silk, two spaghetti straps with sliders (merchant brush mask)',
    defects: [
      { family: 'small_part_missing', kind: 'slider_removed', op: 'remove', part: disc([206, 111], [10, 7]), donor: [2, -26] },
      { family: 'small_part_added', kind: 'slider_added', op: 'add', part: disc([206, 111], [10, 7]), to: [201, 172] },
      { family: 'outline', kind: 'straps_thickened', op: 'thicken', box: [180, 20, 420, 225], px: 1 },
      { family: 'outline', kind: 'hem_shortened', op: 'hem', box: [30, 780, 570, 1000], by: 40 },
    ],
    controls: { alsoOn: ['street', 'cafe-interior'], crop: 8 },
  },
  {
    id: 'logo-hoodie',
    file: 'catalog/northfield-logo-hoodie/front.jpg',
    drawing: { canvas: [1800, 1800], design: [1000, 1000], fill: 0.86 },
    fabric: { weave: 'knit', period: 4, amplitude: 4, grain: 3.5, folds: 0.08 },
    scene: 'cafe-interior',
    output: { width: 560, height: 560 },
    note: 'burgundy fleece hoodie, round NORTHFIELD badge, drawstrings with metal tips',
    defects: [
      { family: 'small_part_missing', kind: 'aglet_removed', op: 'remove', part: box([455, 372], [9, 19]), donor: [-34, 0] },
      {
        family: 'print_colour',
        kind: 'badge_recoloured',
        op: 'recolour',
        box: [410, 400, 590, 580],
        ref: [241, 233, 218],
        tolerance: 16,
        hue: 75,
        target: 7,
      },
      { family: 'print_warp', kind: 'badge_warped', op: 'warp', at: [500, 490], sigma: 45, peak: 8, angle: 200 },
      { family: 'print_detail', kind: 'letter_melted', op: 'melt', box: [468, 452, 532, 518] },
      { family: 'print_detail', kind: 'arc_smeared', op: 'melt', box: [436, 404, 564, 440] },
      { family: 'interior_shape', kind: 'pocket_opening_moved', op: 'warp', at: [500, 652], sigma: 40, peak: 10, angle: 90 },
    ],
    controls: { shift: [6, 0], swap: 'beach', sharpen: 0.8 },
  },
  {
    id: 'floral-dress',
    file: 'catalog/floral-wrap-dress/front.jpg',
    drawing: { canvas: [1366, 2048], design: [700, 1100], fill: 0.9 },
    fabric: { weave: 'plain', period: 2, amplitude: 3, grain: 2.5, folds: 0.08 },
    scene: 'beach',
    output: { width: 480, height: 640 },
    note: 'navy wrap dress, small floral print, tied bow at the waist',
    defects: [
      {
        family: 'print_colour',
        kind: 'flowers_recoloured',
        op: 'recolour',
        box: [250, 600, 450, 760],
        ref: [30, 39, 70],
        tolerance: 22,
        far: true,
        hue: 140,
        target: 8,
      },
      { family: 'print_warp', kind: 'print_warped', op: 'warp', at: [330, 700], sigma: 50, peak: 10, angle: 160 },
      { family: 'interior_shape', kind: 'waistband_moved', op: 'warp', at: [340, 446], sigma: 40, peak: 8, angle: 90 },
      { family: 'outline', kind: 'hem_shortened', op: 'hem', box: [40, 860, 660, 1080], by: 42 },
    ],
    controls: { jpeg: { quality: 85, chroma: '4:2:0' }, relight: { angle: 120, warmth: -1 }, sharpen: 0.6 },
  },
  {
    id: 'jeans',
    file: 'catalog/straight-leg-jeans/front.jpg',
    drawing: { canvas: [1200, 1600], design: [700, 1100], fill: 0.9 },
    fabric: { weave: 'twill', period: 3, amplitude: 5, grain: 3, folds: 0.07 },
    scene: 'street',
    output: { width: 480, height: 640 },
    note: 'mid-blue denim, shank button, rivets, coin pocket',
    defects: [
      { family: 'small_part_missing', kind: 'button_removed', op: 'remove', part: disc([350, 70], 23), donor: [-24, 0] },
      { family: 'small_part_missing', kind: 'rivet_removed', op: 'remove', part: disc([396, 330], 8), donor: [0, -22] },
      { family: 'small_part_added', kind: 'button_added', op: 'add', part: disc([350, 70], 21), to: [352, 250] },
      {
        family: 'interior_shape',
        kind: 'coin_pocket_moved',
        op: 'move',
        part: box([523, 149], [28, 32]),
        donor: [-62, 0],
        by: [0, 34],
      },
      { family: 'outline', kind: 'hem_shortened', op: 'hem', box: [110, 860, 350, 1090], by: 42 },
      { family: 'outline', kind: 'leg_narrowed', op: 'narrow', box: [520, 560, 610, 900], px: 5 },
    ],
    controls: { jpeg: { quality: 80, chroma: '4:2:0' }, zoom: { percent: 3, about: [350, 300] }, swap: 'loft', resynth: true },
  },
  {
    id: 'cap',
    file: 'catalog/embroidered-cap/front.jpg',
    drawing: { canvas: [900, 900], design: [1000, 760], fill: 0.86 },
    fabric: { weave: 'twill', period: 2, amplitude: 4, grain: 3, folds: 0.06 },
    scene: 'magazine-cover',
    output: { width: 640, height: 480 },
    note: 'navy cotton-twill cap, cream ATELIER embroidery, stitched eyelets',
    defects: [
      { family: 'small_part_missing', kind: 'eyelet_removed', op: 'remove', part: disc([330, 300], 13), donor: [36, 0] },
      { family: 'small_part_added', kind: 'eyelet_added', op: 'add', part: disc([330, 300], 13), to: [655, 295] },
      {
        family: 'print_colour',
        kind: 'embroidery_recoloured',
        op: 'recolour',
        box: [410, 320, 790, 430],
        ref: [241, 230, 204],
        tolerance: 22,
        hue: 60,
        target: 7,
      },
      { family: 'print_warp', kind: 'embroidery_warped', op: 'warp', at: [600, 385], sigma: 34, peak: 8, angle: 250 },
      { family: 'print_detail', kind: 'letters_smeared', op: 'melt', box: [560, 330, 690, 420] },
    ],
    controls: { jpeg: { quality: 70, chroma: '4:4:4' }, relight: { angle: 210, warmth: 1 }, crop: 12, resynth: true },
  },
  {
    id: 'linen-shirt',
    file: 'catalog/linen-button-shirt/front.jpg',
    drawing: { canvas: [1400, 1750], design: [1000, 1150], fill: 0.88 },
    fabric: { weave: 'plain', period: 3, amplitude: 4, grain: 3.5, folds: 0.07 },
    scene: 'loft',
    output: { width: 480, height: 640 },
    note: 'pale blue linen shirt, seven placket buttons, breast pocket, buttoned cuffs',
    defects: [
      { family: 'small_part_missing', kind: 'button_removed', op: 'remove', part: disc([500, 600], 14), donor: [0, -60] },
      { family: 'small_part_missing', kind: 'pocket_removed', op: 'remove', part: box([610, 393], [54, 68]), donor: [0, 175] },
      { family: 'small_part_missing', kind: 'cuff_button_removed', op: 'remove', part: disc([132, 786], 14), donor: [-30, -8] },
      {
        family: 'small_part_added',
        kind: 'pocket_added',
        op: 'add',
        part: box([610, 393], [54, 68]),
        to: [390, 393],
        mirror: true,
      },
      { family: 'interior_shape', kind: 'collar_reshaped', op: 'warp', at: [446, 262], sigma: 24, peak: 8, angle: 100 },
      { family: 'outline', kind: 'sleeve_narrowed', op: 'narrow', box: [60, 440, 240, 800], px: 4 },
    ],
    controls: { shift: [-3, 5], relight: { angle: 300, warmth: -1 }, swap: 'warm-gradient', resynth: true },
  },
  {
    id: 'blazer',
    file: 'catalog/camel-blazer-mannequin/mannequin.jpg',
    drawing: { canvas: [1500, 2000], design: [800, 1260], fill: 0.92 },
    fabric: { weave: 'twill', period: 3, amplitude: 4, grain: 3, folds: 0.07 },
    scene: 'cafe-interior',
    output: { width: 480, height: 640 },
    note: 'camel wool blazer on a dress form, horn buttons, flap pockets',
    defects: [
      { family: 'small_part_missing', kind: 'button_removed', op: 'remove', part: disc([404, 770], 18), donor: [0, -40] },
      {
        family: 'small_part_missing',
        kind: 'pocket_flap_removed',
        op: 'remove',
        part: box([292, 785], [66, 34]),
        donor: [0, -72],
      },
      { family: 'small_part_added', kind: 'button_added', op: 'add', part: disc([404, 770], 18), to: [408, 888] },
      {
        family: 'interior_shape',
        kind: 'pocket_flap_moved',
        op: 'move',
        part: box([508, 781], [66, 28]),
        donor: [0, -60],
        by: [0, 32],
      },
      { family: 'outline', kind: 'sleeve_narrowed', op: 'narrow', box: [95, 360, 200, 880], px: 4 },
    ],
    controls: { zoom: { percent: 1.5, about: [400, 600] }, sharpen: 1, swap: 'grey-seamless' },
  },
]
