import type { Render } from '#db/schema.ts'

type Rect = { left: number; top: number; width: number; height: number }

function rectOf(value: unknown): Rect | null {
  const r = (value as { rect?: Partial<Rect> } | null | undefined)?.rect
  return r && [r.left, r.top, r.width, r.height].every((v) => typeof v === 'number' && Number.isFinite(v)) ? (r as Rect) : null
}

/**
 * Where the product is in a render, as fractions of the image: the fidelity
 * check's grid (the placed product and a margin round it), from its heat map
 * or its cells. Null for a render measured before either existed.
 */
export function productBoxOf(
  render: Pick<Render, 'outputWidth' | 'outputHeight'> & { fidelity: Record<string, unknown> | null },
): { x: number; y: number; width: number; height: number } | null {
  const rect = rectOf(render.fidelity?.heatMap) ?? rectOf(render.fidelity?.heat)
  if (!rect || render.outputWidth <= 0 || render.outputHeight <= 0) return null
  return {
    x: rect.left / render.outputWidth,
    y: rect.top / render.outputHeight,
    width: rect.width / render.outputWidth,
    height: rect.height / render.outputHeight,
  }
}
