// The catalog × scene sweep: every sample-catalog photo rendered by the CPU
// studio onto every scene, checked as the pipeline checks it. A faithful
// composite must never fail the gate; a product the studio refuses (a busy
// lifestyle photo) is counted apart, not as a pass.
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { AppError } from '#app/lib/errors.ts'
import { createCpuStudioBackend } from '#app/modules/backends/cpu-studio/adapter.server.ts'
import { measureFidelity } from '#app/modules/imaging/fidelity.server.ts'
import { markets } from '#app/modules/looks/markets.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import { quietControls } from '#test/support/render-controls.ts'
import { loadSource, REPO_ROOT } from './golden-set.ts'

/** Long edge of the sweep's renders: the size the golden sets work at, and about 100 renders a minute here. */
const EDGE = 768

export interface SweepResult {
  image: string
  scene: string
  score?: number
  flagged: boolean
  /** The backend refused the photo (its code), so nothing was checked. */
  refused?: string
}

export interface SweepSummary {
  results: SweepResult[]
  checked: number
  flagged: number
  refused: number
}

async function catalogImages(): Promise<string[]> {
  const root = path.join(REPO_ROOT, 'catalog')
  const images: string[] = []
  for (const dir of (await readdir(root, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()) {
    const product = JSON.parse(await readFile(path.join(root, dir, 'product.json'), 'utf8')) as {
      images: Array<{ file: string }>
    }
    for (const image of product.images) images.push(path.posix.join('catalog', dir, image.file))
  }
  return images
}

export async function runSweep(opts: { threshold: number; filter?: string }): Promise<SweepSummary> {
  const backend = createCpuStudioBackend()
  const results: SweepResult[] = []
  for (const image of (await catalogImages()).filter((f) => !opts.filter || f.includes(opts.filter))) {
    const source = await loadSource(image)
    // why the photo's own aspect: a merchant's market frame crops nothing off a product the studio fits in.
    const landscape = source.width > source.height
    const output = landscape
      ? { width: EDGE, height: Math.round((EDGE * 3) / 4) }
      : { width: Math.round((EDGE * 3) / 4), height: EDGE }
    for (const scene of scenes) {
      try {
        const r = await backend.render(
          {
            renderId: `sweep-${scene.id}`,
            operation: 'product_scene',
            source,
            persona: null,
            market: markets[0],
            scene,
            seed: 7,
            output,
          },
          quietControls(),
        )
        const fidelity =
          r.fidelity ??
          (await measureFidelity({ source, sourceMask: r.sourceMask, result: r.pixels ?? r.image!, placement: r.placement }))
        results.push({ image, scene: scene.id, score: fidelity.score, flagged: fidelity.score < opts.threshold })
      } catch (err) {
        if (!(err instanceof AppError)) throw err
        results.push({ image, scene: scene.id, flagged: false, refused: err.code })
      }
    }
  }
  const checked = results.filter((r) => !r.refused)
  return {
    results,
    checked: checked.length,
    flagged: checked.filter((r) => r.flagged).length,
    refused: results.length - checked.length,
  }
}

/** The sweep's baseline: the renders that failed the gate when it was recorded (`image@scene`). */
export interface SweepBaseline {
  checked: number
  flagged: string[]
}

export const sweepKey = (r: SweepResult): string => `${r.image}@${r.scene}`

export function toSweepBaseline(s: SweepSummary): SweepBaseline {
  return { checked: s.checked, flagged: s.results.filter((r) => r.flagged).map(sweepKey) }
}

/** Renders that fail the gate now and did not when the baseline was recorded. */
export function sweepRegressions(s: SweepSummary, base: SweepBaseline): string[] {
  const known = new Set(base.flagged)
  return s.results
    .filter((r) => r.flagged && !known.has(sweepKey(r)))
    .map((r) => `sweep: ${sweepKey(r)} scores ${r.score} (passed before)`)
}
