import { BlockStack, Button, ButtonGroup, InlineStack, RangeSlider, Spinner, Text } from '@shopify/polaris'
import {
  forwardRef,
  useCallback,
  useEffect,
  useImperativeHandle,
  useRef,
  useState,
  type PointerEvent as ReactPointerEvent,
} from 'react'
import { useI18n } from '#app/lib/i18n.ts'

/**
 * The merchant's brush. Three layers, each saved as one channel of a PNG the
 * size of the source photo (R keep, G repaint, B hint; see
 * app/modules/renders/mask.server.ts for what each one does downstream).
 */
export const MASK_LAYERS = ['keep', 'repaint', 'hint'] as const
export type MaskLayer = (typeof MASK_LAYERS)[number]

/** One brush stroke in SOURCE pixels, so it means the same at any display size. */
export interface MaskStroke {
  kind: 'stroke'
  layer: MaskLayer
  erase: boolean
  /** Brush diameter in source pixels. */
  size: number
  /** x0, y0, x1, y1, … in source pixels. */
  points: number[]
}

/** The editing history: strokes, and Clear as an entry of its own so Undo can bring the strokes back. */
export type MaskAction = MaskStroke | { kind: 'clear' }

export interface MaskEditorHandle {
  /** The mask as a PNG the size of the source, or null when nothing is drawn. */
  toPng(): Promise<Blob | null>
}

interface Size {
  width: number
  height: number
}

const OVERLAY: Record<MaskLayer, string> = { keep: '#00a47c', repaint: '#ef4d2f', hint: '#2c6ecb' }
const OVERLAY_ALPHA = 0.55
/** With "See the photo" on, the strokes stay visible but the photo shows through. */
const SEE_THROUGH_ALPHA = 0.18

/** The strokes after the last Clear: what the mask consists of. */
export function visibleStrokes(history: MaskAction[]): MaskStroke[] {
  const lastClear = history.findLastIndex((a) => a.kind === 'clear')
  return history.slice(lastClear + 1).filter((a): a is MaskStroke => a.kind === 'stroke')
}

/**
 * The source photo's size as the server sees it (EXIF orientation applied).
 * why the preview's shape: a platform may report the stored, unrotated size,
 * while the preview (and the server's normalised source) is upright.
 */
export function orientedSize(reported: { width: number | null; height: number | null }, preview: Size | null): Size | null {
  const { width, height } = reported
  if (!width || !height) return preview
  if (!preview) return { width, height }
  const shape = preview.width / preview.height
  const rotated = Math.abs(shape - height / width) < Math.abs(shape - width / height)
  return rotated ? { width: height, height: width } : { width, height }
}

/**
 * Draws one stroke onto a layer at `scale` (display px per source px), from
 * point index `from` on. why round caps and joins: segments drawn one by one
 * while the pointer moves then look the same as the whole stroke replayed.
 */
function drawStroke(ctx: CanvasRenderingContext2D, stroke: MaskStroke, scale: number, colour: string, from = 0): void {
  const p = stroke.points
  ctx.save()
  ctx.globalCompositeOperation = stroke.erase ? 'destination-out' : 'source-over'
  ctx.strokeStyle = colour
  ctx.fillStyle = colour
  ctx.lineCap = 'round'
  ctx.lineJoin = 'round'
  ctx.lineWidth = stroke.size * scale
  if (p.length === 2) {
    ctx.beginPath()
    ctx.arc(p[0] * scale, p[1] * scale, (stroke.size * scale) / 2, 0, Math.PI * 2)
    ctx.fill()
  } else {
    const start = Math.max(0, from - 2)
    ctx.beginPath()
    ctx.moveTo(p[start] * scale, p[start + 1] * scale)
    for (let i = start + 2; i < p.length; i += 2) ctx.lineTo(p[i] * scale, p[i + 1] * scale)
    ctx.stroke()
  }
  ctx.restore()
}

/**
 * Renders the strokes into the PNG the server expects: source-sized, opaque,
 * each layer one channel at 0 or 255. why one layer at a time on one canvas:
 * at 40 megapixels every full-size canvas costs 160 MB.
 */
export async function maskPng(history: MaskAction[], size: Size): Promise<Blob | null> {
  const strokes = visibleStrokes(history)
  if (strokes.length === 0) return null
  const canvas = document.createElement('canvas')
  canvas.width = size.width
  canvas.height = size.height
  const ctx = canvas.getContext('2d', { willReadFrequently: true })
  if (!ctx) throw new Error('This browser cannot draw on a canvas.')
  const out = ctx.createImageData(size.width, size.height)
  MASK_LAYERS.forEach((layer, channel) => {
    ctx.clearRect(0, 0, size.width, size.height)
    for (const stroke of strokes) if (stroke.layer === layer) drawStroke(ctx, stroke, 1, '#ffffff')
    const painted = ctx.getImageData(0, 0, size.width, size.height).data
    // why alpha ≥ 128: brush edges are anti-aliased; a layer is yes or no per pixel.
    for (let i = 3; i < painted.length; i += 4) if (painted[i] >= 128) out.data[i - 3 + channel] = 255
  })
  for (let i = 3; i < out.data.length; i += 4) out.data[i] = 255
  ctx.putImageData(out, 0, 0)
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The mask could not be encoded.'))), 'image/png'),
  )
}

function useElementSize(element: HTMLElement | null): Size {
  const [size, setSize] = useState<Size>({ width: 0, height: 0 })
  useEffect(() => {
    if (!element) return
    const observer = new ResizeObserver(([entry]) => {
      const box = entry.contentRect
      setSize({ width: box.width, height: box.height })
    })
    observer.observe(element)
    return () => observer.disconnect()
  }, [element])
  return size
}

const NOT_TEXT_INPUTS = ['range', 'checkbox', 'radio', 'button', 'submit']

/** Whether Ctrl+Z belongs to a text field (its own undo) rather than to the mask. */
function isTyping(target: EventTarget | null): boolean {
  if (target instanceof HTMLInputElement) return !NOT_TEXT_INPUTS.includes(target.type)
  return target instanceof HTMLElement && (target.isContentEditable || ['TEXTAREA', 'SELECT'].includes(target.tagName))
}

/** Ctrl+Z / Cmd+Z undoes a stroke while the editor is open (not while typing in a field). */
function useUndoShortcut(undo: () => void): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.shiftKey || e.altKey || e.key.toLowerCase() !== 'z' || isTyping(e.target)) return
      e.preventDefault()
      undo()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [undo])
}

interface CanvasProps {
  size: Size
  history: MaskAction[]
  layer: MaskLayer
  erase: boolean
  brush: number
  alpha: number
  label: string
  describedBy: string
  onStroke: (stroke: MaskStroke) => void
}

/**
 * The drawing surface. Each layer is kept on its own offscreen canvas at
 * display resolution and composited with one alpha, so overlapping strokes
 * of a layer do not get darker. A stroke in progress is drawn segment by
 * segment; the history is replayed only when it changes (undo, clear, a
 * finished stroke) or the display size does.
 */
function MaskCanvas(props: CanvasProps) {
  const { size, history } = props
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const [box, setBox] = useState<HTMLDivElement | null>(null)
  const display = useElementSize(box)
  const layers = useRef<Record<MaskLayer, HTMLCanvasElement> | null>(null)
  const live = useRef<{ pointerId: number; stroke: MaskStroke } | null>(null)
  const cursor = useRef<{ x: number; y: number } | null>(null)
  const ratio = typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1
  const view = { width: Math.max(1, Math.round(display.width * ratio)), height: Math.max(1, Math.round(display.height * ratio)) }
  const scale = view.width / size.width

  const composite = useCallback(() => {
    const ctx = canvasRef.current?.getContext('2d')
    if (!ctx || !layers.current) return
    ctx.clearRect(0, 0, view.width, view.height)
    ctx.globalAlpha = props.alpha
    for (const layer of MASK_LAYERS) ctx.drawImage(layers.current[layer], 0, 0)
    ctx.globalAlpha = 1
    if (cursor.current) {
      const r = Math.max(2, (props.brush * scale) / 2)
      ctx.lineWidth = 1.5 * ratio
      for (const [colour, grow] of [['rgba(0,0,0,0.7)', ratio], ['#ffffff', 0]] as const) {
        ctx.strokeStyle = colour
        ctx.beginPath()
        ctx.arc(cursor.current.x * scale, cursor.current.y * scale, r + grow, 0, Math.PI * 2)
        ctx.stroke()
      }
    }
  }, [view.width, view.height, props.alpha, props.brush, scale, ratio])
  const compositeRef = useRef(composite)
  compositeRef.current = composite
  // why apart from the replay below: a new overlay opacity or brush size only recomposites.
  useEffect(() => composite(), [composite])

  useEffect(() => {
    const canvas = canvasRef.current
    if (!canvas || display.width === 0) return
    canvas.width = view.width
    canvas.height = view.height
    const fresh = {} as Record<MaskLayer, HTMLCanvasElement>
    for (const layer of MASK_LAYERS) {
      const c = layers.current?.[layer] ?? document.createElement('canvas')
      c.width = view.width
      c.height = view.height
      fresh[layer] = c
    }
    layers.current = fresh
    // why the live stroke too: the page may re-render (live render progress) mid-stroke.
    const strokes = live.current ? [...visibleStrokes(history), live.current.stroke] : visibleStrokes(history)
    for (const stroke of strokes) {
      const ctx = fresh[stroke.layer].getContext('2d')
      if (ctx) drawStroke(ctx, stroke, scale, OVERLAY[stroke.layer])
    }
    compositeRef.current()
  }, [history, view.width, view.height, scale, display.width])

  const toSource = (e: { clientX: number; clientY: number }) => {
    const rect = canvasRef.current!.getBoundingClientRect()
    const x = ((e.clientX - rect.left) / rect.width) * size.width
    const y = ((e.clientY - rect.top) / rect.height) * size.height
    const round = (v: number, max: number) => Math.round(Math.min(max, Math.max(0, v)) * 10) / 10
    return { x: round(x, size.width), y: round(y, size.height) }
  }

  const extend = (stroke: MaskStroke, point: { x: number; y: number }) => {
    const from = stroke.points.length
    stroke.points.push(point.x, point.y)
    const ctx = layers.current?.[stroke.layer].getContext('2d')
    if (ctx) drawStroke(ctx, stroke, scale, OVERLAY[stroke.layer], from)
  }

  const onPointerDown = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    // why one pointer at a time: a palm or second finger must not start a second stroke.
    if (live.current || (e.pointerType === 'mouse' && e.button !== 0)) return
    e.preventDefault()
    try {
      e.currentTarget.setPointerCapture(e.pointerId)
    } catch {
      // why: a pointer the browser no longer tracks cannot be captured; the stroke still works.
    }
    const point = toSource(e)
    const stroke: MaskStroke = { kind: 'stroke', layer: props.layer, erase: props.erase, size: props.brush, points: [] }
    live.current = { pointerId: e.pointerId, stroke }
    cursor.current = e.pointerType === 'touch' ? null : point
    extend(stroke, point)
    composite()
  }

  const onPointerMove = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    const drawing = live.current?.pointerId === e.pointerId ? live.current.stroke : null
    // why coalesced events: a fast pen or mouse reports several positions per frame.
    const coalesced = drawing ? (e.nativeEvent.getCoalescedEvents?.() ?? []) : []
    const events = coalesced.length > 0 ? coalesced : [e.nativeEvent]
    for (const ev of events) {
      const point = toSource(ev)
      if (e.pointerType !== 'touch') cursor.current = point
      if (drawing) extend(drawing, point)
    }
    composite()
  }

  const onPointerEnd = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    if (live.current?.pointerId !== e.pointerId) return
    const { stroke } = live.current
    live.current = null
    props.onStroke(stroke)
  }

  const onPointerLeave = () => {
    cursor.current = null
    composite()
  }

  return (
    <div ref={setBox} style={{ position: 'absolute', inset: 0 }}>
      <canvas
        ref={canvasRef}
        data-testid="mask-canvas"
        aria-label={props.label}
        aria-describedby={props.describedBy}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerEnd}
        onPointerCancel={onPointerEnd}
        onPointerLeave={onPointerLeave}
        style={{ position: 'absolute', inset: 0, width: '100%', height: '100%', touchAction: 'none', cursor: 'crosshair' }}
      />
    </div>
  )
}

/** The layer's overlay colour, so a button and its strokes are visibly the same thing. */
function Swatch({ layer }: { layer: MaskLayer }) {
  return (
    <span aria-hidden style={{ display: 'inline-block', width: 12, height: 12, margin: 4, borderRadius: '50%', background: OVERLAY[layer] }} />
  )
}

function Toolbar(props: {
  layer: MaskLayer
  erase: boolean
  brush: number
  maxBrush: number
  seeThrough: boolean
  strokes: number
  canUndo: boolean
  onLayer: (layer: MaskLayer) => void
  onErase: (erase: boolean) => void
  onBrush: (size: number) => void
  onSeeThrough: (on: boolean) => void
  onUndo: () => void
  onClear: () => void
}) {
  const { t } = useI18n()
  return (
    <InlineStack gap="400" blockAlign="end" wrap>
      <BlockStack gap="100">
        <Text as="span" variant="bodySm" tone="subdued">{t('mask.layers')}</Text>
        <div role="group" aria-label={t('mask.layers')}>
          <ButtonGroup variant="segmented">
            {MASK_LAYERS.map((layer) => (
              <Button key={layer} pressed={props.layer === layer} onClick={() => props.onLayer(layer)} icon={<Swatch layer={layer} />}>
                {t(`mask.layer.${layer}`)}
              </Button>
            ))}
          </ButtonGroup>
        </div>
      </BlockStack>
      <BlockStack gap="100">
        <Text as="span" variant="bodySm" tone="subdued">{t('mask.tool')}</Text>
        <div role="group" aria-label={t('mask.tool')}>
          <ButtonGroup variant="segmented">
            <Button pressed={!props.erase} onClick={() => props.onErase(false)}>{t('mask.brush')}</Button>
            <Button pressed={props.erase} onClick={() => props.onErase(true)}>{t('mask.eraser')}</Button>
          </ButtonGroup>
        </div>
      </BlockStack>
      <div style={{ width: 200 }}>
        <RangeSlider
          label={t('mask.size')}
          min={2}
          max={props.maxBrush}
          value={props.brush}
          output
          suffix={<Text as="span" variant="bodySm">{t('mask.sizeValue', { size: props.brush })}</Text>}
          onChange={(v) => props.onBrush(Array.isArray(v) ? v[0] : v)}
        />
      </div>
      <ButtonGroup>
        <Button onClick={props.onUndo} disabled={!props.canUndo}>{t('mask.undo')}</Button>
        <Button onClick={props.onClear} disabled={props.strokes === 0} tone="critical" variant="secondary">{t('mask.clear')}</Button>
        <Button pressed={props.seeThrough} onClick={() => props.onSeeThrough(!props.seeThrough)}>{t('mask.showPhoto')}</Button>
      </ButtonGroup>
    </InlineStack>
  )
}

export interface MaskEditorProps {
  imageUrl: string
  /** The source's size as the platform reports it (null when unknown). */
  width: number | null
  height: number | null
  history: MaskAction[]
  onChange: (history: MaskAction[]) => void
}

/**
 * The source photo with the mask drawn over it. Mouse, pen and touch all
 * arrive as Pointer Events; `touch-action: none` keeps a finger from
 * scrolling the page instead of drawing.
 */
export const MaskEditor = forwardRef<MaskEditorHandle, MaskEditorProps>(function MaskEditor(props, ref) {
  const { t } = useI18n()
  const { history, onChange } = props
  const [preview, setPreview] = useState<Size | null>(null)
  const size = orientedSize({ width: props.width, height: props.height }, preview)
  const longEdge = size ? Math.max(size.width, size.height) : 1000
  const [layer, setLayer] = useState<MaskLayer>('keep')
  const [erase, setErase] = useState(false)
  const [brush, setBrush] = useState(() => Math.round(longEdge * 0.04))
  const [seeThrough, setSeeThrough] = useState(false)
  const strokes = visibleStrokes(history).length

  const undo = useCallback(() => {
    if (history.length > 0) onChange(history.slice(0, -1))
  }, [history, onChange])
  useUndoShortcut(undo)
  useImperativeHandle(ref, () => ({ toPng: () => (size ? maskPng(history, size) : Promise.resolve(null)) }), [history, size])

  const helpId = 'mask-editor-help'
  const ready = preview !== null && size !== null
  const displayWidth = size ? `min(100%, calc(70vh * ${size.width / size.height}))` : '100%'
  return (
    <section aria-label={t('mask.editorLabel')} data-testid="mask-editor" data-strokes={strokes} data-layer={layer}>
      <BlockStack gap="300">
        <Toolbar
          layer={layer}
          erase={erase}
          brush={brush}
          maxBrush={Math.max(20, Math.round(longEdge * 0.2))}
          seeThrough={seeThrough}
          strokes={strokes}
          canUndo={history.length > 0}
          onLayer={setLayer}
          onErase={setErase}
          onBrush={setBrush}
          onSeeThrough={setSeeThrough}
          onUndo={undo}
          onClear={() => onChange([...history, { kind: 'clear' }])}
        />
        <div
          style={{
            position: 'relative',
            width: displayWidth,
            aspectRatio: size ? `${size.width} / ${size.height}` : '4 / 3',
            borderRadius: 8,
            overflow: 'hidden',
            background: '#f1f1f1',
            userSelect: 'none',
          }}
        >
          <img
            src={props.imageUrl}
            alt={t('mask.photoAlt')}
            draggable={false}
            onLoad={(e) => setPreview({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
            style={{ position: 'absolute', inset: 0, width: '100%', height: '100%', display: 'block' }}
          />
          {ready ? (
            <MaskCanvas
              size={size}
              history={history}
              layer={layer}
              erase={erase}
              brush={brush}
              alpha={seeThrough ? SEE_THROUGH_ALPHA : OVERLAY_ALPHA}
              label={t('mask.canvas', { layer: t(`mask.layer.${layer}`) })}
              describedBy={helpId}
              onStroke={(stroke) => onChange([...history, stroke])}
            />
          ) : (
            <div style={{ position: 'absolute', inset: 0, display: 'grid', placeItems: 'center' }}>
              <Spinner size="small" accessibilityLabel={t('mask.loading')} />
            </div>
          )}
        </div>
        <div id={helpId}>
          <BlockStack gap="100">
            <Text as="p" variant="bodySm">{t(`mask.layerHelp.${layer}`)}</Text>
            <Text as="p" variant="bodySm" tone="subdued">{t('mask.help')}</Text>
          </BlockStack>
        </div>
        <InlineStack align="space-between">
          <span aria-live="polite" data-testid="mask-strokes">
            <Text as="span" variant="bodySm" tone="subdued">{t('mask.strokes', { count: strokes })}</Text>
          </span>
          <Text as="span" variant="bodySm" tone="subdued">{t('mask.shortcuts')}</Text>
        </InlineStack>
      </BlockStack>
    </section>
  )
})
