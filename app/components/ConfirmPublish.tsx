// Publishing a render below the fidelity threshold takes a second step that
// says why it is below. why: "Publish anyway" published a score-0 render in
// one click (issue 16); shoppers would see a product that may not be theirs.
import type { useFetcher } from '@remix-run/react'
import { useState } from 'react'
import { Button, Modal, Text } from '@shopify/polaris'
import { useI18n, type Translate } from '#app/lib/i18n.ts'

type Fetcher = ReturnType<typeof useFetcher<{ ok: boolean }>>

export interface PublishRisk {
  score: number
  threshold: number
  /** The fidelity reasons' codes (fidelity.reason.*). */
  reasons: readonly string[]
}

/** The confirmation's sentence: the score, the threshold, the reasons in words, and that it can be undone. */
export function riskText(t: Translate, risk: PublishRisk): string {
  const reasons = risk.reasons.length > 0 ? risk.reasons.map((code) => t(`fidelity.reason.${code}`)).join(', ') : t('render.confirmPublish.noReason')
  return t('render.confirmPublish.body', { score: risk.score, threshold: risk.threshold, reasons })
}

export function ConfirmPublish(props: { fetcher: Fetcher; renderId: string; label: string; featured?: boolean; primary?: boolean; risk: PublishRisk }) {
  const { t } = useI18n()
  const [open, setOpen] = useState(false)
  const { fetcher, renderId } = props
  const busy = fetcher.state !== 'idle' && fetcher.formData?.get('intent') === 'publish'
  const publish = () => {
    setOpen(false)
    fetcher.submit({ intent: 'publish', renderId, override: 'true', ...(props.featured ? { featured: 'true' } : {}) }, { method: 'post' })
  }
  return (
    <>
      <Button size="slim" variant={props.primary ? 'primary' : undefined} tone="critical" loading={busy} onClick={() => setOpen(true)}>
        {props.label}
      </Button>
      <Modal
        open={open}
        onClose={() => setOpen(false)}
        title={t('render.confirmPublish.title')}
        primaryAction={{ content: props.label, destructive: true, onAction: publish }}
        secondaryActions={[{ content: t('render.confirmPublish.cancel'), onAction: () => setOpen(false) }]}
      >
        <Modal.Section>
          <div data-testid={`publish-risk-${renderId}`}>
            <Text as="p">{riskText(t, props.risk)}</Text>
          </div>
        </Modal.Section>
      </Modal>
    </>
  )
}
