import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import {
  Banner,
  BlockStack,
  Button,
  Card,
  ChoiceList,
  InlineStack,
  Layout,
  Page,
  Select,
  Tag,
  Text,
  TextField,
} from '@shopify/polaris'
import { useState } from 'react'
import { z } from 'zod'
import { LookPicker, useLookChoice } from '#app/components/LookPicker.tsx'
import { env } from '#app/lib/env.server.ts'
import { errorResponse } from '#app/lib/http.server.ts'
import { useI18n } from '#app/lib/i18n.ts'
import { defaultOperation, MAX_FIRST_IMAGES, MAX_SELECTED_PRODUCTS, type StartBulkRunInput } from '#app/modules/bulk/schema.ts'
import { startBulkRun } from '#app/modules/bulk/service.server.ts'
import { studioPersonaAvailability } from '#app/modules/backends/availability.server.ts'
import { lookOptions } from '#app/modules/looks/index.ts'
import { operations } from '#app/modules/looks/schema.ts'
import { capabilitiesFor, platformFor } from '#app/modules/platforms/index.server.ts'
import { requireTenant } from '#app/modules/tenants/session.server.ts'
import { pageMeta } from '#app/lib/page-title.ts'
import { Flag } from '#app/components/Flag.tsx'

export async function loader({ request }: LoaderFunctionArgs) {
  const tenant = await requireTenant(request)
  const platform = platformFor(tenant)
  const { embedded } = capabilitiesFor(tenant)
  // why ?ids=: the admin's selection (the product list's bulk action) can open this form with its products.
  const prefill = (new URL(request.url).searchParams.get('ids') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .slice(0, MAX_SELECTED_PRODUCTS)
  const [collections, page, personaChoices] = await Promise.all([
    platform.listCollections(),
    // why a list only off Shopify: a folder catalog is small; in the admin the resource picker chooses.
    embedded ? Promise.resolve(null) : platform.listProducts({ first: 100 }, null),
    studioPersonaAvailability(tenant.id),
  ])
  return {
    embedded,
    collections,
    products: page?.products.map((p) => ({ id: p.id, title: p.title })) ?? [],
    prefill,
    maxInFlight: env().BULK_MAX_IN_FLIGHT,
    personasAvailable: personaChoices.any,
    personaAvailability: personaChoices.personas,
    personasDown: personaChoices.down,
    operations: [...operations],
    looks: lookOptions(),
  }
}

const lookFieldSchema = z.array(
  z.object({
    marketId: z.string(),
    sceneId: z.string(),
    personaId: z.string().nullable(),
    operation: z.union([z.enum(operations), z.literal('auto')]),
  }),
)

const formSchema = z.object({
  kind: z.enum(['all', 'collection', 'query', 'products']),
  collectionId: z.string().default(''),
  query: z.string().default(''),
  productIds: z.array(z.string()).default([]),
  looks: z.string().transform((text, ctx) => {
    try {
      return lookFieldSchema.parse(JSON.parse(text))
    } catch {
      ctx.addIssue({ code: 'custom', message: 'looks must be a list of looks' })
      return z.NEVER
    }
  }),
  images: z.enum(['featured', 'all', 'first']),
  firstCount: z.coerce.number().int().default(1),
  maxInFlight: z.coerce.number().int().min(1).max(500).optional(),
})

export async function action({ request }: ActionFunctionArgs) {
  try {
    const tenant = await requireTenant(request)
    const form = await request.formData()
    const fields = formSchema.parse({
      ...Object.fromEntries([...form].filter(([k, v]) => k !== 'productId' && v !== '')),
      productIds: form.getAll('productId').map(String).filter(Boolean),
    })
    const selection: StartBulkRunInput['selection'] =
      fields.kind === 'collection'
        ? { kind: 'collection', collectionId: fields.collectionId }
        : fields.kind === 'query'
          ? { kind: 'query', query: fields.query }
          : fields.kind === 'products'
            ? { kind: 'products', productIds: fields.productIds }
            : { kind: 'all' }
    const { run } = await startBulkRun(tenant, {
      selection,
      looks: fields.looks.map((l) => ({ ...l, operation: l.operation === 'auto' ? defaultOperation(l.personaId) : l.operation })),
      images: fields.images === 'first' ? { kind: 'first', count: fields.firstCount } : { kind: fields.images },
      maxInFlight: fields.maxInFlight,
    })
    return redirect(`/app/bulk/${run.id}`)
  } catch (e) {
    return errorResponse(e)
  }
}

interface LookChoice {
  marketId: string
  sceneId: string
  personaId: string | null
  operation: string
}

export const meta = pageMeta((t) => t('bulk.form.title'))

export default function NewBulkRun() {
  const data = useLoaderData<typeof loader>()
  const failure = useActionData<typeof action>()
  const navigation = useNavigation()
  const { t } = useI18n()
  const [kind, setKind] = useState(data.prefill.length > 0 ? 'products' : 'all')
  const [collectionId, setCollectionId] = useState(data.collections[0]?.id ?? '')
  const [query, setQuery] = useState('')
  const [picked, setPicked] = useState<{ id: string; title: string }[]>(data.prefill.map((id) => ({ id, title: id })))
  const [images, setImages] = useState('featured')
  const [firstCount, setFirstCount] = useState('2')
  const [maxInFlight, setMaxInFlight] = useState(String(data.maxInFlight))
  const { marketId, sceneId, personaId, picker } = useLookChoice(data)
  const [operation, setOperation] = useState('auto')
  const [looks, setLooks] = useState<LookChoice[]>([])

  const current: LookChoice = { marketId, sceneId, personaId: personaId || null, operation }
  const sameLook = (a: LookChoice, b: LookChoice) =>
    a.marketId === b.marketId && a.sceneId === b.sceneId && a.personaId === b.personaId && a.operation === b.operation
  // why the picker's look when none was added: one look is the common case and needs no extra click.
  const submitted = looks.length > 0 ? looks : [current]
  const nameOf = (l: LookChoice) => {
    const market = data.looks.markets.find((m) => m.id === l.marketId)
    const scene = data.looks.scenes.find((s) => s.id === l.sceneId)
    const persona = data.looks.personas.find((p) => p.id === l.personaId)
    return [
      market ? t(market.nameKey) : l.marketId,
      scene ? t(scene.nameKey) : l.sceneId,
      persona ? t(persona.nameKey) : t('studio.noModel'),
    ].join(' · ')
  }
  const pickProducts = async () => {
    const selected = await window.shopify?.resourcePicker({ type: 'product', multiple: true, action: 'select' })
    if (selected) setPicked(selected.map((p) => ({ id: p.id, title: (p as { title?: string }).title ?? p.id })))
  }
  const error = failure && !failure.ok ? failure.error : null
  const collectionsAvailable = data.collections.length > 0

  return (
    <Page title={t('bulk.form.title')} backAction={{ content: t('bulk.title'), url: '/app/bulk' }}>
      <Form method="post" data-testid="bulk-form">
        <input type="hidden" name="kind" value={kind} />
        <input type="hidden" name="looks" value={JSON.stringify(submitted)} />
        <input type="hidden" name="images" value={images} />
        {kind === 'collection' && <input type="hidden" name="collectionId" value={collectionId} />}
        {kind === 'products' && picked.map((p) => <input key={p.id} type="hidden" name="productId" value={p.id} />)}
        <Layout>
          {error && (
            <Layout.Section>
              <Banner tone="critical" title={t(`errors.${error.code}`)}>
                <p>{error.message}</p>
              </Banner>
            </Layout.Section>
          )}
          <Layout.Section>
            <BlockStack gap="400">
              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    {t('bulk.form.selection')}
                  </Text>
                  <ChoiceList
                    title={t('bulk.form.selection')}
                    titleHidden
                    selected={[kind]}
                    onChange={(v) => setKind(v[0])}
                    choices={[
                      { label: t('bulk.form.kind.all'), value: 'all' },
                      {
                        label: t('bulk.form.kind.collection'),
                        value: 'collection',
                        disabled: !collectionsAvailable,
                      },
                      { label: t('bulk.form.kind.query'), value: 'query' },
                      { label: t('bulk.form.kind.products'), value: 'products' },
                    ]}
                  />
                  {/* why not the disabled choice's help text: Polaris greys it below readable contrast (axe: 2.05:1). */}
                  {!collectionsAvailable && (
                    <Text as="p" variant="bodySm" tone="subdued">
                      {t('bulk.form.noCollections')}
                    </Text>
                  )}
                  {kind === 'collection' && (
                    <Select
                      label={t('bulk.form.collection')}
                      options={data.collections.map((c) => ({ label: c.title, value: c.id }))}
                      value={collectionId}
                      onChange={setCollectionId}
                    />
                  )}
                  {kind === 'query' && (
                    <TextField
                      label={t('bulk.form.query')}
                      name="query"
                      value={query}
                      onChange={setQuery}
                      placeholder={t('bulk.form.queryPlaceholder')}
                      autoComplete="off"
                    />
                  )}
                  {kind === 'products' &&
                    (data.embedded ? (
                      <InlineStack gap="300" blockAlign="center">
                        <Button onClick={() => void pickProducts()}>{t('bulk.form.pickProducts')}</Button>
                        <Text as="span" tone="subdued">
                          {t('bulk.form.productsPicked', { count: picked.length })}
                        </Text>
                      </InlineStack>
                    ) : (
                      <ChoiceList
                        title={t('bulk.form.products')}
                        allowMultiple
                        selected={picked.map((p) => p.id)}
                        onChange={(ids) => setPicked(data.products.filter((p) => ids.includes(p.id)))}
                        choices={data.products.map((p) => ({ label: p.title, value: p.id }))}
                      />
                    ))}
                </BlockStack>
              </Card>

              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    {t('bulk.form.images')}
                  </Text>
                  <ChoiceList
                    title={t('bulk.form.images')}
                    titleHidden
                    selected={[images]}
                    onChange={(v) => setImages(v[0])}
                    choices={[
                      { label: t('bulk.form.imagesKind.featured'), value: 'featured' },
                      { label: t('bulk.form.imagesKind.all'), value: 'all' },
                      { label: t('bulk.form.imagesKind.first'), value: 'first' },
                    ]}
                  />
                  {images === 'first' && (
                    <div style={{ maxWidth: 200 }}>
                      <TextField
                        label={t('bulk.form.firstCount')}
                        name="firstCount"
                        type="number"
                        min={1}
                        max={MAX_FIRST_IMAGES}
                        value={firstCount}
                        onChange={setFirstCount}
                        autoComplete="off"
                      />
                    </div>
                  )}
                </BlockStack>
              </Card>

              <Card>
                <BlockStack gap="400">
                  <BlockStack gap="100">
                    <Text as="h2" variant="headingMd">
                      {t('bulk.form.looks')}
                    </Text>
                    <Text as="p" tone="subdued">
                      {t('bulk.form.looksHelp')}
                    </Text>
                  </BlockStack>
                  <LookPicker {...picker} />
                  <InlineStack gap="300" blockAlign="end">
                    <div style={{ width: 240 }}>
                      <Select
                        label={t('bulk.form.operation')}
                        value={operation}
                        onChange={setOperation}
                        options={[
                          { label: t('bulk.form.operationAuto'), value: 'auto' },
                          ...data.operations.map((op) => ({ label: t(`bulk.operation.${op}`), value: op })),
                        ]}
                      />
                    </div>
                    <Button onClick={() => setLooks((all) => (all.some((l) => sameLook(l, current)) ? all : [...all, current]))}>
                      {t('bulk.form.addLook')}
                    </Button>
                  </InlineStack>
                  <InlineStack gap="200">
                    {looks.length === 0 ? (
                      <Text as="span" tone="subdued">
                        {t('bulk.form.noLooks', { look: nameOf(current) })}
                      </Text>
                    ) : (
                      looks.map((l, i) => (
                        <Tag
                          key={`${l.marketId}-${l.sceneId}-${l.personaId}-${l.operation}`}
                          onRemove={() => setLooks(looks.filter((_, j) => j !== i))}
                        >
                          <Flag country={data.looks.markets.find((m) => m.id === l.marketId)?.country ?? ''} height={12} /> {nameOf(l)}
                        </Tag>
                      ))
                    )}
                  </InlineStack>
                </BlockStack>
              </Card>

              <Card>
                <BlockStack gap="300">
                  <div style={{ maxWidth: 240 }}>
                    <TextField
                      label={t('bulk.form.maxInFlight')}
                      helpText={t('bulk.form.maxInFlightHelp')}
                      name="maxInFlight"
                      type="number"
                      min={1}
                      max={500}
                      value={maxInFlight}
                      onChange={setMaxInFlight}
                      autoComplete="off"
                    />
                  </div>
                  <InlineStack align="end">
                    <Button
                      submit
                      variant="primary"
                      loading={navigation.state === 'submitting'}
                      disabled={kind === 'products' && picked.length === 0}
                    >
                      {t('bulk.form.submit')}
                    </Button>
                  </InlineStack>
                </BlockStack>
              </Card>
            </BlockStack>
          </Layout.Section>
        </Layout>
      </Form>
    </Page>
  )
}

export { ErrorBoundary } from '#app/components/RouteError.tsx'
