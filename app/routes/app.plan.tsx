import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { Badge, Banner, BlockStack, Button, Card, InlineStack, Layout, Page, ProgressBar, Text } from '@shopify/polaris'
import { env } from '#app/lib/env.server.ts'
import { errorResponse } from '#app/lib/http.server.ts'
import { useI18n } from '#app/lib/i18n.ts'
import { billingFor } from '#app/modules/billing/service.server.ts'
import { adminGraphql } from '#app/modules/shopify/admin.server.ts'
import { currentPlan, startPlan, syncPlan } from '#app/modules/shopify/billing/plan.server.ts'
import { usageThisPeriod } from '#app/modules/shopify/billing/usage.server.ts'
import { requireShop } from '#app/modules/tenants/session.server.ts'
import { pageMeta } from '#app/lib/page-title.ts'

export async function loader({ request }: LoaderFunctionArgs) {
  const { tenant } = await requireShop(request)
  if (!billingFor(tenant).billed) {
    return { billed: false as const, status: null, usage: null, price: env().BILLING_PRICE_PER_RENDER, test: false }
  }
  // Returning from Shopify's confirmation page (charge_id), or no plan yet: ask Shopify.
  const returning = new URL(request.url).searchParams.has('charge_id')
  const plan = returning || !(await currentPlan(tenant.id)) ? await syncPlan(tenant, adminGraphql(tenant.externalId)) : await currentPlan(tenant.id)
  const usage = await usageThisPeriod(tenant.id, plan)
  return { billed: true as const, status: plan?.status ?? null, usage, price: plan?.pricePerRender ?? env().BILLING_PRICE_PER_RENDER, test: plan?.test ?? false }
}

export async function action({ request }: ActionFunctionArgs) {
  try {
    const { tenant, admin } = await requireShop(request)
    if (!admin) return { ok: false as const, error: { code: 'INVALID_INPUT', message: 'Local mode is not billed.' } }
    const returnUrl = `${env().SHOPIFY_APP_URL}/app/plan?shop=${encodeURIComponent(tenant.externalId)}`
    const { confirmationUrl } = await startPlan(tenant, adminGraphql(tenant.externalId), returnUrl)
    // why _parent: Shopify's confirmation page cannot load inside the app's iframe.
    return admin.redirect(confirmationUrl, { target: '_parent' })
  } catch (e) {
    return errorResponse(e)
  }
}

export const meta = pageMeta((t) => t('plan.title'))

export default function Plan() {
  const data = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const navigation = useNavigation()
  const { t } = useI18n()
  const error = result && 'error' in result ? result.error : null
  return (
    <Page title={t('plan.title')} backAction={{ content: t('nav.products'), url: '/app' }}>
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {error && <Banner tone="critical" title={t(`errors.${error.code}`)}><p>{error.message}</p></Banner>}
            {!data.billed ? (
              <Card><Text as="p">{t('plan.localMode')}</Text></Card>
            ) : (
              <Card>
                <BlockStack gap="300">
                  <InlineStack gap="200" blockAlign="center">
                    <Text as="h2" variant="headingMd">{t('plan.usagePlan')}</Text>
                    <Badge tone={data.status === 'ACTIVE' ? 'success' : 'attention'}>{data.status ? t(`plan.status.${data.status}`) : t('plan.none')}</Badge>
                    {data.test && <Badge>{t('plan.test')}</Badge>}
                  </InlineStack>
                  <Text as="p">{t('plan.price', { price: data.price, currency: data.usage.currency })}</Text>
                  <div data-testid="plan-usage">
                    <Text as="p">
                      {t('plan.used', { count: data.usage.renders, amount: data.usage.amount.toFixed(2), cap: data.usage.cap, currency: data.usage.currency })}
                    </Text>
                  </div>
                  <ProgressBar progress={Math.min(100, (data.usage.amount / data.usage.cap) * 100)} size="small" />
                  {data.status !== 'ACTIVE' && (
                    <Form method="post">
                      <Button submit variant="primary" loading={navigation.state !== 'idle'}>{t('plan.subscribe')}</Button>
                    </Form>
                  )}
                </BlockStack>
              </Card>
            )}
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  )
}

export { ErrorBoundary } from '#app/components/RouteError.tsx'
