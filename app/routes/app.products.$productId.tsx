import {
  MaxPartSizeExceededError,
  unstable_createMemoryUploadHandler,
  unstable_parseMultipartFormData,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
} from '@remix-run/node'
import { useFetcher, useLoaderData } from '@remix-run/react'
import { Badge, Banner, BlockStack, Button, Card, InlineStack, Page, Select, Text } from '@shopify/polaris'
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react'
import { z } from 'zod'
import { LookPicker, useLookChoice } from '#app/components/LookPicker.tsx'
import { lookLabel } from '#app/components/look-label.ts'
import { MaskEditor, visibleStrokes, type MaskAction, type MaskEditorHandle } from '#app/components/MaskEditor.tsx'
import { heatOf, reasonPlaces } from '#app/components/heat-view.server.ts'
import { StudioResults, type StudioRender } from '#app/components/StudioResults.tsx'
import { Flag } from '#app/components/Flag.tsx'
import { SourcePicker } from '#app/components/SourcePicker.tsx'
import { MASK_FORM_BYTES } from '#app/lib/body-limit.server.ts'
import { env } from '#app/lib/env.server.ts'
import { errorResponse, throwAsResponse } from '#app/lib/http.server.ts'
import { useI18n } from '#app/lib/i18n.ts'
import { productImageUrl } from '#app/lib/media.server.ts'
import { signedImageUrl } from '#app/lib/storage.server.ts'
import { studioPersonaAvailability } from '#app/modules/backends/availability.server.ts'
import { backendName } from '#app/modules/scheduler/liveness.server.ts'
import { lookOptions } from '#app/modules/looks/index.ts'
import { capabilitiesFor, platformFor } from '#app/modules/platforms/index.server.ts'
import { MAX_MASK_BYTES, maskTooLarge } from '#app/modules/renders/mask.server.ts'
import {
  approveRender,
  cancelRender,
  createRenders,
  isActive,
  listRenders,
  progressOf,
  publishRender,
  rejectRender,
  undoPublish,
} from '#app/modules/renders/service.server.ts'
import { requireTenant } from '#app/modules/tenants/session.server.ts'
import { useLiveRevalidation } from '#app/lib/live.ts'
import { pageMeta } from '#app/lib/page-title.ts'

function freeSlots(slots: number, images: { slot?: number }[]): number[] | null {
  if (slots === 0) return null
  return Array.from({ length: slots }, (_, p) => p).filter((p) => !images.some((i) => i.slot === p))
}

/** Results per page of the studio's history; "Show older results" adds as many again. */
const RESULTS_PAGE = 12

function resultsShown(url: URL): number {
  const asked = Number(url.searchParams.get('results') ?? RESULTS_PAGE)
  return Number.isInteger(asked) ? Math.min(480, Math.max(RESULTS_PAGE, Math.ceil(asked / RESULTS_PAGE) * RESULTS_PAGE)) : RESULTS_PAGE
}

/** Result cards' preview widths: a card's width at 1× and 2× (a phone's full width fits the larger). */
const CARD_WIDTHS = [360, 720]

export async function loader({ request, params }: LoaderFunctionArgs) {
  const tenant = await requireTenant(request)
  const platform = platformFor(tenant)
  const product = await platform.getProduct(params.productId ?? '').catch(throwAsResponse)
  // why a page of results: every result ever made on one page cost a slow link seconds (issue 16).
  const shown = resultsShown(new URL(request.url))
  const page = await listRenders(tenant.id, { productRef: product.id, limit: shown + 1 })
  const rows = page.slice(0, shown)
  const progress = await progressOf(tenant.id, rows.filter(isActive))
  const personaChoices = await studioPersonaAvailability(tenant.id)
  const renders: StudioRender[] = rows.map((r) => ({
    id: r.id,
    status: r.status,
    reviewState: r.reviewState,
    progress: r.progress,
    progressMessage: r.progressMessage,
    queuePosition: progress[r.id]?.queuePosition ?? null,
    etaSeconds: progress[r.id]?.etaSeconds ?? null,
    waitingFor: progress[r.id]?.waitingFor ?? null,
    backendName: backendName(r.backend),
    imageUrl: r.resultKey ? signedImageUrl(r.resultKey) : null,
    previewUrls: r.resultKey ? CARD_WIDTHS.map((width) => ({ width, url: signedImageUrl(r.resultKey!, { width }) })) : [],
    width: r.outputWidth,
    height: r.outputHeight,
    fidelityScore: r.fidelityScore,
    deltaEMean: r.fidelity?.deltaEMean ?? null,
    ssim: r.fidelity?.ssim ?? null,
    reasons: r.reviewReasons.map((x) => x.code),
      reasonPlaces: reasonPlaces(r),
    gateRetries: r.gateRetries,
    heat: heatOf(r),
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    errorReason: r.errorReason,
    variation: r.variation ?? null,
    sceneId: r.sceneId,
    marketId: r.marketId,
    personaId: r.personaId,
    backendMs: r.backendMs,
    attempts: r.attempts,
    createdAt: r.createdAt.toISOString(),
    maskUrl: r.maskKey ? signedImageUrl(r.maskKey) : null,
    sourceImageId: r.sourceImageRef,
  }))
  return {
    product: { id: product.id, title: product.title, vendor: product.vendor ?? null },
    sources: product.images
      .filter((i) => !i.ours)
      .map((i) => ({
        id: i.id,
        alt: i.alt,
        url: productImageUrl(tenant.id, product.id, i.id, 320),
        // why the largest preview: the mask editor draws in source pixels; the sharper the photo, the closer the strokes.
        editorUrl: productImageUrl(tenant.id, product.id, i.id, 2048),
        width: i.width,
        height: i.height,
      })),
    published: product.images.filter((i) => i.ours).length,
    renders,
    olderResults: page.length > shown ? shown + RESULTS_PAGE : null,
    threshold: env().FIDELITY_THRESHOLD,
    canFeature: capabilitiesFor(tenant).featuredImage,
    canColour: capabilitiesFor(tenant).colourImages,
    // The numbered main-image slots still free (Taobao), for the merchant to publish into.
    freeSlots: freeSlots(capabilitiesFor(tenant).mainImageSlots, product.images),
    personasAvailable: personaChoices.any,
    personaAvailability: personaChoices.personas,
    personasDown: personaChoices.down,
    looks: lookOptions(),
    // why China for Taobao: its shoppers are there, and the alt text follows the market's language.
    defaultMarketId: tenant.platform === 'taobao' ? 'cn' : (tenant.settings.defaultMarketId ?? null),
  }
}

const actionSchema = z.discriminatedUnion('intent', [
  z.object({
    intent: z.literal('generate'),
    imageId: z.string().min(1),
    marketId: z.string().min(1),
    sceneId: z.string().min(1),
    personaId: z.string().optional().transform((v) => (v ? v : null)),
    variants: z.coerce.number().int().min(1).max(8),
    mask: z.instanceof(File).optional(),
  }),
  z.object({ intent: z.literal('approve'), renderId: z.string() }),
  z.object({ intent: z.literal('reject'), renderId: z.string() }),
  z.object({
    intent: z.literal('publish'),
    renderId: z.string(),
    override: z.literal('true').optional(),
    featured: z.literal('true').optional(),
    // Taobao: the original main image to replace when all five slots are taken, or the colour image the render was made from.
    replaceImageId: z.string().regex(/^\d{1,20}$/).optional(),
    colour: z.literal('true').optional(),
    position: z.coerce.number().int().min(0).max(4).optional(),
  }),
  z.object({ intent: z.literal('undo'), renderId: z.string() }),
  z.object({ intent: z.literal('cancel'), renderId: z.string() }),
])

/**
 * The posted form. A Generate with a mask arrives as multipart (the mask is
 * a PNG file); every other action as a plain form. The web edge bounds every
 * body; the checks here say that it is the mask that is too large.
 */
async function readForm(request: Request): Promise<FormData> {
  if (!request.headers.get('content-type')?.startsWith('multipart/form-data')) return request.formData()
  const declared = Number(request.headers.get('content-length') ?? 0)
  if (declared > MASK_FORM_BYTES) throw maskTooLarge(declared)
  try {
    return await unstable_parseMultipartFormData(request, unstable_createMemoryUploadHandler({ maxPartSize: MAX_MASK_BYTES }))
  } catch (e) {
    if (e instanceof MaxPartSizeExceededError) throw maskTooLarge()
    throw e
  }
}

export async function action({ request, params }: ActionFunctionArgs) {
  try {
    const tenant = await requireTenant(request)
    const input = actionSchema.parse(Object.fromEntries(await readForm(request)))
    switch (input.intent) {
      case 'generate': {
        const created = await createRenders(tenant, {
          productId: params.productId ?? '',
          imageId: input.imageId,
          look: { personaId: input.personaId, marketId: input.marketId, sceneId: input.sceneId },
          variants: input.variants,
          mask: input.mask ? Buffer.from(await input.mask.arrayBuffer()) : undefined,
        })
        return { ok: true as const, intent: input.intent, count: created.length }
      }
      case 'approve':
        await approveRender(tenant.id, input.renderId)
        break
      case 'reject':
        await rejectRender(tenant.id, input.renderId)
        break
      case 'publish':
        await publishRender(tenant, input.renderId, {
          override: input.override === 'true',
          featured: input.featured === 'true',
          slot: input.replaceImageId ? { replaceImageId: input.replaceImageId } : input.position !== undefined ? { position: input.position } : undefined,
          asColour: input.colour === 'true',
        })
        break
      case 'undo':
        await undoPublish(tenant, input.renderId)
        break
      case 'cancel':
        await cancelRender(tenant.id, input.renderId)
        break
    }
    return { ok: true as const, intent: input.intent, count: 0 }
  } catch (e) {
    return errorResponse(e)
  }
}

/** Refusals a merchant's mask fixes: the product could not be found on its own, or a model change needs the garment marked. */
const FIXED_BY_A_MASK = ['BACKEND_BUSY_BACKGROUND', 'BACKEND_NEEDS_MASK', 'GARMENT_MASK_REQUIRED']

/** One shared empty history, so a photo without strokes does not hand the editor a new array on every render. */
const NO_STROKES: MaskAction[] = []

/** The mask editor: open or not, and one stroke history per source photo (switching photos keeps each one's strokes). */
function useMaskState(imageId: string) {
  const [open, setOpen] = useState(false)
  const [histories, setHistories] = useState<Record<string, MaskAction[]>>({})
  const history = histories[imageId] ?? NO_STROKES
  const setHistory = useCallback((next: MaskAction[]) => setHistories((all) => ({ ...all, [imageId]: next })), [imageId])
  // why only while open: closing the editor is how a merchant generates without the mask (the strokes stay for later).
  const inUse = open && visibleStrokes(history).length > 0
  return { open, setOpen, history, setHistory, inUse }
}

export const meta = pageMeta((_t, data) => (data as { product?: { title: string } } | undefined)?.product?.title)

export default function Studio() {
  const data = useLoaderData<typeof loader>()
  const { t } = useI18n()
  const fetcher = useFetcher<typeof action>()
  const [imageId, setImageId] = useState(data.sources[0]?.id ?? '')
  const { marketId, sceneId, personaId, picker } = useLookChoice(data)
  const [variants, setVariants] = useState('2')
  const active = data.renders.some((r) => r.status === 'queued' || r.status === 'running' || r.status === 'retrying')
  useLiveRevalidation(active || fetcher.state !== 'idle', 1000)

  const error = fetcher.data && !fetcher.data.ok ? fetcher.data.error : null
  const generating = fetcher.state !== 'idle' && fetcher.formData?.get('intent') === 'generate'
  const source = data.sources.find((s) => s.id === imageId)
  const mask = useMaskState(imageId)
  const editor = useRef<MaskEditorHandle>(null)
  const editorBox = useRef<HTMLDivElement>(null)
  const [exporting, setExporting] = useState(false)
  const [revealEditor, setRevealEditor] = useState(0)
  useEffect(() => {
    if (revealEditor > 0) editorBox.current?.scrollIntoView({ behavior: 'smooth', block: 'start' })
  }, [revealEditor])

  const { setOpen: setMaskOpen } = mask
  const openMaskFor = useCallback(
    (sourceId: string) => {
      if (data.sources.some((s) => s.id === sourceId)) setImageId(sourceId)
      setMaskOpen(true)
      setRevealEditor((n) => n + 1)
    },
    [data.sources, setMaskOpen],
  )
  // why stable: the results pane is memoised, and new functions each render would re-render every card.
  const sourceUrlOf = useCallback((id: string) => data.sources.find((s) => s.id === id)?.editorUrl ?? null, [data.sources])
  const drawMaskFor = useCallback(
    (r: StudioRender) => (r.errorCode && FIXED_BY_A_MASK.includes(r.errorCode) ? () => openMaskFor(r.sourceImageId) : undefined),
    [openMaskFor],
  )

  // why not the plain form post: the mask is a PNG file, drawn into being only now.
  const submitWithMask = async (e: FormEvent<HTMLFormElement>) => {
    if (!mask.inUse || !editor.current) return
    e.preventDefault()
    const form = new FormData(e.currentTarget)
    setExporting(true)
    try {
      const png = await editor.current.toPng()
      if (png) form.append('mask', png, 'mask.png')
      fetcher.submit(form, { method: 'post', encType: 'multipart/form-data' })
    } finally {
      setExporting(false)
    }
  }

  const look = lookLabel(data.looks, { marketId, sceneId, personaId: personaId || null }, t)
  return (
    <Page
      title={data.product.title}
      subtitle={data.product.vendor ?? undefined}
      backAction={{ content: t('nav.products'), url: '/app' }}
    >
      {/* why results first: they are what the merchant came for; the choices sit beside them (issue 16). */}
      <div className="atelier-studio">
        <div className="atelier-studio-main">
          <BlockStack gap="400">
            {error && (
              <Banner tone="critical" title={t(`errors.${error.code}`)}>
                <p>{error.message}</p>
              </Banner>
            )}
            {mask.open && source && (
              <div id="mask-editor" ref={editorBox} style={{ scrollMarginTop: 16 }}>
                <Card>
                  <MaskEditor
                    key={source.id}
                    ref={editor}
                    imageUrl={source.editorUrl}
                    width={source.width}
                    height={source.height}
                    history={mask.history}
                    onChange={mask.setHistory}
                  />
                </Card>
              </div>
            )}
            <StudioResults
              renders={data.renders}
              looks={data.looks}
              threshold={data.threshold}
              canFeature={data.canFeature}
              canColour={data.canColour}
              freeSlots={data.freeSlots}
              published={data.published}
              olderResults={data.olderResults}
              sourceUrlOf={sourceUrlOf}
              onDrawMask={drawMaskFor}
            />
          </BlockStack>
        </div>
        <aside className="atelier-studio-choices" aria-label={t('studio.studioChoices')}>
          <BlockStack gap="400">
            <Card>
              <BlockStack gap="300">
                <Text as="h2" variant="headingMd">{t('studio.source')}</Text>
                {data.sources.length === 0 ? (
                  <Text as="p" tone="subdued">{t('studio.noImages')}</Text>
                ) : (
                  <BlockStack gap="300">
                    <SourcePicker sources={data.sources} selected={imageId} onSelect={setImageId} />
                    <div>
                      <Button
                        pressed={mask.open}
                        onClick={() => mask.setOpen(!mask.open)}
                        // why only while open: aria-controls must name an element that exists (axe: critical).
                        ariaControls={mask.open ? 'mask-editor' : undefined}
                        ariaExpanded={mask.open}
                        disabled={!source}
                      >
                        {t('mask.draw')}
                      </Button>
                    </div>
                  </BlockStack>
                )}
              </BlockStack>
            </Card>
            <Card>
              <LookPicker {...picker} compact />
            </Card>
          </BlockStack>
        </aside>
      </div>
      <div className="atelier-generate-bar" data-testid="generate-bar">
        <fetcher.Form method="post" onSubmit={submitWithMask}>
          <input type="hidden" name="intent" value="generate" />
          <input type="hidden" name="imageId" value={imageId} />
          <input type="hidden" name="marketId" value={marketId} />
          <input type="hidden" name="sceneId" value={sceneId} />
          <input type="hidden" name="personaId" value={personaId} />
          <InlineStack gap="300" blockAlign="center" align="space-between" wrap>
            <Text as="p">
              <span data-testid="generate-look">
                <Flag country={look.country} height={14} /> {look.label}
              </span>
            </Text>
            <InlineStack gap="300" blockAlign="center">
              {mask.inUse && (
                <InlineStack gap="100" blockAlign="center">
                  <Badge tone="info">{t('mask.badge')}</Badge>
                  <Text as="span" variant="bodySm" tone="subdued">{t('mask.withMask')}</Text>
                </InlineStack>
              )}
              <div style={{ minWidth: 140 }}>
                <Select
                  label={t('studio.variants')}
                  labelInline
                  name="variants"
                  options={['1', '2', '3', '4'].map((v) => ({ label: v, value: v }))}
                  value={variants}
                  onChange={setVariants}
                />
              </div>
              <Button submit variant="primary" loading={generating || exporting} disabled={!imageId}>
                {t('studio.generate')}
              </Button>
            </InlineStack>
          </InlineStack>
        </fetcher.Form>
      </div>
    </Page>
  )
}

export { ErrorBoundary } from '#app/components/RouteError.tsx'
