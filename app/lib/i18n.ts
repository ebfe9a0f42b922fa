import { createContext, createElement, useContext, type ReactNode } from 'react'
import enCommon from '#app/locales/en/common.json'
import enErrors from '#app/locales/en/errors.json'
import enLooks from '#app/locales/en/looks.json'
import enBulk from '#app/locales/en/bulk.json'
import enBackends from '#app/locales/en/backends.json'
import enReview from '#app/locales/en/review.json'
import zhCommon from '#app/locales/zh-CN/common.json'
import zhErrors from '#app/locales/zh-CN/errors.json'
import zhLooks from '#app/locales/zh-CN/looks.json'
import zhBulk from '#app/locales/zh-CN/bulk.json'
import zhBackends from '#app/locales/zh-CN/backends.json'
import zhReview from '#app/locales/zh-CN/review.json'

export const locales = ['en', 'zh-CN'] as const
export type Locale = (typeof locales)[number]

type Tree = { [key: string]: string | Tree }

function flatten(tree: Tree, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (typeof v === 'string') out[key] = v
    else flatten(v, key, out)
  }
  return out
}

// why: namespaces are files (common, errors, looks, bulk, backends, review) so the people editing
// looks and the people editing pages do not edit the same file.
export const messages: Record<Locale, Record<string, string>> = {
  en: { ...flatten(enCommon as Tree), ...flatten({ errors: enErrors } as Tree), ...flatten(enLooks as Tree), ...flatten(enBulk as Tree), ...flatten(enBackends as Tree), ...flatten(enReview as Tree) },
  'zh-CN': { ...flatten(zhCommon as Tree), ...flatten({ errors: zhErrors } as Tree), ...flatten(zhLooks as Tree), ...flatten(zhBulk as Tree), ...flatten(zhBackends as Tree), ...flatten(zhReview as Tree) },
}

export type Vars = Record<string, string | number>
export type Translate = (key: string, vars?: Vars) => string

export function translator(locale: Locale): Translate {
  const plurals = new Intl.PluralRules(locale)
  const lookup = (k: string) => messages[locale][k] ?? messages.en[k]
  return (key, vars) => {
    // why: "1 image" / "2 images": a `count` picks `key_one`, `key_other`… when the locale has them.
    const plural = typeof vars?.count === 'number' ? lookup(`${key}_${plurals.select(vars.count)}`) : undefined
    const template = plural ?? lookup(key) ?? key
    if (!vars) return template
    return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m))
  }
}

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (locales as readonly string[]).includes(v)
}

/**
 * ?lang= wins, then the cookie, then Accept-Language (unless the app has a
 * language of its own, as the Taobao app's Chinese), then the fallback.
 */
export function detectLocale(request: Request, fallback: Locale = 'en', opts: { acceptLanguage?: boolean } = {}): Locale {
  const url = new URL(request.url)
  const fromQuery = url.searchParams.get('lang') ?? url.searchParams.get('locale')
  if (isLocale(fromQuery)) return fromQuery
  const cookie = request.headers.get('cookie')?.match(/(?:^|;\s*)atelier_lang=([^;]+)/)?.[1]
  if (cookie && isLocale(decodeURIComponent(cookie))) return decodeURIComponent(cookie) as Locale
  const accept = opts.acceptLanguage === false ? '' : (request.headers.get('accept-language') ?? '')
  for (const part of accept.split(',')) {
    const tag = part.split(';')[0].trim().toLowerCase()
    if (tag.startsWith('zh')) return 'zh-CN'
    if (tag.startsWith('en')) return 'en'
  }
  return fallback
}

const I18nContext = createContext<{ locale: Locale; t: Translate }>({ locale: 'en', t: translator('en') })

export function I18nProvider({ locale, children }: { locale: Locale; children: ReactNode }) {
  return createElement(I18nContext.Provider, { value: { locale, t: translator(locale) } }, children)
}

export function useI18n() {
  return useContext(I18nContext)
}
