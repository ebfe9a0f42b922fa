import type { RenderRequest, SourceImage } from '#app/modules/backends/types.ts'
import { markets } from '#app/modules/looks/markets.ts'
import { scenes } from '#app/modules/looks/scenes.ts'

/** A look's scene by id; an unknown id is a mistake in the calling script. */
export function sceneById(id: string): RenderRequest['scene'] {
  const scene = scenes.find((s) => s.id === id)
  if (!scene) throw new Error(`unknown scene ${id}`)
  return scene
}

/**
 * The request of a "no model" look: the product placed in a scene, first
 * market, seed 7, as the golden sets, the catalog sweep and the imaging
 * bench render it.
 */
export function sceneRequest(opts: {
  renderId: string
  source: SourceImage
  sceneId: string
  output: RenderRequest['output']
  mask?: Buffer
}): RenderRequest {
  const { renderId, source, sceneId, output, mask } = opts
  return {
    renderId,
    operation: 'product_scene',
    source,
    ...(mask && { mask }),
    persona: null,
    market: markets[0],
    scene: sceneById(sceneId),
    seed: 7,
    output,
  }
}
