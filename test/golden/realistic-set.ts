// The realistic golden set (issue 14): catalog garments given fabric grain,
// weave and folds, rendered by the CPU studio into textured scenes, then
// altered the way diffusion models alter products. Made by
// `scripts/make-realistic-set.ts` (`npm run golden -- --realistic`); read by
// scripts/eval.ts and eval.test.ts. The basic set is golden-set.ts.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { GOLDEN_DIR } from './golden-set.ts'

export const REALISTIC_DIR = path.join(GOLDEN_DIR, 'realistic')
export const REALISTIC_MANIFEST = path.join(REALISTIC_DIR, 'manifest.json')
/** Beside the set, not in it: regenerating the set rewrites its folder, never the recorded baseline. */
export const REALISTIC_BASELINE = path.join(GOLDEN_DIR, 'realistic-baseline.json')

/** What a generator changes on a product that a shopper would see. Each must be flagged. */
export const DEFECT_FAMILIES = [
  /** A button, pocket, zip pull, eyelet or badge removed (well under 1 % of the product). */
  'small_part_missing',
  /** A button, pocket, patch or badge that the source doesn't have. */
  'small_part_added',
  /** A print element, logo stroke or panel of 1–3 % of the product recoloured by ΔE ≥ 5. */
  'print_colour',
  /** A contour inside the silhouette moved: neckline cut deeper, collar reshaped, pocket outline moved. */
  'interior_shape',
  /** A smooth local warp of the print by 6–12 px while the outline stays. */
  'print_warp',
  /** A logo melted, letters smeared or garbled. */
  'print_detail',
  /** The silhouette changed: a hem shortened, a sleeve narrowed, a strap thickened. */
  'outline',
] as const
export type DefectFamily = (typeof DEFECT_FAMILIES)[number]

/** Faithful renders, changed only in ways that leave the product as it is. None may be flagged. */
export const CLEAN_FAMILIES = [
  /** The CPU studio's own render, untouched (thin semi-transparent straps included). */
  'studio_render',
  /** Re-encoded at JPEG quality 70–85. */
  'jpeg',
  /** The whole frame shifted 2–6 px. */
  'frame_shift',
  /** The whole frame zoomed 1–3 % about a point. */
  'frame_zoom',
  /** The scene relit; the product's own colours move by ΔE ≤ 1.5. */
  'relight',
  /** The product rendered again onto another textured scene (its own placement and mask). */
  'scene_swap',
  /** Mild unsharp masking of the whole frame. */
  'sharpen',
  /** The fabric's grain re-synthesised: new noise with the same statistics, print and parts untouched. */
  'texture_resynth',
  /** The frame cut to a tighter margin round the product (the placement moved with it). */
  'margin_crop',
] as const
export type CleanFamily = (typeof CLEAN_FAMILIES)[number]

/**
 * The reason codes that name each defect family rightly (fidelity-reasons.ts).
 * why a list: a print element recoloured is rightly "print colour changed"
 * and acceptably "colour shifted", never "edge changed".
 */
export const EXPECTED_REASONS: Record<DefectFamily, readonly string[]> = {
  small_part_missing: ['part_changed'],
  small_part_added: ['part_changed'],
  print_colour: ['print_colour_changed', 'colour_shifted'],
  interior_shape: ['shape_changed'],
  print_warp: ['print_warped'],
  print_detail: ['detail_lost'],
  outline: ['edge_changed'],
}

const rect = z.object({ left: z.number(), top: z.number(), width: z.number().positive(), height: z.number().positive() })

const placementSchema = z.object({
  crop: rect,
  scale: z.number().positive(),
  x: z.number(),
  y: z.number(),
})

const caseSchema = z
  .object({
    id: z.string(),
    product: z.string(),
    scene: z.string(),
    family: z.enum([...DEFECT_FAMILIES, ...CLEAN_FAMILIES]),
    /** The specific change, e.g. `button_removed`, `neckline_deeper`, `jpeg_q75`. */
    kind: z.string(),
    expected: z.enum(['clean', 'defect']),
    /** Paths relative to the repository root. */
    source: z.string(),
    mask: z.string(),
    result: z.string(),
    placement: placementSchema,
    /** Defects: the changed pixels' bounding box on the result, in result px. */
    region: rect.optional(),
    /** The requested size of the change, in the unit `unit` names. */
    magnitude: z.number(),
    unit: z.string(),
    /** The size achieved, measured on the stored files (e.g. ΔE2000 of the recoloured element). */
    achieved: z.number().optional(),
    note: z.string().optional(),
  })
  .refine((c) => (c.expected === 'defect') === (DEFECT_FAMILIES as readonly string[]).includes(c.family), {
    message: 'a defect family is expected defect, a clean family clean',
  })
  .refine((c) => c.expected === 'clean' || c.region !== undefined, { message: 'every defect carries its region' })
export type RealisticCase = z.infer<typeof caseSchema>

export const realisticManifestSchema = z.object({
  version: z.literal(1),
  generator: z.string(),
  render: z.object({ backend: z.string(), workflow: z.string(), sharp: z.string(), vips: z.string() }),
  cases: z.array(caseSchema),
})
export type RealisticManifest = z.infer<typeof realisticManifestSchema>

export async function readRealisticManifest(file = REALISTIC_MANIFEST): Promise<RealisticManifest> {
  return realisticManifestSchema.parse(JSON.parse(await readFile(file, 'utf8')))
}
