import { Text } from '@shopify/polaris'
import { useI18n } from '#app/lib/i18n.ts'

/** Why a backend's check failed and what to do next, in the merchant's language; the raw detail follows. */
export function CheckReason({ reason, type, detail }: { reason?: string; type: string; detail?: string }) {
  const { t } = useI18n()
  const backend = t(`backends.type.${type}`)
  return (
    <div data-testid="check-reason" data-reason={reason ?? ''}>
      {reason && <Text as="p">{t(`backends.checkReason.${reason}`, { backend })}</Text>}
      {detail && (
        <Text as="p" variant="bodySm" tone="subdued" breakWord>
          {t('backends.check.details', { detail })}
        </Text>
      )}
    </div>
  )
}
