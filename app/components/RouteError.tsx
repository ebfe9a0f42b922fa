import { isRouteErrorResponse, useRouteError } from '@remix-run/react'
import { Banner, Page } from '@shopify/polaris'
import { useI18n } from '#app/lib/i18n.ts'

export function ErrorBoundary() {
  const error = useRouteError()
  const { t } = useI18n()
  const status = isRouteErrorResponse(error) ? error.status : 500
  const code = isRouteErrorResponse(error) ? (error.data as { code?: string } | undefined)?.code : undefined
  const title = status === 404 ? t('errors.NOT_FOUND') : t('errors.INTERNAL')
  return (
    <Page title={String(status)} backAction={{ content: t('nav.products'), url: '/app' }}>
      <Banner tone="critical" title={title}>
        {code && code !== 'NOT_FOUND' ? t(`errors.${code}`) : null}
      </Banner>
    </Page>
  )
}
