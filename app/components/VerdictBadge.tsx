// The verdict as a badge that opens what it means: what the check compared,
// what it found and where, and what to do next (issue 16, item 4).
import { useState } from 'react'
import { Badge, BlockStack, Box, Popover, Text } from '@shopify/polaris'
import { useI18n } from '#app/lib/i18n.ts'
import { reasonText, verdict, type VerdictInput } from './verdict.ts'

export function VerdictBadge(props: VerdictInput & { id: string; low: boolean; score: number | null }) {
  const { t } = useI18n()
  const [open, setOpen] = useState(false)
  const activator = (
    <button
      type="button"
      className="atelier-verdict"
      aria-expanded={open}
      data-testid={`verdict-${props.id}`}
      data-score={props.score ?? undefined}
      onClick={() => setOpen((v) => !v)}
    >
      <Badge tone={props.low ? 'critical' : 'success'}>{verdict(props, props.low, t)}</Badge>
    </button>
  )
  return (
    <Popover active={open} activator={activator} onClose={() => setOpen(false)} ariaHaspopup="dialog" preferredAlignment="left">
      <Box padding="300" maxWidth="340px">
        <div data-testid={`verdict-explained-${props.id}`}>
          <BlockStack gap="200">
            <Text as="h3" variant="headingSm">
              {t('fidelity.explain.title')}
            </Text>
            <Text as="p">{t('fidelity.explain.checked')}</Text>
            {!props.low ? (
              <Text as="p">{t('fidelity.explain.unchanged')}</Text>
            ) : (
              <>
                <Text as="p">{t(props.reasons.length > 0 ? 'fidelity.explain.changed' : 'fidelity.explain.changedUnnamed')}</Text>
                {props.reasons.length > 0 && (
                  <ul style={{ margin: 0, paddingInlineStart: 20 }}>
                    {props.reasons.map((code, i) => (
                      <li key={code}>{reasonText(t, code, props.reasonPlaces?.[i])}</li>
                    ))}
                  </ul>
                )}
                <Text as="p" tone="subdued">
                  {t('fidelity.explain.next')}
                </Text>
              </>
            )}
          </BlockStack>
        </div>
      </Box>
    </Popover>
  )
}
