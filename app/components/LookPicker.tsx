import { Banner, BlockStack, Button, InlineStack, Text } from '@shopify/polaris'
import { useState, type CSSProperties, type ReactNode } from 'react'
import { useI18n } from '#app/lib/i18n.ts'
import { roveChoices, tabStop } from './choices.ts'
import { Flag } from './Flag.tsx'

// why not a tuple: the loader's JSON hands colours over as number arrays.
type Rgb = readonly number[]

export interface LookOption {
  markets: { id: string; nameKey: string; country: string; aspectRatio: string; defaultScenes: string[] }[]
  personas: { id: string; nameKey: string; swatch: Rgb; bodySize: string; ageBand: string }[]
  scenes: { id: string; nameKey: string; preview: { from: Rgb; to: Rgb }; category: string }[]
}

const rgb = (c: Rgb) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`

function Choice(props: {
  selected: boolean
  disabled?: boolean
  onClick: () => void
  testId: string
  label: string
  children: ReactNode
  width?: number
  /** Why it cannot be chosen (a tooltip). */
  hint?: string
  /** The group's one tab stop: the chosen tile, or the first when none is chosen. */
  tabStop?: boolean
}) {
  const style: CSSProperties = {
    width: props.width ?? 132,
    padding: 6,
    borderRadius: 12,
    border: props.selected ? '2px solid #005bd3' : '2px solid #e3e3e3',
    background: '#fff',
    cursor: props.disabled ? 'not-allowed' : 'pointer',
    opacity: props.disabled ? 0.45 : 1,
    textAlign: 'left',
  }
  return (
    <button type="button" role="radio" aria-checked={props.selected} aria-label={props.label} aria-disabled={props.disabled}
      // why only the chosen tile is a tab stop: a group is one stop, arrows move within it (the radio pattern).
      tabIndex={(props.tabStop ?? props.selected) ? 0 : -1} className="atelier-choice"
      data-testid={props.testId} disabled={props.disabled} title={props.hint} onClick={props.onClick} style={style}>
      {props.children}
    </button>
  )
}

interface PersonaAvailability {
  personasAvailable: boolean
  /** Per persona: can the connected backends realise it, and if not why (an i18n key). */
  personaAvailability?: Record<string, { available: boolean; reasonKey: string | null; reasonVars?: Record<string, string> }>
  /** Backends that could make models but did not pass their last health check (names). */
  personasDown?: string[]
}

type LookPickerProps = LookOption &
  PersonaAvailability & {
    marketId: string
    sceneId: string
    personaId: string
    onMarket: (id: string) => void
    onScene: (id: string) => void
    onPersona: (id: string) => void
    /** Smaller tiles, for the studio's side column. */
    compact?: boolean
  }

/** What a page's loader hands the picker (looks/index.ts, lookOptions, and the personas' availability). */
export type LookPickerData = PersonaAvailability & { looks: LookOption; /** The market to start from (a Taobao shop's is China). */ defaultMarketId?: string | null }

/**
 * The look being chosen, and the picker's props for it. Picking a market
 * moves the scene to that market's first default; no persona to start with.
 */
export function useLookChoice({ looks, personasAvailable, personaAvailability, personasDown, defaultMarketId }: LookPickerData) {
  const first = looks.markets.find((m) => m.id === defaultMarketId) ?? looks.markets[0]
  const [marketId, setMarketId] = useState(first?.id ?? '')
  const [sceneId, setSceneId] = useState(first?.defaultScenes[0] ?? looks.scenes[0]?.id ?? '')
  const [personaId, setPersonaId] = useState('')
  const picker: LookPickerProps = {
    ...looks,
    personasAvailable,
    personaAvailability,
    personasDown,
    marketId,
    sceneId,
    personaId,
    onMarket: (id) => {
      setMarketId(id)
      const market = looks.markets.find((m) => m.id === id)
      if (market) setSceneId(market.defaultScenes[0])
    },
    onScene: setSceneId,
    onPersona: setPersonaId,
  }
  return { marketId, sceneId, personaId, picker }
}

export function LookPicker(props: LookPickerProps) {
  const { t } = useI18n()
  const size = props.compact ? { market: 92, scene: 92, preview: 40 } : { market: 110, scene: 132, preview: 64 }
  return (
    <BlockStack gap="400">
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">{t('studio.market')}</Text>
        <div role="radiogroup" onKeyDown={roveChoices} aria-label={t('studio.market')}><InlineStack gap="200">
          {props.markets.map((m) => (
            <Choice key={m.id} selected={m.id === props.marketId} tabStop={tabStop(props.markets, props.marketId, m.id)} onClick={() => props.onMarket(m.id)} testId={`market-${m.id}`}
              label={t(m.nameKey)} width={size.market}>
              <Flag country={m.country} height={21} />
              <Text as="p" variant="bodySm">{t(m.nameKey)}</Text>
              <Text as="p" variant="bodySm" tone="subdued">{m.aspectRatio}</Text>
            </Choice>
          ))}
        </InlineStack></div>
      </BlockStack>

      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">{t('studio.scene')}</Text>
        <div role="radiogroup" onKeyDown={roveChoices} aria-label={t('studio.scene')}><InlineStack gap="200">
          {props.scenes.map((s) => (
            <Choice key={s.id} selected={s.id === props.sceneId} tabStop={tabStop(props.scenes, props.sceneId, s.id)} onClick={() => props.onScene(s.id)} testId={`scene-${s.id}`} label={t(s.nameKey)} width={size.scene}>
              <div style={{ height: size.preview, borderRadius: 8, background: `linear-gradient(160deg, ${rgb(s.preview.from)}, ${rgb(s.preview.to)})`, border: '1px solid #eee' }} />
              <Text as="p" variant="bodySm">{t(s.nameKey)}</Text>
            </Choice>
          ))}
        </InlineStack></div>
      </BlockStack>

      <PersonaChoice {...props} />
    </BlockStack>
  )
}

/**
 * The model choice. When no connected backend can make people, it collapses
 * to one line saying so (issue 16: 21 greyed-out tiles pushed results down);
 * "Show models" opens what a GPU backend would offer, and why it cannot now.
 */
function PersonaChoice(props: LookPickerProps) {
  const { t } = useI18n()
  const [shown, setShown] = useState(false)
  const collapsed = !props.personasAvailable && !shown
  return (
    <BlockStack gap="200">
      <Text as="h2" variant="headingMd">{t('studio.persona')}</Text>
      {collapsed ? (
        <InlineStack gap="200" blockAlign="center">
          <Text as="p" tone="subdued">
            <span data-testid="personas-collapsed">
              {(props.personasDown?.length ?? 0) > 0 ? t('studio.personaNoneDown') : t('studio.personaNone')}
            </span>
          </Text>
          <Button variant="plain" onClick={() => setShown(true)} ariaExpanded={false}>
            {t('studio.showPersonas')}
          </Button>
        </InlineStack>
      ) : (
        <>
          {!props.personasAvailable && (props.personasDown?.length ?? 0) > 0 && (
            <Banner tone="warning" title={t('studio.personaBackendDownTitle')}>
              <p data-testid="personas-down">{t('studio.personaBackendDown', { backends: props.personasDown!.join(', ') })}</p>
            </Banner>
          )}
          {!props.personasAvailable && (props.personasDown?.length ?? 0) === 0 && (
            <Banner tone="info" title={t('studio.personaNeedsGpuTitle')}>
              <p>{t('studio.personaNeedsGpu')}</p>
            </Banner>
          )}
          <div role="radiogroup" onKeyDown={roveChoices} aria-label={t('studio.persona')}><InlineStack gap="200">
            <Choice selected={props.personaId === ''} tabStop={!props.personas.some((p) => p.id === props.personaId)} onClick={() => props.onPersona('')} testId="persona-none" label={t('studio.noModel')} width={props.compact ? 92 : undefined}>
              <div style={{ height: 48, display: 'grid', placeItems: 'center', fontSize: 22 }}>∅</div>
              <Text as="p" variant="bodySm">{t('studio.noModel')}</Text>
            </Choice>
            {props.personas.map((p) => {
              const availability = props.personaAvailability?.[p.id]
              const disabled = availability ? !availability.available : !props.personasAvailable
              const hint = availability?.reasonKey ? t(availability.reasonKey, availability.reasonVars) : undefined
              return (
                <Choice key={p.id} selected={p.id === props.personaId} disabled={disabled} hint={hint}
                  onClick={() => props.onPersona(p.id)} testId={`persona-${p.id}`} label={t(p.nameKey)} width={props.compact ? 92 : undefined}>
                  <div style={{ height: 48, display: 'grid', placeItems: 'center' }}>
                    <span style={{ width: 40, height: 40, borderRadius: '50%', background: rgb(p.swatch), display: 'inline-block' }} />
                  </div>
                  <Text as="p" variant="bodySm">{t(p.nameKey)}</Text>
                  <Text as="p" variant="bodySm" tone="subdued">{p.ageBand} · {p.bodySize}</Text>
                </Choice>
              )
            })}
          </InlineStack></div>
        </>
      )}
    </BlockStack>
  )
}
