import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { errorCodes } from './errors.ts'
import { detectLocale, messages, translator } from './i18n.ts'

describe('i18n', () => {
  it('has every English key in Simplified Chinese and the reverse', () => {
    // Plural forms differ by language (English has _one, Chinese only _other): compare base keys.
    const base = (keys: string[]) => new Set(keys.map((k) => k.replace(/_(zero|one|two|few|many|other)$/, '')))
    const en = base(Object.keys(messages.en))
    const zh = base(Object.keys(messages['zh-CN']))
    expect([...zh].filter((k) => !en.has(k))).toEqual([])
    expect([...en].filter((k) => !zh.has(k))).toEqual([])
  })

  it('has a message for every error code in both languages', () => {
    for (const code of Object.keys(errorCodes)) {
      expect(messages.en[`errors.${code}`], code).toBeTruthy()
      expect(messages['zh-CN'][`errors.${code}`], code).toBeTruthy()
    }
  })

  it('has every key the UI uses', () => {
    const used = new Set<string>()
    const dirs = ['app/routes', 'app/components']
    for (const dir of dirs) {
      for (const file of readdirSync(dir)) {
        const src = readFileSync(path.join(dir, file), 'utf8')
        for (const m of src.matchAll(/\bt\('([a-zA-Z0-9_.]+)'/g)) used.add(m[1])
      }
    }
    expect(used.size).toBeGreaterThan(20)
    const has = (lang: 'en' | 'zh-CN', k: string) => Boolean(messages[lang][k] ?? messages[lang][`${k}_other`])
    expect([...used].filter((k) => !has('en', k) || !has('zh-CN', k))).toEqual([])
  })

  it('picks plural forms by count', () => {
    expect(translator('en')('products.images', { count: 1 })).toBe('1 image')
    expect(translator('en')('products.images', { count: 3 })).toBe('3 images')
    expect(translator('zh-CN')('products.images', { count: 1 })).toBe('1 张图片')
  })

  it('interpolates variables and falls back to the key', () => {
    expect(translator('en')('render.queued', { position: 3 })).toBe('Position 3 in queue')
    expect(translator('zh-CN')('render.queued', { position: 3 })).toBe('排队第 3 位')
    expect(translator('en')('no.such.key')).toBe('no.such.key')
  })

  it('detects the locale from the query, the cookie, then Accept-Language', () => {
    const req = (url: string, headers: Record<string, string> = {}) => new Request(url, { headers })
    expect(detectLocale(req('http://x/app?lang=zh-CN'))).toBe('zh-CN')
    expect(detectLocale(req('http://x/app', { cookie: 'a=b; atelier_lang=zh-CN' }))).toBe('zh-CN')
    expect(detectLocale(req('http://x/app', { 'accept-language': 'zh-TW,zh;q=0.9' }))).toBe('zh-CN')
    expect(detectLocale(req('http://x/app', { 'accept-language': 'fr-FR' }))).toBe('en')
  })
})
