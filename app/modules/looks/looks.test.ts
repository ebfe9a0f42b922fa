import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { isAppError } from '#app/lib/errors.ts'
import {
  altText,
  defaultLookChoice,
  getMarket,
  getPersona,
  getScene,
  lookVersions,
  markets,
  outputSize,
  personaTraitKeys,
  personas,
  resolveAltTextLanguage,
  resolveLook,
  scenes,
} from './index.ts'
import { aspectRatioSchema, marketSchema, parseLookData, personaSchema, sceneSchema } from './schema.ts'

function loadLocale(lang: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../locales/${lang}/looks.json`, import.meta.url), 'utf8'))
}

/** `looks.scene.beach.name` → the string at looks.scene.beach.name in looks.json (app/lib/i18n.ts flattens files unprefixed). */
function lookup(locale: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], locale)
}

function expectLookUnknown(fn: () => unknown, id: string) {
  try {
    fn()
  } catch (e) {
    expect(isAppError(e) && e.code).toBe('LOOK_UNKNOWN')
    expect((e as Error).message).toContain(id)
    return
  }
  throw new Error('expected LOOK_UNKNOWN')
}

describe('look data', () => {
  it('every look validates against its schema', () => {
    for (const p of personas) expect(personaSchema.parse(p)).toEqual(p)
    for (const m of markets) expect(marketSchema.parse(m)).toEqual(m)
    for (const s of scenes) expect(sceneSchema.parse(s)).toEqual(s)
  })

  it('ids are unique within each kind', () => {
    for (const list of [personas, markets, scenes]) {
      const ids = list.map((l) => l.id)
      expect(new Set(ids).size).toBe(ids.length)
    }
  })

  it('a bad edit fails with the id named', () => {
    expect(() => parseLookData('persona', personaSchema, [{ ...personas[0], id: 'broken', hair: '' }])).toThrow(/"broken"/)
    expect(() => parseLookData('scene', sceneSchema, [scenes[0], scenes[0]])).toThrow(/Duplicate scene id "studio-white"/)
  })

  it('personas cover presentations, ages, all skin tones and sizes, with plus sizes', () => {
    expect(personas.length).toBeGreaterThanOrEqual(10)
    const covered = (key: 'presentation' | 'ageBand' | 'skinTone' | 'bodySize') => new Set(personas.map((p) => p[key]))
    expect(covered('presentation')).toEqual(new Set(['feminine', 'masculine', 'androgynous']))
    expect(covered('ageBand')).toEqual(new Set(['18-24', '25-34', '35-44', '45-54', '55+']))
    expect(covered('skinTone')).toEqual(new Set(['I', 'II', 'III', 'IV', 'V', 'VI']))
    expect(covered('bodySize')).toEqual(new Set(['XS', 'S', 'M', 'L', 'XL', '2XL', '3XL']))
    expect(personas.filter((p) => p.bodySize === '2XL' || p.bodySize === '3XL').length).toBeGreaterThanOrEqual(2)
  })

  it('every persona has settings for each GPU backend', () => {
    for (const p of personas) {
      expect(p.backends.comfyui?.lora, p.id).toMatch(/\.safetensors$/)
      expect(p.backends.sdwebui?.negative_prompt, p.id).toBeTruthy()
      expect(p.backends.weshop?.fashionModelId, p.id).toBeTruthy()
    }
  })

  it('covers the required markets with real alt-text languages', () => {
    const byCountry = Object.fromEntries(markets.map((m) => [m.country, m.altTextLanguage]))
    expect(byCountry).toMatchObject({
      US: 'en-US',
      GB: 'en-GB',
      DE: 'de',
      FR: 'fr',
      JP: 'ja',
      KR: 'ko',
      CN: 'zh-CN',
      AE: 'ar',
      BR: 'pt-BR',
    })
    for (const m of markets) expect(aspectRatioSchema.options).toContain(m.aspectRatio)
  })

  it("every market's default personas and scenes exist", () => {
    for (const m of markets) {
      for (const id of m.defaultPersonas) expect(() => getPersona(id), `${m.id} → ${id}`).not.toThrow()
      for (const id of m.defaultScenes) expect(() => getScene(id), `${m.id} → ${id}`).not.toThrow()
    }
  })

  it('has the required scenes, each with a cpu-studio setting that barely moves product colour', () => {
    const required = [
      'studio-white',
      'grey-seamless',
      'warm-gradient',
      'street',
      'beach',
      'cafe-interior',
      'loft',
      'magazine-cover',
    ]
    expect(scenes.map((s) => s.id)).toEqual(expect.arrayContaining(required))
    for (const s of scenes) {
      const cpu = s.backends['cpu-studio']
      expect(cpu, s.id).toBeDefined()
      expect(cpu!.lightMatch, s.id).toBeLessThanOrEqual(0.06)
      for (const backend of ['comfyui', 'sdwebui', 'weshop'] as const)
        expect(s.backends[backend], `${s.id}/${backend}`).toBeDefined()
    }
  })

  it('every nameKey and persona trait key exists in both locale files', () => {
    for (const lang of ['en', 'zh-CN']) {
      const locale = loadLocale(lang)
      const keys = [
        ...personas.flatMap((p) => [p.nameKey, p.nameKey.replace(/\.name$/, '.hair'), ...personaTraitKeys(p)]),
        ...markets.map((m) => m.nameKey),
        ...scenes.flatMap((s) => [s.nameKey, s.nameKey.replace(/\.name$/, '.description'), `looks.category.${s.category}`]),
      ]
      for (const key of keys) expect(typeof lookup(locale, key), `${lang}: ${key}`).toBe('string')
    }
  })
})

describe('lookups', () => {
  it('get* return the look or throw LOOK_UNKNOWN naming the id', () => {
    expect(getPersona('amara').id).toBe('amara')
    expect(getMarket('jp').aspectRatio).toBe('3:4')
    expect(getScene('beach').category).toBe('outdoor')
    expectLookUnknown(() => getPersona('nobody'), 'nobody')
    expectLookUnknown(() => getMarket('atlantis'), 'atlantis')
    expectLookUnknown(() => getScene('moon'), 'moon')
  })

  it('resolveLook validates ids and records versions', () => {
    const look = resolveLook({ personaId: 'grace', marketId: 'us', sceneId: 'loft' })
    expect(lookVersions(look)).toEqual({
      personaId: 'grace',
      personaVersion: 1,
      marketId: 'us',
      marketVersion: 1,
      sceneId: 'loft',
      sceneVersion: 1,
    })
    const noPersona = resolveLook({ personaId: null, marketId: 'de', sceneId: 'studio-white' })
    expect(lookVersions(noPersona)).toMatchObject({ personaId: null, personaVersion: null })
    expectLookUnknown(() => resolveLook({ personaId: 'ghost', marketId: 'us', sceneId: 'loft' }), 'ghost')
    expectLookUnknown(() => resolveLook({ personaId: null, marketId: 'us', sceneId: 'volcano' }), 'volcano')
    expect(() => resolveLook({ personaId: null, marketId: '../etc', sceneId: 'loft' })).toThrow(/market/)
  })

  it('defaultLookChoice uses the first defaults of the market', () => {
    expect(defaultLookChoice('jp')).toEqual({ personaId: 'hana', marketId: 'jp', sceneId: 'studio-white' })
  })
})

describe('outputSize', () => {
  it('puts maxEdge on the long side and keeps both sides even', () => {
    expect(outputSize('1:1', 2048)).toEqual({ width: 2048, height: 2048 })
    expect(outputSize('3:4', 2048)).toEqual({ width: 1536, height: 2048 })
    expect(outputSize('4:5', 2048)).toEqual({ width: 1638, height: 2048 })
    expect(outputSize('2:3', 2048)).toEqual({ width: 1366, height: 2048 })
    expect(outputSize('9:16', 1000)).toEqual({ width: 562, height: 1000 })
    expect(outputSize('3:4', 1025)).toEqual({ width: 768, height: 1024 })
  })

  it('is even for every ratio and edge', () => {
    for (const aspect of aspectRatioSchema.options) {
      for (const edge of [256, 511, 1000, 1537, 2048]) {
        const { width, height } = outputSize(aspect, edge)
        expect((width % 2) + (height % 2), `${aspect}@${edge}`).toBe(0)
        expect(Math.max(width, height)).toBe(edge - (edge % 2))
      }
    }
  })

  it('rejects a nonsense edge', () => {
    expect(() => outputSize('1:1', 0)).toThrow(/at least 2/)
    expect(() => outputSize('1:1', Number.NaN)).toThrow()
  })
})

describe('altText', () => {
  const title = 'Linen Shirt'

  it('writes the example phrase in German without a persona', () => {
    const look = resolveLook({ personaId: null, marketId: 'de', sceneId: 'studio-white' })
    expect(altText(title, look)).toBe('Produkt „Linen Shirt“ – Studioaufnahme, weißer Hintergrund')
  })

  it('includes the persona in each market language', () => {
    const expected: Record<string, string> = {
      us: 'Linen Shirt worn by a female model (age 25–34, size S) – studio shot, white background',
      uk: 'Linen Shirt worn by a female model (age 25–34, size S) – studio shot, white background',
      de: 'Produkt „Linen Shirt“, getragen von einem weiblichen Model (25–34 Jahre, Größe S) – Studioaufnahme, weißer Hintergrund',
      fr: 'Produit « Linen Shirt » porté par une mannequin (25–34 ans, taille S) – photo studio, fond blanc',
      it: 'Prodotto «Linen Shirt» indossato da una modella (25–34 anni, taglia S) – foto in studio, sfondo bianco',
      es: 'Producto «Linen Shirt» llevado por una modelo (25–34 años, talla S) – foto de estudio, fondo blanco',
      jp: '商品「Linen Shirt」女性モデル着用（25〜34歳・Sサイズ）／スタジオ撮影・白背景',
      kr: '상품 “Linen Shirt” 여성 모델 착용(25~34세, S 사이즈) – 스튜디오 촬영, 흰색 배경',
      cn: '商品“Linen Shirt”，女模特上身（25–34岁，S码）——纯白背景棚拍',
      ae: 'المنتج «\u2068Linen Shirt\u2069» ترتديه عارضة أزياء (25–34 عامًا، مقاس S) – تصوير استوديو، خلفية بيضاء',
      br: 'Produto “Linen Shirt” usado por uma modelo (25 a 34 anos, tamanho S) – foto de estúdio, fundo branco',
      au: 'Linen Shirt worn by a female model (age 25–34, size S) – studio shot, white background',
    }
    for (const m of markets) {
      const look = resolveLook({ personaId: 'amara', marketId: m.id, sceneId: 'studio-white' })
      expect(altText(title, look), m.id).toBe(expected[m.id])
    }
  })

  it('follows regional spelling and open age bands', () => {
    const us = resolveLook({ personaId: 'henri', marketId: 'us', sceneId: 'grey-seamless' })
    const uk = resolveLook({ personaId: 'henri', marketId: 'uk', sceneId: 'grey-seamless' })
    expect(altText(title, us)).toBe(
      'Linen Shirt worn by a male model (age 55+, size L) – studio shot, light gray seamless backdrop',
    )
    expect(altText(title, uk)).toContain('light grey seamless backdrop')
    const de = resolveLook({ personaId: 'lucia', marketId: 'de', sceneId: 'beach' })
    expect(altText(title, de)).toBe(
      'Produkt „Linen Shirt“, getragen von einem weiblichen Model (ab 55 Jahren, Größe XL) – am sonnigen Strand',
    )
  })

  it('has a phrase for every scene in every market language', () => {
    for (const m of markets) {
      for (const s of scenes) {
        const text = altText(title, resolveLook({ personaId: 'river', marketId: m.id, sceneId: s.id }))
        expect(text.length, `${m.id}/${s.id}`).toBeGreaterThan(title.length + 10)
        expect(text).toContain(title)
      }
    }
  })

  it('takes an explicit locale and falls back sensibly', () => {
    const look = resolveLook({ personaId: null, marketId: 'us', sceneId: 'beach' })
    expect(altText(title, look, 'ja')).toBe('商品「Linen Shirt」／晴れたビーチで撮影')
    expect(resolveAltTextLanguage('en-AU')).toBe('en-GB')
    expect(resolveAltTextLanguage('pt-PT')).toBe('pt')
    expect(resolveAltTextLanguage('zh-CN')).toBe('zh')
    expect(resolveAltTextLanguage('sw')).toBe('en')
  })

  it('keeps long or messy titles on one bounded line', () => {
    const look = resolveLook({ personaId: null, marketId: 'us', sceneId: 'loft' })
    const text = altText(`  Very\n long ${'x'.repeat(600)}`, look)
    expect(text).not.toMatch(/\n/)
    expect(text.length).toBeLessThan(512)
    expect(text.startsWith('Very long x')).toBe(true)
  })
})
