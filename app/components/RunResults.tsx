// A bulk run's results as thumbnails with product names, and the way into
// reviewing them. why: a finished run showed counts and a CSV only (issue 16).
import { BlockStack, Badge, Button, Card, InlineGrid, InlineStack, Link, Text } from '@shopify/polaris'
import { useI18n } from '#app/lib/i18n.ts'
import { verdict, type Place } from './verdict.ts'

export interface RunResult {
  id: string
  productTitle: string
  studioUrl: string
  previewUrl: string
  width: number
  height: number
  low: boolean
  reasons: string[]
  reasonPlaces: (Place | null)[]
  reviewState: string
}

export function RunResults(props: { runId: string; results: RunResult[]; finished: number; toReview: number }) {
  const { t } = useI18n()
  const { results, finished, toReview } = props
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            {t('review.runGrid.title')}
          </Text>
          {toReview > 0 && (
            <Button variant="primary" url={`/app/review?run=${props.runId}`}>
              {t('review.runGrid.review', { count: toReview })}
            </Button>
          )}
        </InlineStack>
        {results.length === 0 ? (
          <Text as="p" tone="subdued">
            {t('review.runGrid.none')}
          </Text>
        ) : (
          <div data-testid="run-results">
            <InlineGrid columns={{ xs: 2, sm: 3, md: 4, lg: 6 }} gap="300">
              {results.map((r) => (
                <BlockStack key={r.id} gap="100">
                  <Link url={r.studioUrl} removeUnderline>
                    <img
                      src={r.previewUrl}
                      width={r.width}
                      height={r.height}
                      loading="lazy"
                      decoding="async"
                      alt={r.productTitle}
                      style={{
                        width: '100%',
                        height: 'auto',
                        aspectRatio: `${r.width} / ${r.height}`,
                        objectFit: 'cover',
                        borderRadius: 8,
                        display: 'block',
                        background: '#f6f6f7',
                      }}
                    />
                  </Link>
                  <Text as="p" variant="bodySm" fontWeight="semibold">
                    {r.productTitle}
                  </Text>
                  <InlineStack gap="100">
                    <Badge tone={r.low ? 'critical' : 'success'} size="small">
                      {verdict(r, r.low, t)}
                    </Badge>
                    {r.reviewState !== 'pending' && <Badge size="small">{t(`render.review.${r.reviewState}`)}</Badge>}
                  </InlineStack>
                </BlockStack>
              ))}
            </InlineGrid>
          </div>
        )}
        {finished > results.length && (
          <Text as="p" tone="subdued">
            {t('review.runGrid.more', { shown: results.length, count: finished })}
          </Text>
        )}
      </BlockStack>
    </Card>
  )
}
