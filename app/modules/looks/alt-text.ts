import { AppError } from '#app/lib/errors.ts'
import type { Persona, ResolvedLook } from './schema.ts'

// Alt text in the market's own language. Shoppers on a JP listing read
// Japanese alt text and search engines index it per market, so these are
// written phrases per language, not the UI's locale files (which cover only the
// merchant's UI languages).

type Presentation = Persona['presentation']
type AgeBand = Persona['ageBand']

interface AltGrammar {
  product(title: string): string
  persona(p: Pick<Persona, 'presentation' | 'ageBand' | 'bodySize'>): string
  join(product: string, persona: string | null, scene: string): string
  /** Scene phrase per scene id; every scene must have one in every grammar (checked at load). */
  scenes: Record<string, string>
}

/** `[low, high]` of an age band, `high` null for the open band. */
function ageRange(band: AgeBand): [string, string | null] {
  const [low, high] = band.replace('+', '').split('-')
  return [low, high ?? null]
}

function dashJoin(sep: string) {
  return (product: string, persona: string | null, scene: string) =>
    `${persona ? `${product} ${persona}` : product}${sep}${scene}`
}

const english = (spelling: 'us' | 'gb'): AltGrammar => ({
  product: (title) => title,
  persona: (p) => {
    const noun: Record<Presentation, string> = {
      feminine: 'a female model',
      masculine: 'a male model',
      androgynous: 'an androgynous model',
    }
    const [low, high] = ageRange(p.ageBand)
    return `worn by ${noun[p.presentation]} (age ${high ? `${low}–${high}` : `${low}+`}, size ${p.bodySize})`
  },
  join: dashJoin(' – '),
  scenes: {
    'studio-white': 'studio shot, white background',
    'grey-seamless': `studio shot, light ${spelling === 'us' ? 'gray' : 'grey'} seamless backdrop`,
    'warm-gradient': 'studio shot, warm gradient backdrop',
    'cream-minimal': 'minimal cream-toned set',
    street: 'street style shot on a city sidewalk',
    beach: 'on a sunny beach',
    'cafe-interior': `in a ${spelling === 'us' ? 'cozy' : 'cosy'} café`,
    loft: 'in an industrial loft with brick walls',
    'magazine-cover': 'magazine-cover style editorial shot',
  },
})

const german: AltGrammar = {
  product: (title) => `Produkt „${title}“`,
  persona: (p) => {
    const adjective: Record<Presentation, string> = { feminine: 'weiblichen', masculine: 'männlichen', androgynous: 'androgynen' }
    const [low, high] = ageRange(p.ageBand)
    return `getragen von einem ${adjective[p.presentation]} Model (${high ? `${low}–${high} Jahre` : `ab ${low} Jahren`}, Größe ${p.bodySize})`
  },
  join: (product, persona, scene) => `${persona ? `${product}, ${persona}` : product} – ${scene}`,
  scenes: {
    'studio-white': 'Studioaufnahme, weißer Hintergrund',
    'grey-seamless': 'Studioaufnahme, hellgrauer Hintergrund',
    'warm-gradient': 'Studioaufnahme, Hintergrund mit warmem Farbverlauf',
    'cream-minimal': 'minimalistisches Set in Cremetönen',
    street: 'Streetstyle-Aufnahme auf einem Gehweg in der Stadt',
    beach: 'am sonnigen Strand',
    'cafe-interior': 'in einem gemütlichen Café',
    loft: 'in einem Industrie-Loft mit Backsteinwänden',
    'magazine-cover': 'Editorial im Stil eines Magazincovers',
  },
}

const french: AltGrammar = {
  product: (title) => `Produit « ${title} »`,
  persona: (p) => {
    const by: Record<Presentation, string> = {
      feminine: 'porté par une mannequin',
      masculine: 'porté par un mannequin',
      androgynous: 'porté par un mannequin au style androgyne',
    }
    const [low, high] = ageRange(p.ageBand)
    return `${by[p.presentation]} (${high ? `${low}–${high} ans` : `${low} ans et plus`}, taille ${p.bodySize})`
  },
  join: dashJoin(' – '),
  scenes: {
    'studio-white': 'photo studio, fond blanc',
    'grey-seamless': 'photo studio, fond gris clair',
    'warm-gradient': 'photo studio, fond en dégradé chaud',
    'cream-minimal': 'décor minimaliste aux tons crème',
    street: 'photo street style sur un trottoir en ville',
    beach: 'sur une plage ensoleillée',
    'cafe-interior': 'dans un café chaleureux',
    loft: 'dans un loft industriel aux murs de briques',
    'magazine-cover': 'photo éditoriale façon couverture de magazine',
  },
}

const italian: AltGrammar = {
  product: (title) => `Prodotto «${title}»`,
  persona: (p) => {
    const by: Record<Presentation, string> = {
      feminine: 'indossato da una modella',
      masculine: 'indossato da un modello',
      androgynous: 'indossato da un modello dallo stile androgino',
    }
    const [low, high] = ageRange(p.ageBand)
    return `${by[p.presentation]} (${high ? `${low}–${high} anni` : `${low} anni e oltre`}, taglia ${p.bodySize})`
  },
  join: dashJoin(' – '),
  scenes: {
    'studio-white': 'foto in studio, sfondo bianco',
    'grey-seamless': 'foto in studio, sfondo grigio chiaro',
    'warm-gradient': 'foto in studio, sfondo sfumato caldo',
    'cream-minimal': 'set minimalista nei toni del crema',
    street: 'foto street style su un marciapiede in città',
    beach: 'su una spiaggia assolata',
    'cafe-interior': 'in un caffè accogliente',
    loft: 'in un loft industriale con pareti in mattoni',
    'magazine-cover': 'foto editoriale in stile copertina di rivista',
  },
}

const spanish: AltGrammar = {
  product: (title) => `Producto «${title}»`,
  persona: (p) => {
    const by: Record<Presentation, string> = {
      feminine: 'llevado por una modelo',
      masculine: 'llevado por un modelo',
      androgynous: 'llevado por un modelo de estilo andrógino',
    }
    const [low, high] = ageRange(p.ageBand)
    return `${by[p.presentation]} (${high ? `${low}–${high} años` : `${low} años o más`}, talla ${p.bodySize})`
  },
  join: dashJoin(' – '),
  scenes: {
    'studio-white': 'foto de estudio, fondo blanco',
    'grey-seamless': 'foto de estudio, fondo gris claro',
    'warm-gradient': 'foto de estudio, fondo degradado cálido',
    'cream-minimal': 'set minimalista en tonos crema',
    street: 'foto street style en una acera de la ciudad',
    beach: 'en una playa soleada',
    'cafe-interior': 'en una cafetería acogedora',
    loft: 'en un loft industrial con paredes de ladrillo',
    'magazine-cover': 'foto editorial estilo portada de revista',
  },
}

const portuguese: AltGrammar = {
  product: (title) => `Produto “${title}”`,
  persona: (p) => {
    const by: Record<Presentation, string> = {
      feminine: 'usado por uma modelo',
      masculine: 'usado por um modelo',
      androgynous: 'usado por um modelo de estilo andrógino',
    }
    const [low, high] = ageRange(p.ageBand)
    return `${by[p.presentation]} (${high ? `${low} a ${high} anos` : `${low} anos ou mais`}, tamanho ${p.bodySize})`
  },
  join: dashJoin(' – '),
  scenes: {
    'studio-white': 'foto de estúdio, fundo branco',
    'grey-seamless': 'foto de estúdio, fundo cinza-claro',
    'warm-gradient': 'foto de estúdio, fundo em degradê quente',
    'cream-minimal': 'cenário minimalista em tons de creme',
    street: 'foto street style em uma calçada da cidade',
    beach: 'em uma praia ensolarada',
    'cafe-interior': 'em um café aconchegante',
    loft: 'em um loft industrial com paredes de tijolos',
    'magazine-cover': 'foto editorial estilo capa de revista',
  },
}

const japanese: AltGrammar = {
  product: (title) => `商品「${title}」`,
  persona: (p) => {
    const who: Record<Presentation, string> = {
      feminine: '女性モデル',
      masculine: '男性モデル',
      androgynous: 'ジェンダーレスモデル',
    }
    const [low, high] = ageRange(p.ageBand)
    return `${who[p.presentation]}着用（${high ? `${low}〜${high}歳` : `${low}歳以上`}・${p.bodySize}サイズ）`
  },
  join: (product, persona, scene) => `${persona ? `${product}${persona}` : product}／${scene}`,
  scenes: {
    'studio-white': 'スタジオ撮影・白背景',
    'grey-seamless': 'スタジオ撮影・ライトグレー背景',
    'warm-gradient': 'スタジオ撮影・暖色グラデーション背景',
    'cream-minimal': 'クリーム色のミニマルなセットで撮影',
    street: '街なかの歩道で撮影したストリートスナップ',
    beach: '晴れたビーチで撮影',
    'cafe-interior': '居心地のよいカフェで撮影',
    loft: 'レンガ壁のインダストリアルなロフトで撮影',
    'magazine-cover': '雑誌の表紙風エディトリアル',
  },
}

const korean: AltGrammar = {
  product: (title) => `상품 “${title}”`,
  persona: (p) => {
    const who: Record<Presentation, string> = { feminine: '여성 모델', masculine: '남성 모델', androgynous: '젠더리스 모델' }
    const [low, high] = ageRange(p.ageBand)
    return `${who[p.presentation]} 착용(${high ? `${low}~${high}세` : `${low}세 이상`}, ${p.bodySize} 사이즈)`
  },
  join: dashJoin(' – '),
  scenes: {
    'studio-white': '스튜디오 촬영, 흰색 배경',
    'grey-seamless': '스튜디오 촬영, 밝은 회색 배경',
    'warm-gradient': '스튜디오 촬영, 따뜻한 그라데이션 배경',
    'cream-minimal': '크림 톤의 미니멀한 세트에서 촬영',
    street: '도심 인도에서 촬영한 스트리트 스타일',
    beach: '햇살 좋은 해변에서 촬영',
    'cafe-interior': '아늑한 카페에서 촬영',
    loft: '벽돌 벽의 인더스트리얼 로프트에서 촬영',
    'magazine-cover': '잡지 표지 스타일 화보',
  },
}

const chinese: AltGrammar = {
  product: (title) => `商品“${title}”`,
  persona: (p) => {
    const who: Record<Presentation, string> = { feminine: '女模特', masculine: '男模特', androgynous: '中性风模特' }
    const [low, high] = ageRange(p.ageBand)
    return `${who[p.presentation]}上身（${high ? `${low}–${high}岁` : `${low}岁以上`}，${p.bodySize}码）`
  },
  join: (product, persona, scene) => `${persona ? `${product}，${persona}` : product}——${scene}`,
  scenes: {
    'studio-white': '纯白背景棚拍',
    'grey-seamless': '浅灰无缝背景棚拍',
    'warm-gradient': '暖色渐变背景棚拍',
    'cream-minimal': '奶油色调极简场景',
    street: '城市街头街拍',
    beach: '阳光海滩外景',
    'cafe-interior': '温馨咖啡馆内景',
    loft: '红砖工业风 Loft 内景',
    'magazine-cover': '杂志封面风格大片',
  },
}

const arabic: AltGrammar = {
  // why: U+2068/U+2069 isolate a Latin title inside right-to-left text, so its
  // direction cannot reorder the surrounding Arabic words.
  product: (title) => `المنتج «\u2068${title}\u2069»`,
  persona: (p) => {
    const who: Record<Presentation, string> = {
      feminine: 'ترتديه عارضة أزياء',
      masculine: 'يرتديه عارض أزياء',
      androgynous: 'يرتديه عارض أزياء بإطلالة محايدة',
    }
    const [low, high] = ageRange(p.ageBand)
    return `${who[p.presentation]} (${high ? `${low}–${high} عامًا` : `${low} عامًا فأكثر`}، مقاس ${p.bodySize})`
  },
  join: dashJoin(' – '),
  scenes: {
    'studio-white': 'تصوير استوديو، خلفية بيضاء',
    'grey-seamless': 'تصوير استوديو، خلفية رمادية فاتحة',
    'warm-gradient': 'تصوير استوديو، خلفية بتدرج لوني دافئ',
    'cream-minimal': 'ديكور بسيط بدرجات اللون الكريمي',
    street: 'تصوير بأسلوب الشارع على رصيف في المدينة',
    beach: 'على شاطئ مشمس',
    'cafe-interior': 'داخل مقهى دافئ',
    loft: 'داخل لوفت صناعي بجدران من الطوب',
    'magazine-cover': 'لقطة تحريرية بأسلوب غلاف مجلة',
  },
}

/** Grammars by language tag; `resolveAltTextLanguage` maps any BCP 47 tag onto one of these. */
export const altTextGrammars: Readonly<Record<string, AltGrammar>> = {
  en: english('us'),
  'en-GB': english('gb'),
  de: german,
  fr: french,
  it: italian,
  es: spanish,
  pt: portuguese,
  ja: japanese,
  ko: korean,
  zh: chinese,
  ar: arabic,
}

// why: Commonwealth English follows British spelling; zh-CN is our Simplified Chinese.
const aliases: Readonly<Record<string, string>> = {
  'en-AU': 'en-GB',
  'en-NZ': 'en-GB',
  'en-IE': 'en-GB',
  'en-IN': 'en-GB',
  'zh-CN': 'zh',
  'zh-Hans': 'zh',
  'zh-SG': 'zh',
}

/** The grammar tag used for a BCP 47 tag: exact, alias, base language, then English. */
export function resolveAltTextLanguage(tag: string): string {
  if (tag in altTextGrammars) return tag
  if (tag in aliases) return aliases[tag]
  const base = tag.split('-')[0].toLowerCase()
  return base in altTextGrammars ? base : 'en'
}

// why: Shopify caps alt text at 512 characters; a long title must not push the
// look description (the useful part for a shopper) over the edge.
const MAX_TITLE_CHARS = 200

function cleanTitle(title: string): string {
  const oneLine = title.replace(/\s+/g, ' ').trim()
  return oneLine.length > MAX_TITLE_CHARS ? `${oneLine.slice(0, MAX_TITLE_CHARS - 1)}…` : oneLine
}

/**
 * Alt text for a rendered image, in `locale` (default: the market's alt-text
 * language). Includes the persona when the look has one.
 */
export function altText(productTitle: string, look: ResolvedLook, locale: string = look.market.altTextLanguage): string {
  const grammar = altTextGrammars[resolveAltTextLanguage(locale)]
  const scene = grammar.scenes[look.scene.id]
  if (scene === undefined) {
    throw new AppError('INTERNAL', `No alt-text phrase for scene "${look.scene.id}" in ${locale}`)
  }
  const persona = look.persona ? grammar.persona(look.persona) : null
  return grammar.join(grammar.product(cleanTitle(productTitle)), persona, scene)
}
