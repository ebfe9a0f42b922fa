import type { LoaderFunctionArgs } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import {
  Badge,
  BlockStack,
  Card,
  EmptyState,
  InlineStack,
  Page,
  ProgressBar,
  ResourceItem,
  ResourceList,
  Text,
} from '@shopify/polaris'
import { useI18n } from '#app/lib/i18n.ts'
import { describeImages, describeSelection, formatDuration, statusTone } from '#app/modules/bulk/format.ts'
import { listBulkRuns } from '#app/modules/bulk/service.server.ts'
import { requireTenant } from '#app/modules/tenants/session.server.ts'
import { useLiveRevalidation } from '#app/lib/live.ts'
import { pageMeta } from '#app/lib/page-title.ts'

export async function loader({ request }: LoaderFunctionArgs) {
  const tenant = await requireTenant(request)
  const runs = await listBulkRuns(tenant.id)
  return {
    runs: runs.map((r) => ({
      id: r.id,
      status: r.status,
      selection: r.selection,
      images: r.images,
      looks: r.looks.length,
      createdAt: r.createdAt.toISOString(),
      total: r.progress.total,
      succeeded: r.progress.succeeded,
      failed: r.progress.failed,
      canceled: r.progress.canceled,
      queued: r.progress.queued,
      etaSeconds: r.progress.etaSeconds,
    })),
  }
}

export const meta = pageMeta((t) => t('bulk.title'))

export default function BulkRuns() {
  const { runs } = useLoaderData<typeof loader>()
  const { t, locale } = useI18n()
  useLiveRevalidation(runs.some((r) => r.status === 'estimating' || r.status === 'running' || r.queued > 0), 2000)
  return (
    <Page title={t('bulk.title')} subtitle={t('bulk.subtitle')} primaryAction={{ content: t('bulk.new'), url: '/app/bulk/new' }}>
      <Card padding="0">
        <ResourceList
          resourceName={{ singular: t('bulk.singular'), plural: t('bulk.plural') }}
          items={runs}
          emptyState={
            <EmptyState heading={t('bulk.empty')} action={{ content: t('bulk.new'), url: '/app/bulk/new' }} image="">
              <p>{t('bulk.emptyHint')}</p>
            </EmptyState>
          }
          renderItem={(run) => {
            const finished = run.succeeded + run.failed + run.canceled
            const percent = run.total > 0 ? Math.round((finished / run.total) * 100) : 0
            return (
              <ResourceItem id={run.id} url={`/app/bulk/${run.id}`} accessibilityLabel={t('bulk.open')}>
                <div data-testid={`bulk-run-${run.id}`} data-status={run.status}>
                  <BlockStack gap="200">
                    <InlineStack align="space-between" blockAlign="center">
                      <Text as="h3" variant="headingSm">
                        {describeSelection(run.selection, t)} · {describeImages(run.images, t)} ·{' '}
                        {t('bulk.looks', { count: run.looks })}
                      </Text>
                      <Badge tone={statusTone(run.status)}>{t(`bulk.status.${run.status}`)}</Badge>
                    </InlineStack>
                    {run.total > 0 && run.status !== 'awaiting_confirmation' && (
                      <ProgressBar progress={percent} size="small" tone={run.failed > 0 ? 'critical' : 'primary'} />
                    )}
                    <InlineStack gap="300">
                      <Text as="span" tone="subdued">
                        {new Date(run.createdAt).toLocaleString(locale)}
                      </Text>
                      {run.total > 0 && <Text as="span">{t('bulk.progress', { finished, total: run.total })}</Text>}
                      {run.failed > 0 && (
                        <Text as="span" tone="critical">
                          {t('bulk.failedCount', { count: run.failed })}
                        </Text>
                      )}
                      {run.etaSeconds !== null && (
                        <Text as="span">{t('bulk.eta', { time: formatDuration(run.etaSeconds, t) })}</Text>
                      )}
                    </InlineStack>
                  </BlockStack>
                </div>
              </ResourceItem>
            )
          }}
        />
      </Card>
    </Page>
  )
}

export { ErrorBoundary } from '#app/components/RouteError.tsx'
