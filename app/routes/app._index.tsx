import type { LoaderFunctionArgs } from '@remix-run/node'
import { Form, useLoaderData, useNavigate, useNavigation, useSearchParams } from '@remix-run/react'
import { BlockStack, Card, EmptyState, Page, Pagination, ResourceItem, ResourceList, Text, TextField, Thumbnail, Badge, InlineStack } from '@shopify/polaris'
import { useState } from 'react'
import { z } from 'zod'
import { useI18n } from '#app/lib/i18n.ts'
import { productImageUrl } from '#app/lib/media.server.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import { renderCountsByProduct } from '#app/modules/renders/service.server.ts'
import { requireTenant } from '#app/modules/tenants/session.server.ts'

const querySchema = z.object({
  q: z.string().max(200).optional(),
  cursor: z.string().max(500).optional(),
})

export async function loader({ request }: LoaderFunctionArgs) {
  const tenant = await requireTenant(request)
  const url = new URL(request.url)
  const query = querySchema.parse(Object.fromEntries(url.searchParams))
  const page = await platformFor(tenant).listProducts({ search: query.q, first: 24 }, query.cursor ?? null)
  const counts = await renderCountsByProduct(tenant.id, page.products.map((p) => p.id))
  return {
    embedded: tenant.platform === 'shopify',
    q: query.q ?? '',
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
        renders: counts[p.id] ?? 0,
        thumbnail: originals[0] ? productImageUrl(tenant.id, p.id, originals[0].id, 160) : null,
      }
    }),
  }
}

export default function Products() {
  const { products, nextCursor, q, embedded } = useLoaderData<typeof loader>()
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
            previousURL={hasPrevious ? `/app${q ? `?q=${encodeURIComponent(q)}` : ''}` : undefined}
            hasNext={nextCursor !== null}
            nextURL={nextCursor ? `/app?${new URLSearchParams({ ...(q ? { q } : {}), cursor: nextCursor })}` : undefined}
          />
        </InlineStack>
      </BlockStack>
    </Page>
  )
}

export { ErrorBoundary } from '#app/components/RouteError.tsx'
