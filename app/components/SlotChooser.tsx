// Taobao items show at most five main images. When all five are taken, the
// seller chooses which original the render replaces; undo puts it back.
import type { useFetcher } from '@remix-run/react'
import { BlockStack, Button, InlineStack, Text } from '@shopify/polaris'
import { useI18n } from '#app/lib/i18n.ts'

type Fetcher = ReturnType<typeof useFetcher<{ ok: boolean }>>

export interface SlotImage {
  id: number | string
  url: string
  position: number
}

/** The originals a TAOBAO_SLOTS_FULL refusal listed, if its details are well-formed. */
export function slotImagesOf(details: unknown): SlotImage[] {
  const images = (details as { images?: unknown } | undefined)?.images
  if (!Array.isArray(images)) return []
  return images.filter(
    (i): i is SlotImage =>
      typeof i?.url === 'string' && typeof i?.position === 'number' && (typeof i?.id === 'number' || typeof i?.id === 'string'),
  )
}

export function SlotChooser(props: {
  fetcher: Fetcher
  renderId: string
  images: SlotImage[]
  override: boolean
  featured: boolean
}) {
  const { t } = useI18n()
  const replace = (id: SlotImage['id']) =>
    props.fetcher.submit(
      {
        intent: 'publish',
        renderId: props.renderId,
        replaceImageId: String(id),
        ...(props.override ? { override: 'true' } : {}),
        ...(props.featured ? { featured: 'true' } : {}),
      },
      { method: 'post' },
    )
  return (
    <div data-testid={`slots-${props.renderId}`}>
      <BlockStack gap="200">
        <Text as="p" variant="bodySm">
          {t('render.slots.full')}
        </Text>
        <InlineStack gap="200">
          {[...props.images]
            .sort((a, b) => a.position - b.position)
            .map((image) => (
              <BlockStack key={image.id} gap="100" inlineAlign="center">
                <img
                  src={image.url}
                  alt=""
                  width={64}
                  height={64}
                  loading="lazy"
                  style={{ objectFit: 'cover', borderRadius: 6, background: '#f6f6f7' }}
                />
                <Button size="slim" onClick={() => replace(image.id)} loading={props.fetcher.state !== 'idle'}>
                  {t('render.slots.replace', { n: image.position + 1 })}
                </Button>
              </BlockStack>
            ))}
        </InlineStack>
      </BlockStack>
    </div>
  )
}
