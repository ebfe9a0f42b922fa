// Each page's document title, in the page's language: a route exports
// `meta = pageMeta((t, data) => …)` naming the page; the app's name follows.
// why in every leaf route: Remix calls a route's meta with only the matches
// down to that route, so the root cannot see which page is showing.
import type { MetaFunction } from '@remix-run/node'
import { isLocale, translator, type Locale, type Translate } from './i18n.ts'

/** The page's language: the app layout's (it knows the shop's setting), else the request's. */
export function pageLocale(app: unknown, root: unknown): Locale {
  const pick = (d: unknown) => (d as { locale?: unknown } | undefined)?.locale
  const locale = pick(app) ?? pick(root)
  return isLocale(locale) ? locale : 'en'
}

/** "Linen shirt · Atelier"; "Atelier" when the page has no name (yet). */
export function documentTitle(page: string | undefined): string {
  return page ? `${page} · Atelier` : 'Atelier'
}

export function pageMeta(title: (t: Translate, data: unknown) => string | undefined): MetaFunction {
  return ({ data, matches }) => {
    const of = (id: string) => matches.find((m) => m.id === id)?.data
    const t = translator(pageLocale(of('routes/app'), of('root')))
    return [{ title: documentTitle(title(t, data)) }]
  }
}
