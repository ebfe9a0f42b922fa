import { InlineStack, Text } from '@shopify/polaris'
import { useI18n } from '#app/lib/i18n.ts'
import { roveChoices, tabStop } from './choices.ts'

export interface SourceOption {
  id: string
  alt: string | null
  url: string
}

export function SourcePicker(props: { sources: SourceOption[]; selected: string; onSelect: (id: string) => void }) {
  const { t } = useI18n()
  return (
    <div role="radiogroup" onKeyDown={roveChoices} aria-label={t('studio.source')}><InlineStack gap="300">
      {props.sources.map((s) => {
        const on = s.id === props.selected
        return (
          <button
            key={s.id}
            type="button"
            role="radio"
            aria-checked={on}
            tabIndex={tabStop(props.sources, props.selected, s.id) ? 0 : -1}
            className="atelier-choice"
            data-testid={`source-${s.id}`}
            onClick={() => props.onSelect(s.id)}
            style={{
              // why a set width: the caption is truncated to the photo's width, not the alt text's.
              width: 132,
              padding: 4,
              border: on ? '2px solid #005bd3' : '2px solid #e3e3e3',
              borderRadius: 10,
              background: '#fff',
              cursor: 'pointer',
            }}
          >
            <img src={s.url} alt={s.alt ?? s.id} width={120} height={120} style={{ objectFit: 'contain', display: 'block' }} />
            <Text as="span" variant="bodySm" tone="subdued" truncate>{s.alt ?? s.id}</Text>
          </button>
        )
      })}
    </InlineStack></div>
  )
}
