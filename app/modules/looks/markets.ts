import { marketSchema, parseLookData, type Market } from './schema.ts'

// Markets: a region's defaults for a look. Default personas are the casting a
// local shopper expects to see first (the merchant can pick any persona);
// aspect ratios follow the dominant marketplaces' image conventions there.
// Bump `version` when a default changes what a one-click render produces.

function market(input: Omit<Market, 'nameKey'>): unknown {
  return { ...input, nameKey: `looks.market.${input.id}.name` }
}

const rawMarkets: unknown[] = [
  market({
    id: 'us',
    version: 1,
    country: 'US',
    flag: '🇺🇸',
    defaultPersonas: ['amara', 'grace', 'marcus', 'river', 'rafael'],
    defaultScenes: ['studio-white', 'street', 'loft'],
    aspectRatio: '4:5',
    altTextLanguage: 'en-US',
  }),
  market({
    id: 'uk',
    version: 1,
    country: 'GB',
    flag: '🇬🇧',
    defaultPersonas: ['chloe', 'marcus', 'river', 'amara'],
    defaultScenes: ['grey-seamless', 'street', 'cafe-interior'],
    aspectRatio: '4:5',
    altTextLanguage: 'en-GB',
  }),
  market({
    id: 'de',
    version: 1,
    country: 'DE',
    flag: '🇩🇪',
    defaultPersonas: ['ingrid', 'lukas', 'camille', 'amara'],
    defaultScenes: ['grey-seamless', 'studio-white', 'loft'],
    aspectRatio: '2:3',
    altTextLanguage: 'de',
  }),
  market({
    id: 'fr',
    version: 1,
    country: 'FR',
    flag: '🇫🇷',
    defaultPersonas: ['camille', 'amara', 'henri', 'river'],
    defaultScenes: ['warm-gradient', 'cafe-interior', 'street'],
    aspectRatio: '2:3',
    altTextLanguage: 'fr',
  }),
  market({
    id: 'it',
    version: 1,
    country: 'IT',
    flag: '🇮🇹',
    defaultPersonas: ['sofia', 'camille', 'henri'],
    defaultScenes: ['warm-gradient', 'cafe-interior', 'beach'],
    aspectRatio: '4:5',
    altTextLanguage: 'it',
  }),
  market({
    id: 'es',
    version: 1,
    country: 'ES',
    flag: '🇪🇸',
    defaultPersonas: ['sofia', 'lucia', 'lukas'],
    defaultScenes: ['beach', 'warm-gradient', 'street'],
    aspectRatio: '4:5',
    altTextLanguage: 'es',
  }),
  market({
    id: 'jp',
    version: 1,
    country: 'JP',
    flag: '🇯🇵',
    defaultPersonas: ['hana', 'kenji', 'jun'],
    defaultScenes: ['studio-white', 'cream-minimal', 'cafe-interior'],
    aspectRatio: '3:4',
    altTextLanguage: 'ja',
  }),
  market({
    id: 'kr',
    version: 1,
    country: 'KR',
    flag: '🇰🇷',
    defaultPersonas: ['seoyeon', 'minho', 'jun'],
    defaultScenes: ['cream-minimal', 'studio-white', 'cafe-interior'],
    aspectRatio: '3:4',
    altTextLanguage: 'ko',
  }),
  market({
    id: 'cn',
    version: 1,
    country: 'CN',
    flag: '🇨🇳',
    defaultPersonas: ['mei', 'hao', 'jun'],
    defaultScenes: ['studio-white', 'cream-minimal', 'street'],
    aspectRatio: '3:4',
    altTextLanguage: 'zh-CN',
  }),
  market({
    id: 'ae',
    version: 1,
    country: 'AE',
    flag: '🇦🇪',
    defaultPersonas: ['noor', 'omar', 'sofia'],
    defaultScenes: ['studio-white', 'warm-gradient', 'loft'],
    aspectRatio: '4:5',
    altTextLanguage: 'ar',
  }),
  market({
    id: 'br',
    version: 1,
    country: 'BR',
    flag: '🇧🇷',
    defaultPersonas: ['lucia', 'rafael', 'amara', 'sofia'],
    defaultScenes: ['beach', 'street', 'studio-white'],
    aspectRatio: '1:1',
    altTextLanguage: 'pt-BR',
  }),
  market({
    id: 'au',
    version: 1,
    country: 'AU',
    flag: '🇦🇺',
    defaultPersonas: ['chloe', 'marcus', 'grace', 'river'],
    defaultScenes: ['beach', 'studio-white', 'cafe-interior'],
    aspectRatio: '4:5',
    altTextLanguage: 'en-AU',
  }),
]

export const markets: readonly Market[] = parseLookData('market', marketSchema, rawMarkets)
