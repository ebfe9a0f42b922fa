import { redirect, type LoaderFunctionArgs } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { AppProvider, Banner, BlockStack, Button, Card, InlineStack, Link, Page, Text } from '@shopify/polaris'
import polarisEn from '@shopify/polaris/locales/en.json'
import polarisZh from '@shopify/polaris/locales/zh-CN.json'
import polarisStyles from '@shopify/polaris/build/esm/styles.css?url'
import { defaultLocale, env } from '#app/lib/env.server.ts'
import { detectLocale, I18nProvider, translator } from '#app/lib/i18n.ts'
import { pageMeta } from '#app/lib/page-title.ts'
import { safeReturnTo } from '#app/modules/taobao/auth/state.server.ts'
import { loggedInTenant } from '#app/modules/tenants/login.server.ts'

export const links = () => [{ rel: 'stylesheet', href: polarisStyles }]

const ERRORS = ['denied', 'state', 'failed', 'expired'] as const

// The standalone app's front door (APP_MODE=taobao): log in with Taobao.
export async function loader({ request }: LoaderFunctionArgs) {
  if (env().APP_MODE !== 'taobao') throw redirect('/app')
  const url = new URL(request.url)
  const returnTo = safeReturnTo(url.searchParams.get('returnTo'))
  if (await loggedInTenant(request)) throw redirect(returnTo)
  const error = ERRORS.find((e) => e === url.searchParams.get('error')) ?? null
  const locale = detectLocale(request, defaultLocale(), { acceptLanguage: false })
  const lang = url.searchParams.get('lang')
  const headers = new Headers()
  if (lang === 'en' || lang === 'zh-CN')
    headers.append('set-cookie', `atelier_lang=${lang}; Path=/; SameSite=Lax; Max-Age=31536000`)
  return Response.json({ locale, error, returnTo }, { headers })
}

export const meta = pageMeta((t) => t('login.title'))

export default function Login() {
  const { locale, error, returnTo } = useLoaderData<typeof loader>()
  const t = translator(locale)
  const other = locale === 'zh-CN' ? { lang: 'en', label: 'English' } : { lang: 'zh-CN', label: '简体中文' }
  return (
    <AppProvider i18n={locale === 'zh-CN' ? polarisZh : polarisEn}>
      <I18nProvider locale={locale}>
        <Page narrowWidth>
          <BlockStack gap="400">
            <InlineStack align="end">
              <Link url={`/login?lang=${other.lang}&returnTo=${encodeURIComponent(returnTo)}`}>{other.label}</Link>
            </InlineStack>
            {error && <Banner tone={error === 'expired' ? 'info' : 'critical'} title={t(`login.error.${error}`)} />}
            <Card>
              <BlockStack gap="400">
                <Text as="h1" variant="headingLg">
                  {t('login.title')}
                </Text>
                <Text as="p">{t('login.body')}</Text>
                <div>
                  <Button variant="primary" size="large" url={`/auth/taobao/start?returnTo=${encodeURIComponent(returnTo)}`}>
                    {t('login.withTaobao')}
                  </Button>
                </div>
                <Text as="p" tone="subdued" variant="bodySm">
                  {t('login.privacy')}
                </Text>
              </BlockStack>
            </Card>
          </BlockStack>
        </Page>
      </I18nProvider>
    </AppProvider>
  )
}
