import type { LoaderFunctionArgs } from '@remix-run/node'
import { Form, useLoaderData, useNavigate, useNavigation, useSearchParams } from '@remix-run/react'
import { Badge, BlockStack, Button, Card, EmptyState, InlineStack, Page, Pagination, ResourceItem, ResourceList, Select, Text, TextField, Thumbnail } from '@shopify/polaris'
import { useState } from 'react'
import { z } from 'zod'
import { useI18n } from '#app/lib/i18n.ts'
import { productImageUrl } from '#app/lib/media.server.ts'
import { capabilitiesFor, platformFor } from '#app/modules/platforms/index.server.ts'
import { reviewCountsByProduct } from '#app/modules/renders/review.server.ts'
import { requireTenant } from '#app/modules/tenants/session.server.ts'
import { pageMeta } from '#app/lib/page-title.ts'

const querySchema = z.object({
  q: z.string().max(200).optional(),
  vendor: z.string().max(200).optional(),
  type: z.string().max(200).optional(),
  status: z.enum(['active', 'draft', 'archived']).optional().catch(undefined),
  collection: z.string().max(200).optional(),
  cursor: z.string().max(500).optional(),
})

export async function loader({ request }: LoaderFunctionArgs) {
  const tenant = await requireTenant(request)
  const url = new URL(request.url)
  const query = querySchema.parse(Object.fromEntries([...url.searchParams].filter(([, v]) => v !== '')))
  const platform = platformFor(tenant)
  const [page, collections] = await Promise.all([
    platform.listProducts(
      { search: query.q, vendor: query.vendor, productType: query.type, status: query.status, collectionId: query.collection, first: 24 },
      query.cursor ?? null,
    ),
    platform.listCollections(),
  ])
  const counts = await reviewCountsByProduct(tenant.id, page.products.map((p) => p.id))
  return {
    embedded: capabilitiesFor(tenant).embedded,
    q: query.q ?? '',
    filters: { vendor: query.vendor ?? '', type: query.type ?? '', status: query.status ?? '', collection: query.collection ?? '' },
    collections,
    nextCursor: page.nextCursor,
    products: page.products.map((p) => {
      const originals = p.images.filter((i) => !i.ours)
      return {
        id: p.id,
        title: p.title,
        vendor: p.vendor ?? null,
        productType: p.productType ?? null,
        imageCount: originals.length,
        publishedCount: p.images.length - originals.length,
        // why finished only: a failed render is nothing to look at, and was counted as one.
        renders: counts[p.id]?.finished ?? 0,
        toReview: counts[p.id]?.toReview ?? 0,
        thumbnail: originals[0] ? productImageUrl(tenant.id, p.id, originals[0].id, 160) : null,
      }
    }),
  }
}

function withoutCursor(params: URLSearchParams): string {
  const next = new URLSearchParams(params)
  next.delete('cursor')
  return next.toString()
}

function withCursor(params: URLSearchParams, cursor: string): string {
  const next = new URLSearchParams(params)
  next.set('cursor', cursor)
  return next.toString()
}

export const meta = pageMeta((t) => t('products.title'))

export default function Products() {
  const { products, nextCursor, q, embedded, filters, collections } = useLoaderData<typeof loader>()
  const [vendor, setVendor] = useState(filters.vendor)
  const [type, setType] = useState(filters.type)
  const [status, setStatus] = useState(filters.status)
  const [collection, setCollection] = useState(filters.collection)
  const navigate = useNavigate()
  // App Bridge's resource picker: the admin's own product chooser.
  const pick = async () => {
    const selected = await window.shopify?.resourcePicker({ type: 'product', multiple: false, action: 'select' })
    const id = selected?.[0]?.id
    if (id) navigate(`/app/products/${encodeURIComponent(id)}`)
  }
  const { t } = useI18n()
  const [search, setSearch] = useState(q)
  const [params] = useSearchParams()
  const navigation = useNavigation()
  const hasPrevious = params.has('cursor')
  return (
    <Page
      title={t('products.title')}
      subtitle={t('products.subtitle')}
      primaryAction={embedded ? { content: t('products.pick'), onAction: () => void pick() } : undefined}
    >
      <BlockStack gap="400">
        <Card padding="300">
          <Form method="get" role="search">
            <BlockStack gap="200">
              <TextField
                label={t('products.search')}
                labelHidden
                name="q"
                value={search}
                onChange={setSearch}
                placeholder={t('products.searchPlaceholder')}
                autoComplete="off"
                clearButton
                onClearButtonClick={() => setSearch('')}
              />
              <InlineStack gap="200" blockAlign="end">
                <TextField label={t('products.vendor')} name="vendor" value={vendor} onChange={setVendor} autoComplete="off" />
                <TextField label={t('products.type')} name="type" value={type} onChange={setType} autoComplete="off" />
                <Select
                  label={t('products.status')}
                  name="status"
                  value={status}
                  onChange={setStatus}
                  options={[
                    { label: t('products.anyStatus'), value: '' },
                    ...(['active', 'draft', 'archived'] as const).map((v) => ({ label: t(`products.statuses.${v}`), value: v })),
                  ]}
                />
                {collections.length > 0 && (
                  <Select
                    label={t('products.collection')}
                    name="collection"
                    value={collection}
                    onChange={setCollection}
                    options={[{ label: t('products.anyCollection'), value: '' }, ...collections.map((c) => ({ label: c.title, value: c.id }))]}
                  />
                )}
                <Button submit>{t('products.filter')}</Button>
              </InlineStack>
            </BlockStack>
          </Form>
        </Card>
        <Card padding="0">
          <ResourceList
            resourceName={{ singular: t('products.singular'), plural: t('products.plural') }}
            items={products}
            loading={navigation.state === 'loading'}
            emptyState={<EmptyState heading={t('products.empty')} image=""><p>{t('products.emptyHint')}</p></EmptyState>}
            renderItem={(p) => (
              <ResourceItem
                id={p.id}
                url={`/app/products/${encodeURIComponent(p.id)}`}
                accessibilityLabel={t('products.open', { title: p.title })}
                media={<Thumbnail source={p.thumbnail ?? ''} alt={p.title} size="large" />}
              >
                <BlockStack gap="100">
                  <Text as="h3" variant="headingSm">{p.title}</Text>
                  <Text as="p" tone="subdued">{[p.vendor, p.productType].filter(Boolean).join(' · ')}</Text>
                  <InlineStack gap="200">
                    <Badge>{t('products.images', { count: p.imageCount })}</Badge>
                    {p.renders > 0 && <Badge tone="info">{t('products.renders', { count: p.renders })}</Badge>}
                    {p.toReview > 0 && <Badge tone="attention">{t('products.toReview', { count: p.toReview })}</Badge>}
                    {p.publishedCount > 0 && <Badge tone="success">{t('products.published', { count: p.publishedCount })}</Badge>}
                  </InlineStack>
                </BlockStack>
              </ResourceItem>
            )}
          />
        </Card>
        <InlineStack align="center">
          <Pagination
            hasPrevious={hasPrevious}
            previousURL={hasPrevious ? `/app?${withoutCursor(params)}` : undefined}
            hasNext={nextCursor !== null}
            nextURL={nextCursor ? `/app?${withCursor(params, nextCursor)}` : undefined}
          />
        </InlineStack>
      </BlockStack>
    </Page>
  )
}

export { ErrorBoundary } from '#app/components/RouteError.tsx'
