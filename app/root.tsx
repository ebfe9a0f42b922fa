import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Links, Meta, Outlet, Scripts, ScrollRestoration, useRouteError, useRouteLoaderData, isRouteErrorResponse } from '@remix-run/react'
import { defaultLocale, env } from '#app/lib/env.server.ts'
import { detectLocale } from '#app/lib/i18n.ts'
import { documentTitle, pageLocale } from '#app/lib/page-title.ts'

export const links: LinksFunction = () => [{ rel: 'icon', href: 'data:,' }]

export async function loader({ request }: LoaderFunctionArgs) {
  return { locale: detectLocale(request, defaultLocale(), { acceptLanguage: env().APP_MODE !== 'taobao' }) }
}

// A page that names itself (pageMeta) replaces this.
export const meta: MetaFunction = () => [{ title: documentTitle(undefined) }]

export function Layout({ children }: { children: React.ReactNode }) {
  const lang = pageLocale(useRouteLoaderData('routes/app'), useRouteLoaderData('root'))
  return (
    <html lang={lang}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  )
}

export default function App() {
  return <Outlet />
}

export function ErrorBoundary() {
  const error = useRouteError()
  const status = isRouteErrorResponse(error) ? error.status : 500
  const message = isRouteErrorResponse(error) ? (error.data?.message ?? error.statusText) : 'Something went wrong.'
  return (
    <main style={{ fontFamily: 'system-ui', padding: 32 }}>
      <h1>{status}</h1>
      <p>{message}</p>
      <a href="/app">Back to products</a>
    </main>
  )
}
