import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { useLoaderData, useNavigate, useSearchParams } from '@remix-run/react'
import { BlockStack, Button, Card, EmptyState, InlineStack, Page, Pagination, Select, Tabs, Text } from '@shopify/polaris'
import { z } from 'zod'
import { heatOf, reasonPlaces } from '#app/components/heat-view.server.ts'
import { lookLabel, withoutMarket } from '#app/components/look-label.ts'
import { ReviewGrid, type ReviewItem } from '#app/components/ReviewGrid.tsx'
import { env } from '#app/lib/env.server.ts'
import { errorResponse } from '#app/lib/http.server.ts'
import { useI18n } from '#app/lib/i18n.ts'
import { productImageUrl } from '#app/lib/media.server.ts'
import { pageMeta } from '#app/lib/page-title.ts'
import { signedImageUrl } from '#app/lib/storage.server.ts'
import { lookOptions } from '#app/modules/looks/index.ts'
import { decideMany, REVIEW_PAGE, reviewFilterSchema, reviewQueue } from '#app/modules/renders/review.server.ts'
import { requireTenant } from '#app/modules/tenants/session.server.ts'

/** Thumbnail widths: a tile at 1× and 2×. */
const TILE_WIDTHS = [360, 720]

export async function loader({ request }: LoaderFunctionArgs) {
  const tenant = await requireTenant(request)
  const filter = reviewFilterSchema.parse(Object.fromEntries([...new URL(request.url).searchParams].filter(([, v]) => v !== '')))
  const threshold = env().FIDELITY_THRESHOLD
  const queue = await reviewQueue(tenant.id, filter)
  const items = queue.renders.map((r) => {
    const score = r.fidelityScore === null ? null : Math.round(r.fidelityScore)
    return {
      id: r.id,
      productTitle: r.productTitle,
      studioUrl: `/app/products/${encodeURIComponent(r.productRef)}`,
      imageUrl: signedImageUrl(r.resultKey!),
      previewUrls: TILE_WIDTHS.map((width) => ({ width, url: signedImageUrl(r.resultKey!, { width }) })),
      sourceUrl: productImageUrl(tenant.id, r.productRef, r.sourceImageRef, 2048),
      width: r.outputWidth,
      height: r.outputHeight,
      look: { marketId: r.marketId, sceneId: r.sceneId, personaId: r.personaId },
      score,
      low: score === null || score < threshold || r.gatePassed === false,
      reasons: r.reviewReasons.map((x) => x.code),
      reasonPlaces: reasonPlaces(r),
      variation: r.variation ?? null,
      heat: heatOf(r),
    }
  })
  return {
    filter,
    items,
    total: queue.total,
    facets: queue.facets,
    looks: lookOptions(),
    pages: Math.ceil(queue.total / REVIEW_PAGE),
  }
}

const actionSchema = z.object({
  intent: z.enum(['approve', 'publish', 'reject']),
  ids: z
    .string()
    .max(64 * 40)
    .transform((v) => v.split(',').filter(Boolean)),
  override: z.literal('true').optional(),
})

export async function action({ request }: ActionFunctionArgs) {
  try {
    const tenant = await requireTenant(request)
    const input = actionSchema.parse(Object.fromEntries(await request.formData()))
    const outcome = await decideMany(tenant, input.ids, input.intent, { override: input.override === 'true' })
    return { ok: true as const, decision: input.intent, ...outcome }
  } catch (e) {
    return errorResponse(e)
  }
}

export const meta = pageMeta((t) => t('review.title'))

const STATES = ['pending', 'approved'] as const

export default function ReviewPage() {
  const data = useLoaderData<typeof loader>()
  const { t, locale } = useI18n()
  const navigate = useNavigate()
  const [params] = useSearchParams()
  // why a new URL per filter: the queue's state is shareable and survives a reload; a filter starts again at page 1.
  const go = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params)
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v)
      else next.delete(k)
    }
    if (!('page' in changes)) next.delete('page')
    navigate(`?${next.toString()}`, { preventScrollReset: true })
  }
  const items: ReviewItem[] = data.items.map((i) => ({ ...i, look: lookLabel(data.looks, i.look, t) }))
  const { facets, filter } = data
  const filtered = Boolean(filter.product || filter.look || filter.market || filter.verdict || filter.run)
  const option = (label: string, count: number, value: string) => ({ label: `${label} (${count})`, value })
  const marketName = (id: string) => {
    const m = data.looks.markets.find((x) => x.id === id)
    return m ? t(m.nameKey) : id
  }
  return (
    <Page title={t('review.title')} subtitle={t('review.subtitle', { count: data.total })}>
      <BlockStack gap="400">
        <Tabs
          tabs={STATES.map((s) => ({ id: `review-${s}`, content: t(`review.tabs.${s}`), panelID: 'review-panel' }))}
          selected={STATES.indexOf(filter.state)}
          onSelect={(i) => go({ state: STATES[i] === 'pending' ? '' : STATES[i] })}
        />
        <Card>
          <div role="group" aria-label={t('review.filters.label')}>
            <InlineStack gap="300" blockAlign="end" wrap>
              <Select
                label={t('review.filters.product')}
                options={[
                  { label: t('review.filters.anyProduct'), value: '' },
                  ...facets.products.map((p) => option(p.title, p.count, p.id)),
                ]}
                value={filter.product ?? ''}
                onChange={(v) => go({ product: v })}
              />
              <Select
                label={t('review.filters.look')}
                options={[
                  { label: t('review.filters.anyLook'), value: '' },
                  ...facets.looks.map((l) => option(withoutMarket(data.looks, l, t), l.count, l.key)),
                ]}
                value={filter.look ?? ''}
                onChange={(v) => go({ look: v })}
              />
              <Select
                label={t('review.filters.market')}
                options={[
                  { label: t('review.filters.anyMarket'), value: '' },
                  ...facets.markets.map((m) => option(marketName(m.id), m.count, m.id)),
                ]}
                value={filter.market ?? ''}
                onChange={(v) => go({ market: v })}
              />
              <Select
                label={t('review.filters.verdict')}
                options={[
                  { label: t('review.filters.anyVerdict'), value: '' },
                  { label: t('review.filters.unchanged'), value: 'unchanged' },
                  { label: t('review.filters.attention'), value: 'attention' },
                ]}
                value={filter.verdict ?? ''}
                onChange={(v) => go({ verdict: v })}
              />
              {(facets.runs.length > 0 || filter.run) && (
                <Select
                  label={t('review.filters.run')}
                  options={[
                    { label: t('review.filters.anyRun'), value: '' },
                    ...facets.runs.map((r) =>
                      option(
                        t('review.filters.runLabel', {
                          date: new Date(r.createdAt).toLocaleString(locale, {
                            dateStyle: 'medium',
                            timeStyle: 'short',
                            timeZone: 'UTC',
                          }),
                        }),
                        r.count,
                        r.id,
                      ),
                    ),
                  ]}
                  value={filter.run ?? ''}
                  onChange={(v) => go({ run: v })}
                />
              )}
              {filtered && (
                <Button variant="plain" onClick={() => go({ product: '', look: '', market: '', verdict: '', run: '' })}>
                  {t('review.filters.clear')}
                </Button>
              )}
            </InlineStack>
          </div>
        </Card>
        <div id="review-panel">
          {/* why the grid even when empty: it owns the decision in flight, whose toast must outlive the last tile. */}
          <ReviewGrid
            key={filter.state}
            items={items}
            state={filter.state}
            empty={
              <Card>
                <EmptyState heading={filtered ? t('review.emptyFiltered') : t('review.empty')} image="">
                  {!filtered && <Text as="p">{t('review.emptyHint')}</Text>}
                </EmptyState>
              </Card>
            }
          />
        </div>
        {data.pages > 1 && (
          <InlineStack align="center">
            <Pagination
              hasPrevious={filter.page > 1}
              onPrevious={() => go({ page: String(filter.page - 1) })}
              hasNext={filter.page < data.pages}
              onNext={() => go({ page: String(filter.page + 1) })}
              label={`${filter.page} / ${data.pages}`}
            />
          </InlineStack>
        )}
      </BlockStack>
    </Page>
  )
}

export { ErrorBoundary } from '#app/components/RouteError.tsx'
