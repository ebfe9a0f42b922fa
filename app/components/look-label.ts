import type { Translate } from '#app/lib/i18n.ts'

/** The names the pages get from lookOptions(): enough to name any render's look. */
export interface LookNames {
  markets: { id: string; nameKey: string; country: string }[]
  scenes: { id: string; nameKey: string }[]
  personas: { id: string; nameKey: string }[]
}

/** "Germany · Café · No model", with the market's country for its flag; ids stand in for looks since removed. */
export function lookLabel(
  looks: LookNames,
  r: { marketId: string; sceneId: string; personaId: string | null },
  t: Translate,
): { country: string; label: string } {
  const market = looks.markets.find((m) => m.id === r.marketId)
  const label = [market ? t(market.nameKey) : r.marketId, withoutMarket(looks, r, t)]
  return { country: market?.country ?? '', label: label.join(' · ') }
}

/** The look's scene and model, without the market: "Café · No model". */
export function withoutMarket(looks: LookNames, r: { sceneId: string; personaId: string | null }, t: Translate): string {
  const scene = looks.scenes.find((s) => s.id === r.sceneId)
  const persona = r.personaId ? looks.personas.find((p) => p.id === r.personaId) : undefined
  return [
    scene ? t(scene.nameKey) : r.sceneId,
    persona ? t(persona.nameKey) : r.personaId ? r.personaId : t('studio.noModel'),
  ].join(' · ')
}
