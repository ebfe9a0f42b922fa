import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { useFetcher, useLoaderData } from '@remix-run/react'
import {
  Badge,
  Banner,
  BlockStack,
  Button,
  Card,
  DataTable,
  DescriptionList,
  InlineStack,
  Layout,
  Page,
  ProgressBar,
  Spinner,
  Text,
} from '@shopify/polaris'
import { useState, type ReactNode } from 'react'
import { z } from 'zod'
import { errorCodes } from '#app/lib/errors.ts'
import { errorResponse, throwAsResponse } from '#app/lib/http.server.ts'
import { useI18n } from '#app/lib/i18n.ts'
import { billingFor } from '#app/modules/billing/service.server.ts'
import { describeImages, describeSelection, formatDuration, formatMoney, statusTone } from '#app/modules/bulk/format.ts'
import {
  bulkRunProgress,
  cancelBulkRun,
  confirmBulkRun,
  failedItems,
  getBulkRun,
  measuredRenderMs,
  parseRunError,
  pauseBulkRun,
  resumeBulkRun,
  retryFailedItems,
} from '#app/modules/bulk/service.server.ts'
import { getMarket, getPersona, getScene } from '#app/modules/looks/index.ts'
import { capabilitiesFor, platformFor } from '#app/modules/platforms/index.server.ts'
import type { BulkLook, Tenant } from '#db/schema.ts'
import { requireTenant } from '#app/modules/tenants/session.server.ts'
import { useLiveRevalidation } from '#app/lib/live.ts'
import { pageMeta } from '#app/lib/page-title.ts'
import { Flag } from '#app/components/Flag.tsx'
import { RunResults } from '#app/components/RunResults.tsx'
import { reasonPlaces } from '#app/components/heat-view.server.ts'
import { env } from '#app/lib/env.server.ts'
import { signedImageUrl } from '#app/lib/storage.server.ts'
import { runResults } from '#app/modules/renders/review.server.ts'

/** What the page needs to name a look in the merchant's language (ids stand in for look data that changed since). */
function lookNames(look: BulkLook) {
  const safe = <T,>(get: () => T) => {
    try {
      return get()
    } catch {
      return null
    }
  }
  const market = safe(() => getMarket(look.marketId))
  return {
    country: market?.country ?? '',
    market: market?.nameKey ?? look.marketId,
    scene: safe(() => getScene(look.sceneId))?.nameKey ?? look.sceneId,
    persona: look.personaId ? (safe(() => getPersona(look.personaId!))?.nameKey ?? look.personaId) : null,
    operation: look.operation,
  }
}

/** The picked collection's title; undefined where the platform cannot say (not connected, unreachable), and the page shows the id. */
async function collectionTitleOf(tenant: Tenant, collectionId: string): Promise<string | undefined> {
  try {
    return (await platformFor(tenant).listCollections()).find((c) => c.id === collectionId)?.title
  } catch {
    return undefined
  }
}

/** Thumbnails of the run's newest results on its page; the review queue has them all. */
const RESULTS_SHOWN = 12

export async function loader({ request, params }: LoaderFunctionArgs) {
  const tenant = await requireTenant(request)
  const run = await getBulkRun(tenant.id, params.runId ?? '').catch(throwAsResponse)
  const [progress, failures, results, timingFrom] = await Promise.all([
    bulkRunProgress(run),
    failedItems(tenant.id, run.id, 20),
    runResults(tenant.id, run.id, RESULTS_SHOWN),
    // why measured again only for older runs: the estimate records what it was computed from.
    run.estimate?.timingFrom ?? measuredRenderMs(tenant.id).then((m) => m.from),
  ])
  const capLeft = run.status === 'awaiting_confirmation' ? await billingFor(tenant).capLeft() : null
  const collectionTitle =
    run.selection.kind === 'collection' ? await collectionTitleOf(tenant, run.selection.collectionId) : undefined
  const stopped = parseRunError(run.errorMessage)
  return {
    run: {
      id: run.id,
      status: run.status,
      selection: run.selection,
      images: run.images,
      looks: run.looks.map(lookNames),
      estimate: run.estimate,
      maxInFlight: run.maxInFlight,
      createdAt: run.createdAt.toISOString(),
      finishedAt: run.finishedAt?.toISOString() ?? null,
      // why a known code only: the banner translates it; anything else is the generic error.
      stopped: stopped && { code: stopped.code in errorCodes ? stopped.code : 'INTERNAL', message: stopped.message },
    },
    collectionTitle,
    progress,
    timingFrom,
    capLeft,
    failures,
    results: {
      finished: results.finished,
      toReview: results.toReview,
      renders: results.renders.map((r) => {
        const low = r.fidelityScore === null || r.fidelityScore < env().FIDELITY_THRESHOLD || r.gatePassed === false
        return {
          id: r.id,
          productTitle: r.productTitle,
          studioUrl: `/app/products/${encodeURIComponent(r.productRef)}`,
          previewUrl: signedImageUrl(r.resultKey!, { width: 360 }),
          width: r.outputWidth,
          height: r.outputHeight,
          low,
          reasons: r.reviewReasons.map((x) => x.code),
      reasonPlaces: reasonPlaces(r),
          reviewState: r.reviewState,
        }
      }),
    },
    csvUrl: `/app/bulk/${run.id}/report.csv`,
    embedded: capabilitiesFor(tenant).embedded,
  }
}

const actionSchema = z.object({ intent: z.enum(['confirm', 'pause', 'resume', 'cancel', 'retry']) })

export async function action({ request, params }: ActionFunctionArgs) {
  try {
    const tenant = await requireTenant(request)
    const { intent } = actionSchema.parse(Object.fromEntries(await request.formData()))
    const runId = params.runId ?? ''
    switch (intent) {
      case 'confirm':
        await confirmBulkRun(tenant, runId)
        break
      case 'pause':
        await pauseBulkRun(tenant.id, runId)
        break
      case 'resume':
        await resumeBulkRun(tenant, runId)
        break
      case 'cancel':
        await cancelBulkRun(tenant.id, runId)
        break
      case 'retry': {
        const { retried } = await retryFailedItems(tenant, runId)
        return { ok: true as const, intent, retried }
      }
    }
    return { ok: true as const, intent, retried: 0 }
  } catch (e) {
    return errorResponse(e)
  }
}

/**
 * The report download. why not a link: Polaris routes links through Remix
 * (client-side navigation, no file); and inside the admin's iframe a plain
 * request carries no session token, while App Bridge adds one to fetch calls.
 */
function DownloadCsv({ url, embedded, label }: { url: string; embedded: boolean; label: string }) {
  const [busy, setBusy] = useState(false)
  const download = async () => {
    if (!embedded) {
      // The response is an attachment: the browser saves it and stays on the page.
      window.location.assign(url)
      return
    }
    setBusy(true)
    try {
      const response = await fetch(url)
      if (!response.ok) throw new Error(`report: HTTP ${response.status}`)
      const href = URL.createObjectURL(await response.blob())
      const a = document.createElement('a')
      a.href = href
      a.download = `atelier-bulk-${url.split('/').at(-2) ?? 'report'}.csv`
      a.click()
      setTimeout(() => URL.revokeObjectURL(href), 10_000)
    } finally {
      setBusy(false)
    }
  }
  return (
    <Button onClick={() => void download()} loading={busy}>
      {label}
    </Button>
  )
}

export const meta = pageMeta((t) => t('bulk.run.title'))

export default function BulkRunPage() {
  const data = useLoaderData<typeof loader>()
  const { run, progress } = data
  const { t, locale } = useI18n()
  const fetcher = useFetcher<typeof action>()
  const busy = fetcher.state !== 'idle'
  const act = (intent: string) => fetcher.submit({ intent }, { method: 'post' })
  const active = run.status === 'estimating' || run.status === 'running' || progress.queued > 0
  useLiveRevalidation(active || busy, 2000)

  const finished = progress.succeeded + progress.failed + progress.canceled
  const remaining = progress.pending + progress.queued
  const percent = progress.total > 0 ? Math.round((finished / progress.total) * 100) : 0
  const error = fetcher.data && !fetcher.data.ok ? fetcher.data.error : null
  const canRetry = progress.failed > 0 && ['running', 'paused', 'completed', 'failed'].includes(run.status)
  const estimate = run.estimate
  const nameOf = (l: (typeof run.looks)[number]) =>
    [
      t(l.market),
      t(l.scene),
      l.persona ? t(l.persona) : t('studio.noModel'),
      t(`bulk.operation.${l.operation}`),
    ].join(' · ')

  return (
    <Page
      title={t('bulk.run.title')}
      subtitle={`${describeSelection(run.selection, t, data.collectionTitle)} · ${describeImages(run.images, t)}`}
      titleMetadata={
        <span data-testid="bulk-status" data-status={run.status}>
          <Badge tone={statusTone(run.status)}>{t(`bulk.status.${run.status}`)}</Badge>
        </span>
      }
      backAction={{ content: t('bulk.title'), url: '/app/bulk' }}
    >
      <Layout>
        {(error || run.stopped) && (
          <Layout.Section>
            {error ? (
              <Banner tone="critical" title={t(`errors.${error.code}`)}>
                <p>{error.message}</p>
              </Banner>
            ) : (
              <Banner tone={run.status === 'failed' ? 'critical' : 'warning'} title={t('bulk.run.stopped')}>
                <BlockStack gap="100">
                  <p>{t(`errors.${run.stopped?.code}`)}</p>
                  <Text as="p" tone="subdued">
                    {run.stopped?.message}
                  </Text>
                </BlockStack>
              </Banner>
            )}
          </Layout.Section>
        )}

        {run.status === 'estimating' && (
          <Layout.Section>
            <Card>
              <InlineStack gap="300" blockAlign="center">
                <Spinner size="small" accessibilityLabel={t('bulk.run.reading')} />
                <BlockStack gap="100">
                  <Text as="p" variant="headingSm">
                    {t('bulk.run.reading')}
                  </Text>
                  <Text as="p" tone="subdued">
                    {t('bulk.run.readingCount', { count: progress.total })}
                  </Text>
                </BlockStack>
              </InlineStack>
            </Card>
          </Layout.Section>
        )}

        {run.status === 'awaiting_confirmation' && estimate && (
          <Layout.Section>
            <Card>
              <BlockStack gap="400">
                <Text as="h2" variant="headingMd">
                  {t('bulk.estimate.title')}
                </Text>
                {estimate.renders === 0 ? (
                  <Banner tone="warning" title={t('bulk.estimate.nothing')} />
                ) : (
                  <div data-testid="bulk-estimate">
                    <DescriptionList
                      items={[
                        { term: t('bulk.estimate.products'), description: String(estimate.products) },
                        { term: t('bulk.estimate.images'), description: String(estimate.images) },
                        {
                          term: t('bulk.estimate.renders'),
                          description: t('bulk.estimate.rendersDetail', {
                            renders: estimate.renders,
                            images: estimate.images,
                            looks: run.looks.length,
                          }),
                        },
                        {
                          term: t('bulk.estimate.backendTime'),
                          description: `${formatDuration(estimate.backendSeconds, t)} · ${t(`bulk.estimate.timingFrom.${data.timingFrom}`)}`,
                        },
                        {
                          term: t('bulk.estimate.wallTime'),
                          description: t('bulk.estimate.wallDetail', {
                            time: formatDuration(estimate.wallSeconds, t),
                            count: run.maxInFlight,
                          }),
                        },
                        {
                          term: t('bulk.estimate.cost'),
                          description:
                            estimate.cost > 0 ? formatMoney(estimate.cost, estimate.currency, locale) : t('bulk.estimate.free'),
                        },
                      ]}
                    />
                  </div>
                )}
                {data.capLeft && estimate.cost > data.capLeft.amount && (
                  <Banner
                    tone="warning"
                    title={t('bulk.estimate.capWarning', {
                      left: formatMoney(data.capLeft.amount, data.capLeft.currency, locale),
                    })}
                  />
                )}
                <InlineStack gap="300" align="end">
                  <Button onClick={() => act('cancel')} disabled={busy}>
                    {t('bulk.run.cancel')}
                  </Button>
                  <Button variant="primary" onClick={() => act('confirm')} loading={busy} disabled={estimate.renders === 0}>
                    {t('bulk.estimate.confirm', { count: estimate.renders })}
                  </Button>
                </InlineStack>
              </BlockStack>
            </Card>
          </Layout.Section>
        )}

        {!['estimating', 'awaiting_confirmation'].includes(run.status) && (
          <Layout.Section>
            <Card>
              <BlockStack gap="400">
                <InlineStack align="space-between" blockAlign="center">
                  <Text as="h2" variant="headingMd">
                    {t('bulk.run.progressTitle')}
                  </Text>
                  <Text as="span">
                    <span data-testid="bulk-progress">{t('bulk.progress', { finished, total: progress.total })}</span>
                  </Text>
                </InlineStack>
                <ProgressBar progress={percent} tone={progress.failed > 0 ? 'critical' : 'primary'} />
                {run.status === 'paused' && !run.stopped && (
                  <Text as="p" tone="subdued">
                    <span data-testid="bulk-paused-note">
                      {t('bulk.run.pausedHeld')}
                      {progress.queued > 0 && ` ${t('bulk.run.pausedFinishing', { count: progress.queued })}`}
                    </span>
                  </Text>
                )}
                <InlineStack gap="400">
                  <Text as="span" tone="success">
                    {t('bulk.run.succeeded', { count: progress.succeeded })}
                  </Text>
                  <Text as="span" tone={progress.failed > 0 ? 'critical' : 'subdued'}>
                    {t('bulk.run.failed', { count: progress.failed })}
                  </Text>
                  {progress.canceled > 0 && (
                    <Text as="span" tone="subdued">
                      {t('bulk.run.canceled', { count: progress.canceled })}
                    </Text>
                  )}
                  <Text as="span">{t('bulk.run.remaining', { count: remaining, inFlight: progress.queued })}</Text>
                  {progress.etaSeconds !== null && (
                    <Text as="span">
                      {t(progress.etaFrom === 'observed' ? 'bulk.eta' : 'bulk.etaEstimate', {
                        time: formatDuration(progress.etaSeconds, t),
                      })}
                    </Text>
                  )}
                  {progress.perMinute !== null && (
                    <Text as="span" tone="subdued">
                      {t('bulk.run.rate', { rate: progress.perMinute })}
                    </Text>
                  )}
                </InlineStack>
                <InlineStack gap="300">
                  {run.status === 'running' && (
                    <Button onClick={() => act('pause')} disabled={busy}>
                      {t('bulk.run.pause')}
                    </Button>
                  )}
                  {run.status === 'paused' && (
                    <Button variant="primary" onClick={() => act('resume')} disabled={busy}>
                      {t('bulk.run.resume')}
                    </Button>
                  )}
                  {(run.status === 'running' || run.status === 'paused') && (
                    <Button tone="critical" onClick={() => act('cancel')} disabled={busy}>
                      {t('bulk.run.cancel')}
                    </Button>
                  )}
                  {canRetry && (
                    <Button onClick={() => act('retry')} disabled={busy}>
                      {t('bulk.run.retry', { count: progress.failed })}
                    </Button>
                  )}
                  {progress.total > 0 && <DownloadCsv url={data.csvUrl} embedded={data.embedded} label={t('bulk.run.csv')} />}
                </InlineStack>
              </BlockStack>
            </Card>
          </Layout.Section>
        )}

        <Layout.Section variant="oneThird">
          <Card>
            <BlockStack gap="200">
              <Text as="h2" variant="headingMd">
                {t('bulk.run.looksTitle')}
              </Text>
              {run.looks.map((l, i) => (
                <Text key={i} as="p">
                  <Flag country={l.country} height={12} /> {nameOf(l)}
                </Text>
              ))}
              <Text as="p" tone="subdued">
                {t('bulk.run.maxInFlight', { count: run.maxInFlight })}
              </Text>
            </BlockStack>
          </Card>
        </Layout.Section>

        {!['estimating', 'awaiting_confirmation'].includes(run.status) && (
          <Layout.Section>
            <RunResults runId={run.id} results={data.results.renders} finished={data.results.finished} toReview={data.results.toReview} />
          </Layout.Section>
        )}

        {data.failures.length > 0 && (
          <Layout.Section>
            <Card padding="0">
              <Box>
                <DataTable
                  columnContentTypes={['text', 'text', 'text', 'text']}
                  headings={[t('bulk.table.product'), t('bulk.table.image'), t('bulk.table.look'), t('bulk.table.error')]}
                  rows={data.failures.map((f) => [
                    f.productTitle,
                    f.imageRef,
                    run.looks[f.lookIndex] ? nameOf(run.looks[f.lookIndex]) : String(f.lookIndex),
                    f.errorCode && f.errorCode in errorCodes ? t(`errors.${f.errorCode}`) : (f.errorMessage ?? ''),
                  ])}
                  footerContent={t('bulk.table.footer', { shown: data.failures.length, count: progress.failed })}
                />
              </Box>
            </Card>
          </Layout.Section>
        )}
      </Layout>
    </Page>
  )
}

function Box({ children }: { children: ReactNode }) {
  return <div data-testid="bulk-failures">{children}</div>
}

export { ErrorBoundary } from '#app/components/RouteError.tsx'
