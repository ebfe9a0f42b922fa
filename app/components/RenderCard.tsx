import { useFetcher } from '@remix-run/react'
import { useEffect, useRef, useState } from 'react'
import { Badge, Banner, BlockStack, Button, Card, InlineStack, Modal, ProgressBar, Select, Text } from '@shopify/polaris'
import { useI18n } from '#app/lib/i18n.ts'
import { variationLabel, type AppliedVariation } from '#app/modules/looks/variation.ts'
import { CompareView } from './CompareView.tsx'
import { Flag } from './Flag.tsx'
import { ConfirmPublish } from './ConfirmPublish.tsx'
import { SlotChooser, slotImagesOf } from './SlotChooser.tsx'
import { useToast } from './Toasts.tsx'
import { HeatOverlay, hotArea, type FidelityHeat } from './HeatOverlay.tsx'
import type { Place } from './verdict.ts'
import { VerdictBadge } from './VerdictBadge.tsx'

export type { FidelityHeat }

export interface RenderView {
  id: string
  status: 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'canceled'
  reviewState: 'pending' | 'approved' | 'rejected' | 'published' | 'unpublished' | 'publish_failed'
  progress: number
  progressMessage: string | null
  queuePosition: number | null
  etaSeconds: number | null
  /** Every backend that could take it is not answering (ISO times). */
  waitingFor: { backend: string; since: string; until: string } | null
  /** The name of the backend it was made for (or ran on): named in a BACKEND_UNAVAILABLE failure. */
  backendName: string
  imageUrl: string | null
  /** WebP previews of the result at card sizes (the full image stays behind imageUrl). */
  previewUrls?: { width: number; url: string }[]
  width: number
  height: number
  fidelityScore: number | null
  deltaEMean: number | null
  ssim: number | null
  /** Why the QA gate wants the merchant's eyes (fidelity.reason.* codes). */
  reasons: string[]
  /** Where on the product each reason was found (parallel to reasons), when known. */
  reasonPlaces?: (Place | null)[]
  gateRetries: number
  /** Where the product changed over `rect` (result px): the comparison grid's pixel map, or the cells renders measured before it stored. */
  heat: FidelityHeat | null
  errorCode: string | null
  errorMessage: string | null
  /** Why the backend failed it (backends.checkReason.*), when known. */
  errorReason: string | null
  sceneId: string
  marketId: string
  personaId: string | null
  backendMs: number | null
  /** What this variant varied (framing, light), as its backend expressed it; null before it finished. */
  variation?: AppliedVariation | null
  attempts: number
  createdAt: string
}

const statusTone = {
  queued: 'attention',
  running: 'info',
  retrying: 'warning',
  succeeded: 'success',
  failed: 'critical',
  canceled: undefined,
} as const

const reviewTone = {
  pending: undefined,
  approved: 'success',
  rejected: 'critical',
  published: 'success',
  unpublished: undefined,
  publish_failed: 'critical',
} as const

type ActionFetcher = ReturnType<typeof useFetcher<{ ok: boolean; intent?: string; error?: { code: string; message: string } }>>

function ActionButton(props: { fetcher: ActionFetcher; renderId: string; intent: string; label: string; primary?: boolean; extra?: Record<string, string>; tone?: 'critical' }) {
  const { fetcher } = props
  const busy = fetcher.state !== 'idle' && fetcher.formData?.get('intent') === props.intent
  return (
    <fetcher.Form method="post">
      <input type="hidden" name="intent" value={props.intent} />
      <input type="hidden" name="renderId" value={props.renderId} />
      {Object.entries(props.extra ?? {}).map(([k, v]) => <input key={k} type="hidden" name={k} value={v} />)}
      <Button submit size="slim" variant={props.primary ? 'primary' : undefined} tone={props.tone} loading={busy}>
        {props.label}
      </Button>
    </fetcher.Form>
  )
}

/**
 * One fetcher per card, not per button: a button disappears as soon as its
 * action changes the render's state, and the outcome (error text, App Bridge
 * toast when embedded) must still be shown.
 */
function useRenderActions() {
  const fetcher = useFetcher<{ ok: boolean; intent?: string; error?: { code: string; message: string; details?: unknown } }>()
  const { t } = useI18n()
  const toast = useToast()
  useEffect(() => {
    if (fetcher.state !== 'idle' || !fetcher.data) return
    if (fetcher.data.ok && fetcher.data.intent) toast(t(`render.toast.${fetcher.data.intent}`))
    else if (fetcher.data.error) toast(t(`errors.${fetcher.data.error.code}`), { isError: true })
  }, [fetcher.state, fetcher.data])
  return fetcher
}

/** A time of day in the merchant's locale: in UTC (said so) until the page runs in the browser, whose time zone the server does not know. */
function clock(iso: string, locale: string, utc: boolean): string {
  const time = new Date(iso).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone: utc ? 'UTC' : undefined })
  return utc ? `${time} UTC` : time
}

/** True on the server and during hydration (so both render the same text), false once mounted. */
function useServerTime(): boolean {
  const [server, setServer] = useState(true)
  useEffect(() => setServer(false), [])
  return server
}

/** The line under the progress bar: the truth about the wait first, then the step or queue place. */
export function progressLine(
  r: Pick<RenderView, 'status' | 'progress' | 'progressMessage' | 'queuePosition' | 'etaSeconds' | 'waitingFor'>,
  t: (key: string, vars?: Record<string, string | number>) => string,
  locale: string,
  utc = true,
): string {
  if (r.waitingFor) {
    const { backend, since, until } = r.waitingFor
    return t('render.waitingFor', { backend, since: clock(since, locale, utc), until: clock(until, locale, utc) })
  }
  const line =
    r.status === 'running'
      ? t('render.running', { percent: r.progress, step: stepLabel(t, r.progressMessage) })
      : r.queuePosition !== null
        ? t('render.queued', { position: r.queuePosition })
        : t(`render.status.${r.status}`)
  return r.etaSeconds !== null ? `${line} · ${t('render.eta', { seconds: r.etaSeconds })}` : line
}

/** Why a render failed, in the merchant's words: the backend's trouble and its fix (as Settings' test says it) when known. */
export function failureText(
  r: Pick<RenderView, 'status' | 'errorCode' | 'errorReason' | 'backendName'>,
  t: (key: string, vars?: Record<string, string | number>) => string,
): string {
  if (r.errorCode === 'BACKEND_UNAVAILABLE') return t('render.backendDown', { backend: r.backendName })
  if (r.status === 'failed' && r.errorReason) return t(`backends.checkReason.${r.errorReason}`, { backend: r.backendName })
  return t(`errors.${r.errorCode}`)
}

/** Backends report steps in English words; known ones are translated, a gate retry's too ("retry 1: compositing"). */
function stepLabel(t: (key: string, vars?: Record<string, string | number>) => string, message: string | null): string {
  if (!message) return ''
  const retry = /^retry (\d+): (.*)$/.exec(message)
  if (retry) return t('render.step.retry', { n: Number(retry[1]) + 1, step: stepLabel(t, retry[2]) })
  const key = `render.step.${message}`
  const label = t(key)
  return label === key ? message : label
}

export function RenderCard({
  render: r,
  threshold,
  canFeature = false,
  colourSource = false,
  freeSlots = null,
  maskUrl = null,
  sourceUrl = null,
  look = null,
  onDrawMask,
  eager = false,
}: {
  render: RenderView
  threshold: number
  canFeature?: boolean
  /** Made from a colour variant's image, which it can replace (Taobao). */
  colourSource?: boolean
  /** Free main-image slots the merchant may publish into (Taobao); null where the platform numbers none. */
  freeSlots?: number[] | null
  /** The stored mask this render was made with, if any. */
  maskUrl?: string | null
  /** The merchant's photo it was made from, for the before/after compare. */
  sourceUrl?: string | null
  /** The look that made it, named: market (with its flag), scene and model. */
  look?: { country: string; label: string } | null
  /** Offered on a failure that a mask fixes (the CPU studio could not find the product). */
  onDrawMask?: () => void
  /** Load its image at once: it is in the first screenful. */
  eager?: boolean
}) {
  const { t, locale } = useI18n()
  const utc = useServerTime()
  const active = r.status === 'queued' || r.status === 'running' || r.status === 'retrying'
  const score = r.fidelityScore === null ? null : Math.round(r.fidelityScore)
  const lowScore = score !== null && score < threshold
  const fetcher = useRenderActions()
  const card = useRef<HTMLDivElement>(null)
  const [comparing, setComparing] = useState(false)
  const [details, setDetails] = useState(false)
  const [position, setPosition] = useState('')
  useKeepFocus(card, fetcher)
  // why shown by default below the threshold: the merchant should see where before deciding.
  const [showWhere, setShowWhere] = useState(true)
  const where = r.status === 'succeeded' && lowScore && hotArea(r.heat) > 0 ? r.heat : null
  const actionError = fetcher.state === 'idle' && fetcher.data && !fetcher.data.ok ? fetcher.data.error : undefined
  return (
    <div ref={card} tabIndex={-1} data-testid={`card-${r.id}`} style={{ outline: 'none' }}>
    <Card padding="300">
      <BlockStack gap="200">
        <div data-testid={`render-${r.id}`} data-status={r.status} data-review={r.reviewState}
          style={{ aspectRatio: `${r.width} / ${r.height}`, background: '#f6f6f7', borderRadius: 8, overflow: 'hidden', display: 'grid', placeItems: 'center', position: 'relative' }}>
          {r.imageUrl ? (
            <a href={r.imageUrl} target="_blank" rel="noreferrer" style={{ width: '100%', height: '100%' }}>
              <img
                src={r.previewUrls?.[0]?.url ?? r.imageUrl}
                srcSet={r.previewUrls?.map((p) => `${p.url} ${p.width}w`).join(', ') || undefined}
                sizes="(max-width: 490px) 100vw, 360px"
                width={r.width}
                height={r.height}
                // why eager for the first row: it is the page's largest paint, and lazy images wait for layout.
                loading={eager ? 'eager' : 'lazy'}
                fetchPriority={eager ? 'high' : undefined}
                decoding="async"
                alt={t('studio.resultAlt')}
                style={{ width: '100%', height: '100%', objectFit: 'cover', display: 'block' }}
              />
            </a>
          ) : (
            <Text as="span" tone="subdued">{t(`render.status.${r.status}`)}</Text>
          )}
          {where && showWhere && r.imageUrl && (
            <div data-testid={`heat-${r.id}`} style={{ position: 'absolute', inset: 0, pointerEvents: 'none' }}>
              <HeatOverlay heat={where} width={r.width} height={r.height} label={t('fidelity.whereLabel')} />
            </div>
          )}
        </div>
        {look && (
          <Text as="p" variant="bodySm">
            <span data-testid={`look-${r.id}`}>
              <Flag country={look.country} height={12} /> {look.label}
            </span>
          </Text>
        )}
        {r.variation && (
          <Text as="p" variant="bodySm" tone="subdued">
            <span data-testid={`variation-${r.id}`}>{variationLabel(t, r.variation)}</span>
          </Text>
        )}
        <InlineStack gap="100">
          <Badge tone={statusTone[r.status]}>{t(`render.status.${r.status}`)}</Badge>
          {r.status === 'succeeded' && <Badge tone={reviewTone[r.reviewState]}>{t(`render.review.${r.reviewState}`)}</Badge>}
          {score !== null && (
            <VerdictBadge id={r.id} low={lowScore} score={score} reasons={r.reasons} reasonPlaces={r.reasonPlaces} />
          )}
          {maskUrl && (
            <a href={maskUrl} target="_blank" rel="noreferrer" aria-label={t('mask.viewMask')} data-testid={`masked-${r.id}`}>
              <Badge tone="info">{t('mask.badge')}</Badge>
            </a>
          )}
        </InlineStack>
        {active && (
          <BlockStack gap="100">
            <ProgressBar progress={r.progress} size="small" animated tone="primary" />
            <div data-testid={`progress-${r.id}`} data-waiting={r.waitingFor ? r.waitingFor.backend : undefined}>
              <Text as="p" variant="bodySm" tone={r.waitingFor ? 'caution' : 'subdued'}>
                {progressLine(r, t, locale, utc)}
              </Text>
            </div>
          </BlockStack>
        )}
        {r.status === 'succeeded' && score !== null && (
          <BlockStack gap="100">
            <div>
              <Button variant="plain" size="slim" disclosure={details ? 'up' : 'down'} onClick={() => setDetails((v) => !v)} ariaExpanded={details} ariaControls={`details-${r.id}`}>
                {t('fidelity.details')}
              </Button>
            </div>
            {details && (
              <div id={`details-${r.id}`} data-testid={`details-${r.id}`}>
                <Text as="p" variant="bodySm" tone="subdued">
                  {t('fidelity.detailsText', { score, threshold, deltaE: (r.deltaEMean ?? 0).toFixed(2), ssim: (r.ssim ?? 0).toFixed(3), seconds: ((r.backendMs ?? 0) / 1000).toFixed(1) })}
                </Text>
              </div>
            )}
          </BlockStack>
        )}
        {lowScore && r.status === 'succeeded' && (
          <div data-testid={`reasons-${r.id}`}>
            <Text as="p" variant="bodySm" tone="critical">
              {r.reasons.length > 0
                ? t('fidelity.needsReview', { reasons: r.reasons.map((code) => t(`fidelity.reason.${code}`)).join(', ') })
                : t('render.lowScore', { threshold })}
            </Text>
            {r.gateRetries > 0 && <Text as="p" variant="bodySm" tone="subdued">{t('fidelity.retried', { count: r.gateRetries })}</Text>}
            {where && (
              <Button variant="plain" size="slim" onClick={() => setShowWhere((v) => !v)} pressed={showWhere} accessibilityLabel={t('fidelity.whereLabel')}>
                {showWhere ? t('fidelity.hideWhere') : t('fidelity.showWhere')}
              </Button>
            )}
          </div>
        )}
        {(r.status === 'failed' || r.reviewState === 'publish_failed') && r.errorCode && (
          <Banner tone="critical" action={onDrawMask && r.status === 'failed' ? { content: t('mask.fix'), onAction: onDrawMask } : undefined}>
            <p>{failureText(r, t)}</p>
          </Banner>
        )}
        <InlineStack gap="200">
          {r.status === 'succeeded' && r.imageUrl && sourceUrl && (
            <Button size="slim" onClick={() => setComparing(true)}>{t('compare.open')}</Button>
          )}
          {active && <ActionButton fetcher={fetcher} renderId={r.id} intent="cancel" label={t('render.cancel')} />}
          {r.status === 'succeeded' && (r.reviewState === 'pending' || r.reviewState === 'rejected') && (
            <ActionButton fetcher={fetcher} renderId={r.id} intent="approve" label={t('render.approve')} primary />
          )}
          {r.status === 'succeeded' && (r.reviewState === 'pending' || r.reviewState === 'approved') && (
            <ActionButton fetcher={fetcher} renderId={r.id} intent="reject" label={t('render.reject')} tone="critical" />
          )}
          {r.status === 'succeeded' && ['approved', 'unpublished', 'publish_failed'].includes(r.reviewState) && (
            lowScore ? (
              <ConfirmPublish fetcher={fetcher} renderId={r.id} label={t('render.publishAnyway')} primary risk={{ score: score!, threshold, reasons: r.reasons }} />
            ) : (
              <>
                {freeSlots && freeSlots.length > 0 && (
                  <Select
                    label={t('render.slots.position')}
                    labelInline
                    options={[{ label: t('render.slots.next'), value: '' }, ...freeSlots.map((p) => ({ label: t('render.slots.slot', { n: p + 1 }), value: String(p) }))]}
                    value={position}
                    onChange={setPosition}
                  />
                )}
                <ActionButton fetcher={fetcher} renderId={r.id} intent="publish" label={t('render.publish')} primary extra={position ? { position } : undefined} />
              </>
            )
          )}
          {canFeature && r.status === 'succeeded' && ['approved', 'unpublished', 'publish_failed'].includes(r.reviewState) && (
            lowScore ? (
              <ConfirmPublish fetcher={fetcher} renderId={r.id} label={t('render.publishFeatured')} featured risk={{ score: score!, threshold, reasons: r.reasons }} />
            ) : (
              <ActionButton fetcher={fetcher} renderId={r.id} intent="publish" label={t('render.publishFeatured')} extra={{ featured: 'true' }} />
            )
          )}
          {colourSource && r.status === 'succeeded' && !lowScore && ['approved', 'unpublished', 'publish_failed'].includes(r.reviewState) && (
            <ActionButton fetcher={fetcher} renderId={r.id} intent="publish" label={t('render.publishColour')} extra={{ colour: 'true' }} />
          )}
          {r.reviewState === 'published' && <ActionButton fetcher={fetcher} renderId={r.id} intent="undo" label={t('render.undo')} />}
        </InlineStack>
        {actionError && actionError.code !== 'TAOBAO_SLOTS_FULL' && (
          <Text as="p" tone="critical" variant="bodySm">{t(`errors.${actionError.code}`)} {actionError.message}</Text>
        )}
        {actionError?.code === 'TAOBAO_SLOTS_FULL' && (
          <SlotChooser fetcher={fetcher} renderId={r.id} images={slotImagesOf(actionError.details)} override={lowScore} featured={false} />
        )}
      </BlockStack>
    </Card>
    {comparing && r.imageUrl && sourceUrl && (
      <Modal open onClose={() => setComparing(false)} title={t('compare.title')} size="large">
        <Modal.Section>
          <CompareView beforeUrl={sourceUrl} afterUrl={r.imageUrl} width={r.width} height={r.height} heat={r.heat} changed={lowScore} />
        </Modal.Section>
      </Modal>
    )}
    </div>
  )
}

/**
 * After an action (approve, reject, publish, undo) the button that had focus
 * is gone; focus goes to the card's next action, else the card, not to the
 * page's start (issue 16: keyboard users lost their place after Approve).
 */
function useKeepFocus(card: React.RefObject<HTMLDivElement>, fetcher: ActionFetcher) {
  const hadFocus = useRef(false)
  useEffect(() => {
    if (fetcher.state === 'submitting') hadFocus.current = !!card.current?.contains(document.activeElement)
    if (fetcher.state !== 'idle' || !hadFocus.current) return
    hadFocus.current = false
    if (card.current?.contains(document.activeElement)) return
    const next = card.current?.querySelector<HTMLElement>('button:not([disabled])')
    ;(next ?? card.current)?.focus()
  }, [fetcher.state])
}
