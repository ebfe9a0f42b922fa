import type { LoaderFunctionArgs } from '@remix-run/node'
import { data } from '@remix-run/node'
import type { HeadersFunction } from '@remix-run/node'
import { Form, Link as RemixLink, Outlet, isRouteErrorResponse, useLoaderData, useLocation, useNavigate, useRouteError } from '@remix-run/react'
import { NavMenu } from '@shopify/app-bridge-react'
import { boundary } from '@shopify/shopify-app-remix/server'
import { AppProvider as ShopifyAppProvider } from '@shopify/shopify-app-remix/react'
import { AppProvider, Box, Button, Frame, InlineStack, Select, Text, Link as PolarisLink } from '@shopify/polaris'
import type { LinkLikeComponentProps } from '@shopify/polaris/build/ts/src/utilities/link'
import polarisEn from '@shopify/polaris/locales/en.json'
import polarisZh from '@shopify/polaris/locales/zh-CN.json'
import polarisStyles from '@shopify/polaris/build/esm/styles.css?url'
import appStyles from '#app/styles/app.css?url'
import { defaultLocale, env } from '#app/lib/env.server.ts'
import { detectLocale, I18nProvider, isLocale, translator } from '#app/lib/i18n.ts'
import { requireShop } from '#app/modules/tenants/session.server.ts'
import { toReviewCount } from '#app/modules/renders/review.server.ts'
import { ErrorBoundary as RouteError } from '#app/components/RouteError.tsx'
import { ToastProvider } from '#app/components/Toasts.tsx'

export const links = () => [
  { rel: 'stylesheet', href: polarisStyles },
  { rel: 'stylesheet', href: appStyles },
]

export async function loader({ request }: LoaderFunctionArgs) {
  const { tenant } = await requireShop(request)
  const locale = detectLocale(request, tenant.settings.locale ?? defaultLocale(), { acceptLanguage: env().APP_MODE !== 'taobao' })
  const lang = new URL(request.url).searchParams.get('lang')
  const headers = new Headers()
  if (isLocale(lang)) headers.append('set-cookie', `atelier_lang=${encodeURIComponent(lang)}; Path=/; SameSite=Lax; Max-Age=31536000`)
  return data(
    { locale, shop: tenant.displayName, mode: env().APP_MODE, apiKey: env().SHOPIFY_API_KEY, toReview: await toReviewCount(tenant.id) },
    { headers },
  )
}

/**
 * The app's language, kept in a cookie (a page's ?lang= sets it); until then
 * the browser's Accept-Language decides. Each option is named in its own language.
 */
function LanguageSelect({ locale, label }: { locale: string; label: string }) {
  const navigate = useNavigate()
  const location = useLocation()
  return (
    <div style={{ minWidth: 140 }}>
      <Select
        label={label}
        labelInline
        options={[
          { label: 'English', value: 'en' },
          { label: '简体中文', value: 'zh-CN' },
        ]}
        value={locale}
        onChange={(lang) => navigate(`${location.pathname}?lang=${encodeURIComponent(lang)}`)}
      />
    </div>
  )
}

// why: Polaris renders links through this, so navigation stays client-side.
function LinkLike({ url, children, external, ...rest }: LinkLikeComponentProps) {
  if (external) return <a href={url} target="_blank" rel="noreferrer" {...rest}>{children}</a>
  return <RemixLink to={url} {...rest}>{children}</RemixLink>
}

export default function AppLayout() {
  const { locale, shop, mode, apiKey, toReview } = useLoaderData<typeof loader>()
  const t = translator(locale)
  const review = toReview > 0 ? `${t('review.nav')} (${toReview})` : t('review.nav')
  if (mode === 'shopify') {
    // Embedded in the Shopify admin: App Bridge draws the navigation and the
    // title bar; the pages are the same ones local mode serves.
    return (
      <ShopifyAppProvider isEmbeddedApp apiKey={apiKey} i18n={locale === 'zh-CN' ? polarisZh : polarisEn}>
        <I18nProvider locale={locale}>
          <NavMenu>
            <RemixLink to="/app" rel="home">{t('nav.products')}</RemixLink>
            <RemixLink to="/app/review">{review}</RemixLink>
            <RemixLink to="/app/bulk">{t('nav.bulk')}</RemixLink>
            <RemixLink to="/app/settings/backends">{t('nav.backends')}</RemixLink>
            <RemixLink to="/app/plan">{t('nav.plan')}</RemixLink>
          </NavMenu>
          <Outlet />
        </I18nProvider>
      </ShopifyAppProvider>
    )
  }
  return (
    <AppProvider i18n={locale === 'zh-CN' ? polarisZh : polarisEn} linkComponent={LinkLike}>
      <Frame>
        <ToastProvider>
          <I18nProvider locale={locale}>
            {(mode === 'local' || mode === 'taobao') && (
              <Box padding="300" background="bg-surface" borderBlockEndWidth="025" borderColor="border">
                <InlineStack align="space-between" blockAlign="center">
                  <InlineStack gap="400" blockAlign="center">
                    <Text as="span" variant="headingMd">Atelier</Text>
                    <PolarisLink url="/app" removeUnderline>{t('nav.products')}</PolarisLink>
                    <PolarisLink url="/app/review" removeUnderline>{review}</PolarisLink>
                    <PolarisLink url="/app/bulk" removeUnderline>{t('nav.bulk')}</PolarisLink>
                    <PolarisLink url="/app/settings/backends" removeUnderline>{t('nav.backends')}</PolarisLink>
                    <Text as="span" tone="subdued">{t('nav.shop', { shop })}</Text>
                  </InlineStack>
                  <InlineStack gap="300" blockAlign="center">
                    <LanguageSelect locale={locale} label={t('nav.language')} />
                    {mode === 'taobao' && (
                      <Form method="post" action="/auth/logout">
                        <Button submit variant="plain">{t('login.logout')}</Button>
                      </Form>
                    )}
                  </InlineStack>
                </InlineStack>
              </Box>
            )}
            <Outlet />
          </I18nProvider>
        </ToastProvider>
      </Frame>
    </AppProvider>
  )
}

// why: Shopify's auth throws Responses whose body is an HTML page (the
// session-token bounce, an exit-iframe redirect); those must render as is.
export function ErrorBoundary() {
  const error = useRouteError()
  if (isRouteErrorResponse(error) && typeof error.data === 'string') return boundary.error(error)
  return <RouteError />
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs)
