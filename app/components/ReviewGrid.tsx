// The review queue's grid: thumbnails to tick, and one decision for all the
// ticked ones. why a grid of pictures, not a table: the merchant decides by
// looking; the words (product, look, verdict) only say what they look at.
import { useEffect, useRef, useState, type ReactNode } from 'react'
import { useFetcher } from '@remix-run/react'
import { Badge, BlockStack, Box, Button, Card, Checkbox, InlineGrid, InlineStack, Link, Modal, Text } from '@shopify/polaris'
import { useI18n, type Translate } from '#app/lib/i18n.ts'
import { variationLabel, type AppliedVariation } from '#app/modules/looks/variation.ts'
import { CompareView } from './CompareView.tsx'
import type { FidelityHeat } from './HeatOverlay.tsx'
import { Flag } from './Flag.tsx'
import { verdict, type Place } from './verdict.ts'
import { useToast } from './Toasts.tsx'

export interface ReviewItem {
  id: string
  productTitle: string
  studioUrl: string
  imageUrl: string
  previewUrls: { width: number; url: string }[]
  sourceUrl: string
  width: number
  height: number
  look: { country: string; label: string }
  score: number | null
  /** Below the threshold or failed the gate: publishing it needs the merchant's "anyway". */
  low: boolean
  reasons: string[]
  reasonPlaces: (Place | null)[]
  /** What this variant varied (framing, light), when recorded. */
  variation: AppliedVariation | null
  /** Where the product changed, for the compare view's overlay. */
  heat: FidelityHeat | null
}

export type Decision = 'approve' | 'publish' | 'reject'

export interface DecisionResult {
  ok: boolean
  decision?: Decision
  done?: string[]
  needsOverride?: string[]
  failed?: { id: string; code: string; message: string }[]
  error?: { code: string; message: string }
}

/** The toast after a decision: what happened, then what was held back or failed. */
function outcomeText(t: Translate, r: DecisionResult): { message: string; isError: boolean } {
  if (r.error) return { message: t(`errors.${r.error.code}`), isError: true }
  const parts = [t(`review.toast.${r.decision}`, { count: r.done?.length ?? 0 })]
  if (r.needsOverride?.length) parts.push(t('review.toast.heldBack', { count: r.needsOverride.length }))
  if (r.failed?.length) parts.push(t('review.toast.failed', { count: r.failed.length, reason: t(`errors.${r.failed[0].code}`) }))
  return { message: parts.join(' · '), isError: (r.failed?.length ?? 0) > 0 && (r.done?.length ?? 0) === 0 }
}

function useDecisions(onSettled: () => void) {
  const fetcher = useFetcher<DecisionResult>()
  const { t } = useI18n()
  const toast = useToast()
  useEffect(() => {
    if (fetcher.state !== 'idle' || !fetcher.data) return
    const { message, isError } = outcomeText(t, fetcher.data)
    toast(message, { isError })
    onSettled()
  }, [fetcher.state, fetcher.data])
  const decide = (decision: Decision, ids: string[], override = false) =>
    fetcher.submit({ intent: decision, ids: ids.join(','), ...(override ? { override: 'true' } : {}) }, { method: 'post' })
  const pending = fetcher.state !== 'idle' ? (fetcher.formData?.get('intent') as Decision | null) : null
  return { decide, pending }
}

export function ReviewGrid({
  items,
  state,
  empty,
}: {
  items: ReviewItem[]
  state: 'pending' | 'approved'
  /** Shown instead of the tiles when there are none. */
  empty: ReactNode
}) {
  const { t } = useI18n()
  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [confirming, setConfirming] = useState(false)
  const [comparing, setComparing] = useState<ReviewItem | null>(null)
  const root = useRef<HTMLDivElement>(null)
  // why to the grid: the decided tiles (maybe all) leave the page, and focus must not fall to <body>.
  const { decide, pending } = useDecisions(() => {
    setSelected(new Set())
    root.current?.focus()
  })
  // Tiles that left the queue (decided elsewhere, or by this page) leave the selection too.
  useEffect(() => setSelected((s) => new Set([...s].filter((id) => items.some((i) => i.id === id)))), [items])
  const ids = [...selected]
  const risky = items.filter((i) => selected.has(i.id) && i.low)
  const toggle = (id: string, on: boolean) =>
    setSelected((s) => {
      const next = new Set(s)
      if (on) next.add(id)
      else next.delete(id)
      return next
    })
  const publish = () => (risky.length > 0 ? setConfirming(true) : decide('publish', ids))
  const allOn = items.length > 0 && items.every((i) => selected.has(i.id))
  return (
    <div ref={root} tabIndex={-1} data-testid="review-grid" style={{ outline: 'none' }}>
      <BlockStack gap="300">
        <div
          data-testid="review-bar"
          style={{ position: 'sticky', top: 0, zIndex: 2, display: items.length === 0 ? 'none' : undefined }}
        >
          <Box padding="300" background="bg-surface" borderRadius="200" shadow="100">
            <InlineStack align="space-between" blockAlign="center" gap="300">
              <InlineStack gap="300" blockAlign="center">
                <Checkbox
                  label={t('review.selectAll', { count: items.length })}
                  checked={allOn ? true : selected.size > 0 ? 'indeterminate' : false}
                  onChange={(on) => setSelected(on ? new Set(items.map((i) => i.id)) : new Set())}
                />
                <Text as="span" tone="subdued">
                  <span aria-live="polite">{t('review.selected', { count: selected.size })}</span>
                </Text>
              </InlineStack>
              <InlineStack gap="200">
                <Button
                  tone="critical"
                  disabled={ids.length === 0}
                  loading={pending === 'reject'}
                  onClick={() => decide('reject', ids)}
                >
                  {t('review.reject')}
                </Button>
                {state === 'pending' && (
                  <Button disabled={ids.length === 0} loading={pending === 'approve'} onClick={() => decide('approve', ids)}>
                    {t('review.approve')}
                  </Button>
                )}
                <Button variant="primary" disabled={ids.length === 0} loading={pending === 'publish'} onClick={publish}>
                  {state === 'pending' ? t('review.approvePublish') : t('review.publish')}
                </Button>
              </InlineStack>
            </InlineStack>
          </Box>
        </div>
        {items.length === 0 && empty}
        <InlineGrid columns={{ xs: 2, sm: 3, md: 4, lg: 5 }} gap="300">
          {items.map((item) => (
            <ReviewTile
              key={item.id}
              item={item}
              selected={selected.has(item.id)}
              onToggle={(on) => toggle(item.id, on)}
              onCompare={() => setComparing(item)}
            />
          ))}
        </InlineGrid>
        <Modal
          open={confirming}
          onClose={() => setConfirming(false)}
          title={t('review.confirm.title')}
          primaryAction={{
            content: t('review.confirm.anyway'),
            destructive: true,
            onAction: () => {
              setConfirming(false)
              decide('publish', ids, true)
            },
          }}
          secondaryActions={[
            {
              content: t('review.confirm.onlyPassing'),
              onAction: () => {
                setConfirming(false)
                decide('publish', ids)
              },
            },
            { content: t('review.confirm.cancel'), onAction: () => setConfirming(false) },
          ]}
        >
          <Modal.Section>
            <BlockStack gap="200">
              <Text as="p">{t('review.confirm.body', { count: risky.length })}</Text>
              <ul data-testid="review-risks" style={{ margin: 0, paddingInlineStart: 20 }}>
                {risky.map((i) => (
                  <li key={i.id}>
                    {i.productTitle} ({i.look.label}): {verdict(i, true, t)}
                  </li>
                ))}
              </ul>
            </BlockStack>
          </Modal.Section>
        </Modal>
        {comparing && (
          <Modal open onClose={() => setComparing(null)} title={comparing.productTitle} size="large">
            <Modal.Section>
              <CompareView
                beforeUrl={comparing.sourceUrl}
                afterUrl={comparing.imageUrl}
                width={comparing.width}
                height={comparing.height}
                heat={comparing.heat}
                changed={comparing.low}
              />
            </Modal.Section>
          </Modal>
        )}
      </BlockStack>
    </div>
  )
}

function ReviewTile(props: { item: ReviewItem; selected: boolean; onToggle: (on: boolean) => void; onCompare: () => void }) {
  const { t } = useI18n()
  const { item } = props
  return (
    <div data-testid={`review-${item.id}`} data-selected={props.selected}>
      <Card padding="200">
        <BlockStack gap="150">
          {/* why not a control of its own: the checkbox below is the one keyboard and screen readers use. */}
          <div
            aria-hidden="true"
            onClick={() => props.onToggle(!props.selected)}
            style={{
              border: props.selected ? '3px solid var(--p-color-border-emphasis)' : '3px solid transparent',
              borderRadius: 8,
              background: '#f6f6f7',
              aspectRatio: `${item.width} / ${item.height}`,
              overflow: 'hidden',
              cursor: 'pointer',
            }}
          >
            <img
              src={item.previewUrls[0]?.url ?? item.imageUrl}
              srcSet={item.previewUrls.map((p) => `${p.url} ${p.width}w`).join(', ') || undefined}
              sizes="(max-width: 490px) 50vw, 240px"
              width={item.width}
              height={item.height}
              loading="lazy"
              decoding="async"
              alt=""
              style={{ width: '100%', height: '100%', objectFit: 'cover', display: 'block' }}
            />
          </div>
          <Checkbox
            label={<span style={{ fontWeight: 600 }}>{item.productTitle}</span>}
            checked={props.selected}
            onChange={props.onToggle}
          />
          <Text as="p" variant="bodySm">
            <Flag country={item.look.country} height={12} /> {item.look.label}
          </Text>
          {item.variation && (
            <Text as="p" variant="bodySm" tone="subdued">
              {variationLabel(t, item.variation)}
            </Text>
          )}
          <span data-testid={`review-verdict-${item.id}`}>
            <Badge tone={item.low ? 'critical' : 'success'}>{verdict(item, item.low, t)}</Badge>
          </span>
          <InlineStack gap="200">
            <Button variant="plain" onClick={props.onCompare}>
              {t('review.compare')}
            </Button>
            <Link url={item.studioUrl}>{t('review.open')}</Link>
          </InlineStack>
        </BlockStack>
      </Card>
    </div>
  )
}
