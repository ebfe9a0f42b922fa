import { describe, expect, it } from 'vitest'
import { documentTitle, pageLocale, pageMeta } from './page-title.ts'

describe('page titles', () => {
  const args = (data: unknown, appLocale?: string) =>
    ({ data, matches: [{ id: 'root', data: { locale: 'en' } }, { id: 'routes/app', data: appLocale ? { locale: appLocale } : undefined }] }) as never

  it('names the page in the app layout’s language, then the app', () => {
    const products = pageMeta((t) => t('products.title'))
    const en = products(args({}, 'en')) as { title: string }[]
    const zh = products(args({}, 'zh-CN')) as { title: string }[]
    expect(en[0].title).toMatch(/^\S.* · Atelier$/)
    expect(zh[0].title).toMatch(/ · Atelier$/)
    expect(zh[0].title).not.toBe(en[0].title)
    const studio = pageMeta((_t, data) => (data as { product?: { title: string } } | undefined)?.product?.title)
    expect(studio(args({ product: { title: 'Linen shirt' } }, 'en'))).toEqual([{ title: 'Linen shirt · Atelier' }])
    expect(studio(args(undefined, 'en'))).toEqual([{ title: 'Atelier' }])
  })

  it('takes the language from the app layout, else the request, else English', () => {
    expect(pageLocale({ locale: 'zh-CN' }, { locale: 'en' })).toBe('zh-CN')
    expect(pageLocale(undefined, { locale: 'zh-CN' })).toBe('zh-CN')
    expect(pageLocale({ locale: 'fr' }, undefined)).toBe('en')
    expect(documentTitle(undefined)).toBe('Atelier')
  })
})
