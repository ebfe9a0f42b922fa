import { useId } from 'react'

/** Where the product changed, as a render stores it: cells (fidelity v2–v8) or the comparison grid's own pixels. */
export type FidelityHeat = HeatCells | HeatPixels

/** cols × rows cells over `rect` (result px), 0 same … 1 changed, −1 no product. */
export interface HeatCells {
  cols: number
  rows: number
  rect: { left: number; top: number; width: number; height: number }
  cells: number[]
}

/** A width × height greyscale PNG at `url` over `rect`, byte = 255 × heat; `hot` px at or past the visible threshold. */
export interface HeatPixels {
  width: number
  height: number
  rect: { left: number; top: number; width: number; height: number }
  /** why a URL, not the bytes: the page loads the map only when it is shown. */
  url: string
  hot: number
}

/** Heat at a measure's visible threshold (1 = twice it; imaging/fidelity/heat-pixels.ts). */
const HEAT_SHOWN = 0.5
const TINT = 'rgb(215, 44, 13)'

/**
 * Outlines where on the image the product changed: what is at or past the
 * visible threshold, tinted and edged. Drawn in the render's own pixels
 * (viewBox), fitted like the image under it, so it holds at any display size
 * and zoom.
 */
export function HeatOverlay({
  heat,
  width,
  height,
  label,
  fit = 'cover',
}: {
  heat: FidelityHeat
  width: number
  height: number
  label: string
  /** How the image under it is fitted (object-fit). */
  fit?: 'cover' | 'contain'
}) {
  const filter = `heat-${useId().replace(/:/g, '')}`
  return (
    <svg
      role="img"
      aria-label={label}
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio={fit === 'cover' ? 'xMidYMid slice' : 'xMidYMid meet'}
      style={{ position: 'absolute', inset: 0, width: '100%', height: '100%', pointerEvents: 'none' }}
    >
      {'url' in heat ? (
        <>
          <HeatFilter id={filter} edge={Math.max(1, width / 400)} />
          <image
            href={heat.url}
            x={heat.rect.left}
            y={heat.rect.top}
            width={heat.rect.width}
            height={heat.rect.height}
            preserveAspectRatio="none"
            filter={`url(#${filter})`}
            data-heat-map=""
          />
        </>
      ) : (
        <HeatCellBoxes heat={heat} />
      )}
    </svg>
  )
}

/**
 * The stored grey (byte = 255 × heat) turned into the overlay: alpha from
 * the grey, cut at half (the visible threshold), a light tint inside and a
 * solid edge `edge` render px wide round it.
 */
function HeatFilter({ id, edge }: { id: string; edge: number }) {
  return (
    <filter id={id} colorInterpolationFilters="sRGB">
      <feColorMatrix type="matrix" values="0 0 0 0 0.843  0 0 0 0 0.173  0 0 0 0 0.051  1 0 0 0 0" />
      <feComponentTransfer result="hot">
        <feFuncA type="discrete" tableValues="0 1" />
      </feComponentTransfer>
      <feMorphology in="hot" operator="dilate" radius={edge} result="grown" />
      <feComposite in="grown" in2="hot" operator="out" result="edge" />
      <feComponentTransfer in="hot" result="fill">
        <feFuncA type="linear" slope="0.35" />
      </feComponentTransfer>
      <feMerge>
        <feMergeNode in="fill" />
        <feMergeNode in="edge" />
      </feMerge>
    </filter>
  )
}

function HeatCellBoxes({ heat }: { heat: HeatCells }) {
  const cw = heat.rect.width / heat.cols
  const ch = heat.rect.height / heat.rows
  return (
    <>
      {heat.cells.map((v, c) =>
        v >= HEAT_SHOWN ? (
          <rect
            key={c}
            data-heat-cell={c}
            x={heat.rect.left + (c % heat.cols) * cw}
            y={heat.rect.top + Math.floor(c / heat.cols) * ch}
            width={cw}
            height={ch}
            fill={TINT}
            fillOpacity={(0.2 + 0.35 * v).toFixed(2)}
            stroke={TINT}
            strokeOpacity={0.9}
            vectorEffect="non-scaling-stroke"
          />
        ) : null,
      )}
    </>
  )
}

/** How much of the product is at or past the visible threshold: cells, or grid px of a pixel map. */
export function hotArea(heat: FidelityHeat | null): number {
  if (!heat) return 0
  return 'url' in heat ? heat.hot : heat.cells.filter((v) => v >= HEAT_SHOWN).length
}
