import type { LoaderFunctionArgs } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { Badge, Banner, BlockStack, Button, Card, InlineStack, Layout, Page, Text } from '@shopify/polaris'
import { CheckReason } from '#app/components/CheckReason.tsx'
import { useI18n, type Translate } from '#app/lib/i18n.ts'
import { listBackendConfigs, toBackendConfigView, type BackendConfigView } from '#app/modules/backends/rows.server.ts'
import { requireTenant } from '#app/modules/tenants/session.server.ts'
import { pageMeta } from '#app/lib/page-title.ts'

// Settings → GPU backends: the shop's own servers (editable, /new and /:id)
// and the deployment's (read-only). Credentials never reach this page; a row
// only says whether some are stored.

export async function loader({ request }: LoaderFunctionArgs) {
  const tenant = await requireTenant(request)
  const { shop, deployment } = await listBackendConfigs(tenant.id)
  return { shop: shop.map(toBackendConfigView), deployment: deployment.map(toBackendConfigView) }
}

function CheckBadge({ check }: { check: BackendConfigView['lastCheck'] }) {
  const { t } = useI18n()
  if (!check) return <Badge>{t('backends.check.never')}</Badge>
  return check.ok ? <Badge tone="success">{t('backends.check.ok')}</Badge> : <Badge tone="critical">{t('backends.check.failed')}</Badge>
}

function lastCheckLine(t: Translate, locale: string, check: NonNullable<BackendConfigView['lastCheck']>): string {
  const parts = [t('backends.check.at', { time: new Date(check.checkedAt).toLocaleString(locale) })]
  // why only when it answered: a refusal's time says nothing about the server.
  if (check.ok && check.latencyMs !== undefined) parts.push(t('backends.check.latency', { ms: check.latencyMs }))
  if (check.detail && check.ok) parts.push(check.detail)
  return parts.join(' · ')
}

function BackendCard({ backend, editable }: { backend: BackendConfigView; editable: boolean }) {
  const { t, locale } = useI18n()
  const check = backend.lastCheck
  return (
    <Card>
      <div data-testid={`backend-${backend.id}`} data-check={check ? (check.ok ? 'ok' : 'failed') : 'never'}>
        <BlockStack gap="200">
          <InlineStack align="space-between" blockAlign="center">
            <InlineStack gap="200" blockAlign="center">
              <Text as="h3" variant="headingSm">{backend.name}</Text>
              <Badge tone="info">{t(`backends.type.${backend.type}`)}</Badge>
              {backend.enabled ? <Badge tone="success">{t('backends.list.enabled')}</Badge> : <Badge>{t('backends.list.disabled')}</Badge>}
              <CheckBadge check={check} />
            </InlineStack>
            {editable && <Button url={`/app/settings/backends/${backend.id}`} accessibilityLabel={`${t('backends.edit')} ${backend.name}`}>{t('backends.edit')}</Button>}
          </InlineStack>
          <Text as="p" tone="subdued" breakWord>{backend.url || t('backends.list.defaultUrl')}</Text>
          <Text as="p">
            {[
              t('backends.list.slots', { count: backend.slots }),
              backend.operations.map((op) => t(`backends.operation.${op}`)).join(', '),
              backend.costPerSecond > 0 ? t('backends.list.cost', { cost: backend.costPerSecond }) : t('backends.list.free'),
              backend.credentialsSet ? t('backends.list.credentialsSet') : t('backends.list.noCredentials'),
            ].join(' · ')}
          </Text>
          {check && (
            <BlockStack gap="100">
              <Text as="p" variant="bodySm" tone={check.ok ? 'subdued' : 'critical'}>{lastCheckLine(t, locale, check)}</Text>
              {!check.ok && <CheckReason reason={check.reason} type={backend.type} detail={check.detail} />}
              {check.ok && check.models && check.models.length > 0 && (
                <Text as="p" variant="bodySm" tone="subdued" breakWord>{t('backends.check.models', { models: check.models.join(', ') })}</Text>
              )}
            </BlockStack>
          )}
        </BlockStack>
      </div>
    </Card>
  )
}

export const meta = pageMeta((t) => t('backends.title'))

export default function Backends() {
  const data = useLoaderData<typeof loader>()
  const { t } = useI18n()
  return (
    <Page
      title={t('backends.title')}
      subtitle={t('backends.subtitle')}
      backAction={{ content: t('nav.products'), url: '/app' }}
      primaryAction={{ content: t('backends.add'), url: '/app/settings/backends/new' }}
    >
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <Text as="h2" variant="headingMd">{t('backends.shopSection')}</Text>
            {data.shop.length === 0 ? (
              <Card><Text as="p" tone="subdued">{t('backends.empty')}</Text></Card>
            ) : (
              data.shop.map((b) => <BackendCard key={b.id} backend={b} editable />)
            )}
            {data.deployment.length > 0 && (
              <BlockStack gap="300">
                <Text as="h2" variant="headingMd">{t('backends.deploymentSection')}</Text>
                <Banner tone="info"><p>{t('backends.deploymentNote')}</p></Banner>
                {data.deployment.map((b) => <BackendCard key={b.id} backend={b} editable={false} />)}
              </BlockStack>
            )}
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  )
}

export { ErrorBoundary } from '#app/components/RouteError.tsx'
