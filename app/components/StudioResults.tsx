// The studio's main pane: results grouped by the look that made them, newest
// look first. why grouped: four variants of one look are compared with each
// other, not with another market's renders (issue 16).
import { BlockStack, Box, Button, Card, InlineGrid, InlineStack, Text } from '@shopify/polaris'
import { memo } from 'react'
import { useI18n } from '#app/lib/i18n.ts'
import { RenderAnnouncer } from './Announcer.tsx'
import { Flag } from './Flag.tsx'
import { lookLabel, type LookNames } from './look-label.ts'
import { RenderCard, type RenderView } from './RenderCard.tsx'

export type StudioRender = RenderView & { maskUrl: string | null; sourceImageId: string }

/** Renders by look (market, scene, model), in the order their newest render appeared. */
export function groupByLook<R extends { marketId: string; sceneId: string; personaId: string | null }>(renders: R[]): R[][] {
  const groups = new Map<string, R[]>()
  for (const r of renders) {
    const key = `${r.marketId}|${r.sceneId}|${r.personaId ?? ''}`
    const group = groups.get(key)
    if (group) group.push(r)
    else groups.set(key, [r])
  }
  return [...groups.values()]
}

/** Results in the first screenful: their images load at once, the rest as they scroll into view. */
const EAGER = 3

// why memo: choosing a look re-renders the studio; the results (a dozen cards) need not follow.
export const StudioResults = memo(function StudioResults(props: {
  renders: StudioRender[]
  looks: LookNames
  threshold: number
  canFeature: boolean
  /** Renders made from a colour image can replace it (Taobao). */
  canColour?: boolean
  /** Free main-image slots to publish into (Taobao), or null where the platform has none. */
  freeSlots?: number[] | null
  published: number
  olderResults: number | null
  sourceUrlOf: (sourceImageId: string) => string | null
  /** For a failure a mask fixes: open the brush on that photo. */
  onDrawMask: (r: StudioRender) => (() => void) | undefined
}) {
  const { t } = useI18n()
  return (
    <BlockStack gap="300">
      <RenderAnnouncer renders={props.renders} />
      {/* why the inset on phones: Polaris cards run edge to edge there, text must not. */}
      <Box paddingInline={{ xs: '400', sm: '0' }}>
        <InlineStack align="space-between">
          <Text as="h2" variant="headingLg">{t('studio.results')}</Text>
          {props.published > 0 && <Text as="span" tone="subdued">{t('studio.publishedCount', { count: props.published })}</Text>}
        </InlineStack>
      </Box>
      {props.renders.length === 0 ? (
        <Card><Text as="p" tone="subdued">{t('studio.noRenders')}</Text></Card>
      ) : (
        groupByLook(props.renders).map((group, g, groups) => {
          const before = groups.slice(0, g).reduce((n, x) => n + x.length, 0)
          const look = lookLabel(props.looks, group[0], t)
          return (
            <section key={group[0].id} data-testid="look-group" aria-label={look.label}>
              <BlockStack gap="200">
                <Box paddingInline={{ xs: '400', sm: '0' }}>
                  <Text as="h3" variant="headingSm">
                    <Flag country={look.country} height={14} /> {look.label}{' '}
                    <Text as="span" tone="subdued">({group.length})</Text>
                  </Text>
                </Box>
                <InlineGrid columns={{ xs: 1, sm: 2, lg: 3 }} gap="300">
                  {group.map((r) => (
                    <RenderCard
                      key={r.id}
                      render={r}
                      threshold={props.threshold}
                      canFeature={props.canFeature}
                      freeSlots={props.freeSlots ?? null}
                      colourSource={Boolean(props.canColour) && r.sourceImageId.startsWith('prop-')}
                      maskUrl={r.maskUrl}
                      sourceUrl={props.sourceUrlOf(r.sourceImageId)}
                      look={look}
                      onDrawMask={props.onDrawMask(r)}
                      eager={before + group.indexOf(r) < EAGER}
                    />
                  ))}
                </InlineGrid>
              </BlockStack>
            </section>
          )
        })
      )}
      {props.olderResults !== null && (
        <div data-testid="older-results" style={{ display: 'flex', justifyContent: 'center' }}>
          <Button url={`?results=${props.olderResults}`}>{t('studio.olderResults')}</Button>
        </div>
      )}
    </BlockStack>
  )
})
