// The look form both admin actions share: market and scene, number of
// variants, then POST /api/renders (the admin adds the session token).
import { useEffect, useState } from 'preact/hooks'

export function LookForm({ productIds, onDone }) {
  const { i18n, close } = shopify
  const [looks, setLooks] = useState(null)
  const [marketId, setMarketId] = useState('')
  const [sceneId, setSceneId] = useState('')
  const [variants, setVariants] = useState('2')
  const [state, setState] = useState({ busy: false, error: null, result: null })

  useEffect(() => {
    fetch(`/api/renders?lang=${encodeURIComponent(i18n.locale ?? 'en')}`)
      .then((r) => r.json())
      .then((body) => {
        setLooks(body)
        setMarketId(body.markets[0]?.id ?? '')
        setSceneId(body.markets[0]?.defaultScene ?? body.scenes[0]?.id ?? '')
      })
      .catch(() => setState({ busy: false, error: i18n.translate('loadFailed'), result: null }))
  }, [])

  async function start() {
    setState({ busy: true, error: null, result: null })
    // why a key per click: if the answer is lost and the merchant clicks again, the same renders come back.
    const key = state.key ?? crypto.randomUUID()
    const res = await fetch('/api/renders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ productIds, look: { marketId, sceneId, personaId: null }, variants: Number(variants) }),
    }).catch(() => null)
    const body = res ? await res.json().catch(() => null) : null
    if (!res || !body) return setState({ busy: false, error: i18n.translate('startFailed'), result: null, key })
    const firstError = body.results?.find((r) => r.error)?.error
    if (body.started === 0) return setState({ busy: false, error: firstError?.message ?? i18n.translate('startFailed'), result: null })
    setState({ busy: false, error: null, result: body })
    onDone?.(body)
  }

  if (!looks) return <s-admin-action heading={i18n.translate('title')} loading />
  const done = state.result
  return (
    <s-admin-action heading={i18n.translate('title')}>
      <s-stack direction="block" gap="base">
        {state.error && <s-banner tone="critical">{state.error}</s-banner>}
        {done ? (
          <s-banner tone="success">
            {i18n.translate('started', { count: done.started })}{' '}
            <s-link href={`app:${done.results.find((r) => r.studioUrl)?.studioUrl ?? '/app'}`}>{i18n.translate('openStudio')}</s-link>
          </s-banner>
        ) : (
          <>
            <s-select label={i18n.translate('market')} value={marketId} onChange={(e) => {
              setMarketId(e.currentTarget.value)
              const m = looks.markets.find((x) => x.id === e.currentTarget.value)
              if (m) setSceneId(m.defaultScene)
            }}>
              {looks.markets.map((m) => <s-option value={m.id}>{`${m.flag} ${m.name}`}</s-option>)}
            </s-select>
            <s-select label={i18n.translate('scene')} value={sceneId} onChange={(e) => setSceneId(e.currentTarget.value)}>
              {looks.scenes.map((s) => <s-option value={s.id}>{s.name}</s-option>)}
            </s-select>
            <s-select label={i18n.translate('variants')} value={variants} onChange={(e) => setVariants(e.currentTarget.value)}>
              {['1', '2', '3', '4'].map((v) => <s-option value={v}>{v}</s-option>)}
            </s-select>
            <s-text tone="subdued">{i18n.translate('products', { count: productIds.length })}</s-text>
            {/* why: several looks, every image, an estimate first, pause and a report: that is a bulk run in the app. */}
            <s-link href={`app:/app/bulk/new?ids=${encodeURIComponent(productIds.join(','))}`}>{i18n.translate('bulkRun')}</s-link>
          </>
        )}
      </s-stack>
      {!done && (
        <s-button slot="primary-action" variant="primary" loading={state.busy} onClick={start}>
          {i18n.translate('create')}
        </s-button>
      )}
      <s-button slot="secondary-actions" onClick={() => close()}>{i18n.translate(done ? 'close' : 'cancel')}</s-button>
    </s-admin-action>
  )
}
