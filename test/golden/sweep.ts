// The catalog × scene sweep: every sample-catalog photo rendered by the CPU
// studio onto every scene, checked as the pipeline checks it. A faithful
// composite must never fail the gate; a product the studio refuses (a busy
// lifestyle photo) is counted apart, not as a pass.
import path from 'node:path'
import { AppError } from '#app/lib/errors.ts'
import { createCpuStudioBackend } from '#app/modules/backends/cpu-studio/adapter.server.ts'
import { normaliseImage } from '#app/modules/imaging/normalise.server.ts'
import { listedImages } from '#app/modules/platforms/catalog.server.ts'
import { createLocalPlatform } from '#app/modules/platforms/local.server.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import { quietControls } from '#test/support/render-controls.ts'
import { sceneRequest } from '#test/support/scene-request.ts'
import { REPO_ROOT } from './golden-set.ts'

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

/** Every original image of the sample catalog, read the way a local store's bulk run reads it. */
async function* catalogImages(): AsyncGenerator<{ name: string; bytes: Buffer }> {
  const platform = createLocalPlatform(path.join(REPO_ROOT, 'catalog'))
  for await (const image of listedImages(platform, {})) {
    yield { name: `${image.productRef}/${image.imageRef}`, bytes: await platform.readImage(image.productRef, image.imageRef) }
  }
}

export async function runSweep(opts: { threshold: number; filter?: string }): Promise<SweepSummary> {
  const backend = createCpuStudioBackend()
  const results: SweepResult[] = []
  for await (const { name: image, bytes } of catalogImages()) {
    if (opts.filter && !image.includes(opts.filter)) continue
    const source = await normaliseImage(bytes)
    // why the photo's own aspect: a merchant's market frame crops nothing off a product the studio fits in.
    const landscape = source.width > source.height
    const output = landscape
      ? { width: EDGE, height: Math.round((EDGE * 3) / 4) }
      : { width: Math.round((EDGE * 3) / 4), height: EDGE }
    for (const scene of scenes) {
      try {
        const r = await backend.render(
          sceneRequest({ renderId: `sweep-${scene.id}`, source, sceneId: scene.id, output }),
          quietControls(),
        )
        // why no fallback: the CPU studio measures the pixels it encoded itself, and the pipeline relies on that.
        const fidelity = r.fidelity
        if (!fidelity) throw new Error(`the CPU studio returned ${image} on ${scene.id} unmeasured`)
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
