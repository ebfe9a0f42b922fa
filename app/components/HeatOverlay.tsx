export interface FidelityHeat {
  cols: number
  rows: number
  rect: { left: number; top: number; width: number; height: number }
  cells: number[]
}

/** A cell is marked from half its visible threshold; full strength at twice it (imaging/fidelity/heat-map.ts). */
const HEAT_SHOWN = 0.5

/**
 * Outlines where on the image the product changed: the heat grid's cells at
 * or past the visible threshold, as boxes over the picture. Positions are
 * shares of the render's own size, so they hold at any display size.
 */
export function HeatOverlay({ heat, width, height, label }: { heat: FidelityHeat; width: number; height: number; label: string }) {
  const cw = heat.rect.width / heat.cols
  const ch = heat.rect.height / heat.rows
  const cells = heat.cells.flatMap((v, c) => (v >= HEAT_SHOWN ? [{ c, v }] : []))
  return (
    <div role="img" aria-label={label} style={{ position: 'absolute', inset: 0, pointerEvents: 'none' }}>
      {cells.map(({ c, v }) => (
        <div
          key={c}
          data-heat-cell={c}
          style={{
            position: 'absolute',
            left: `${(100 * (heat.rect.left + (c % heat.cols) * cw)) / width}%`,
            top: `${(100 * (heat.rect.top + Math.floor(c / heat.cols) * ch)) / height}%`,
            width: `${(100 * cw) / width}%`,
            height: `${(100 * ch) / height}%`,
            background: `rgba(215, 44, 13, ${(0.2 + 0.35 * v).toFixed(2)})`,
            outline: '1px solid rgba(215, 44, 13, 0.9)',
          }}
        />
      ))}
    </div>
  )
}

export function hotCells(heat: FidelityHeat | null): number {
  return heat ? heat.cells.filter((v) => v >= HEAT_SHOWN).length : 0
}

