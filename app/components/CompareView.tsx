// Before and after: the merchant's photo and the result on one canvas, a
// slider between them, zoom and pan, all by keyboard too (issue 16: clicking
// a result only opened the raw JPEG).
import { useState, type KeyboardEvent, type PointerEvent } from 'react'
import { BlockStack, Button, InlineStack, Text } from '@shopify/polaris'
import { useI18n } from '#app/lib/i18n.ts'
import { HeatOverlay, hotArea, type FidelityHeat } from './HeatOverlay.tsx'

const ZOOMS = [1, 1.5, 2, 3, 4]
const PAN_STEP = 0.05

export function CompareView(props: {
  beforeUrl: string
  afterUrl: string
  width: number
  height: number
  heat?: FidelityHeat | null
  /** The check found the product changed: an empty map then means the change could not be placed, not that there is none. */
  changed?: boolean
}) {
  const { t } = useI18n()
  const [position, setPosition] = useState(50)
  const [showChanges, setShowChanges] = useState(false)
  const [zoomAt, setZoomAt] = useState(0)
  const [pan, setPan] = useState({ x: 0, y: 0 })
  const [drag, setDrag] = useState<{ x: number; y: number; from: { x: number; y: number } } | null>(null)
  const zoom = ZOOMS[zoomAt]
  // why clamp: past half the zoomed overhang the image would leave the frame.
  const limit = (zoom - 1) / (2 * zoom)
  const clamp = (p: { x: number; y: number }) => ({ x: Math.max(-limit, Math.min(limit, p.x)), y: Math.max(-limit, Math.min(limit, p.y)) })
  const setZoom = (i: number) => {
    const next = Math.max(0, Math.min(ZOOMS.length - 1, i))
    setZoomAt(next)
    const l = (ZOOMS[next] - 1) / (2 * ZOOMS[next])
    setPan((p) => ({ x: Math.max(-l, Math.min(l, p.x)), y: Math.max(-l, Math.min(l, p.y)) }))
  }
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const moves: Record<string, [number, number]> = { ArrowLeft: [1, 0], ArrowRight: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] }
    if (e.key === '+' || e.key === '=') setZoom(zoomAt + 1)
    else if (e.key === '-') setZoom(zoomAt - 1)
    else if (e.key === '0') setZoom(0)
    else if (moves[e.key] && zoom > 1) setPan((p) => clamp({ x: p.x + moves[e.key][0] * PAN_STEP, y: p.y + moves[e.key][1] * PAN_STEP }))
    else return
    e.preventDefault()
  }
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (zoom === 1) return
    e.currentTarget.setPointerCapture(e.pointerId)
    setDrag({ x: e.clientX, y: e.clientY, from: pan })
  }
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (!drag) return
    const box = e.currentTarget.getBoundingClientRect()
    setPan(clamp({ x: drag.from.x + (e.clientX - drag.x) / (box.width * zoom), y: drag.from.y + (e.clientY - drag.y) / (box.height * zoom) }))
  }
  const layer = { position: 'absolute', inset: 0, width: '100%', height: '100%', objectFit: 'contain', display: 'block' } as const
  const transform = `scale(${zoom}) translate(${pan.x * 100}%, ${pan.y * 100}%)`
  return (
    <BlockStack gap="300">
      <div
        role="group"
        aria-label={t('compare.canvas')}
        tabIndex={0}
        className="atelier-choice"
        data-testid="compare-canvas"
        data-zoom={zoom}
        onKeyDown={onKey}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={() => setDrag(null)}
        style={{ position: 'relative', width: '100%', aspectRatio: `${props.width} / ${props.height}`, maxHeight: '70vh', overflow: 'hidden', background: '#f1f1f1', borderRadius: 8, cursor: zoom > 1 ? (drag ? 'grabbing' : 'grab') : 'default', touchAction: 'none' }}
      >
        <div style={{ position: 'absolute', inset: 0, transform, transformOrigin: 'center' }}>
          <img src={props.afterUrl} alt={t('compare.after')} style={layer} draggable={false} />
          {/* why between the two: the map is in the result's pixels, so the photo's side covers it. */}
          {showChanges && props.heat && (
            <div data-testid="compare-heat" style={{ position: 'absolute', inset: 0 }}>
              <HeatOverlay heat={props.heat} width={props.width} height={props.height} label={t('fidelity.whereLabel')} fit="contain" />
            </div>
          )}
          <img src={props.beforeUrl} alt={t('compare.before')} style={{ ...layer, clipPath: `inset(0 ${100 - position}% 0 0)`, background: '#f1f1f1' }} draggable={false} data-testid="compare-before" />
        </div>
        <div aria-hidden style={{ position: 'absolute', top: 0, bottom: 0, left: `${position}%`, width: 2, background: '#fff', boxShadow: '0 0 0 1px rgba(0,0,0,.3)' }} />
        <span style={{ position: 'absolute', top: 8, left: 8, background: 'rgba(0,0,0,.6)', color: '#fff', borderRadius: 4, padding: '2px 6px', fontSize: 12 }}>{t('compare.before')}</span>
        <span style={{ position: 'absolute', top: 8, right: 8, background: 'rgba(0,0,0,.6)', color: '#fff', borderRadius: 4, padding: '2px 6px', fontSize: 12 }}>{t('compare.after')}</span>
      </div>
      <label style={{ display: 'block' }}>
        <Text as="span" variant="bodySm">{t('compare.slider')}</Text>
        <input type="range" min={0} max={100} value={position} onChange={(e) => setPosition(Number(e.target.value))} aria-valuetext={t('compare.sliderValue', { percent: position })} style={{ width: '100%' }} data-testid="compare-slider" />
      </label>
      <InlineStack gap="200" blockAlign="center">
        <Button onClick={() => setZoom(zoomAt - 1)} disabled={zoomAt === 0} accessibilityLabel={t('compare.zoomOut')}>−</Button>
        <Text as="span" variant="bodySm"><span data-testid="compare-zoom">{Math.round(zoom * 100)} %</span></Text>
        <Button onClick={() => setZoom(zoomAt + 1)} disabled={zoomAt === ZOOMS.length - 1} accessibilityLabel={t('compare.zoomIn')}>+</Button>
        <Text as="span" variant="bodySm" tone="subdued">{t('compare.keys')}</Text>
      </InlineStack>
      {props.heat && (
        <InlineStack gap="200" blockAlign="center">
          <span data-testid="compare-changes">
            <Button onClick={() => setShowChanges((v) => !v)} pressed={showChanges}>
              {showChanges ? t('compare.hideChanges') : t('compare.showChanges')}
            </Button>
          </span>
          {showChanges && hotArea(props.heat) === 0 && (
            <Text as="span" variant="bodySm" tone="subdued">
              <span data-testid="compare-no-changes">{t(props.changed ? 'compare.changeUnplaced' : 'compare.noChanges')}</span>
            </Text>
          )}
        </InlineStack>
      )}
    </BlockStack>
  )
}
