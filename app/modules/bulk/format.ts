import type { Translate } from '#app/lib/i18n.ts'
import type { BulkImages, BulkSelection } from '#db/schema.ts'

// How bulk runs are described on the pages (no server code: the pages import it).

export const ACTIVE_RUN_STATUSES = ['estimating', 'running', 'paused'] as const

/** "about 3 min", "about 2 h 5 min", in the merchant's language. */
export function formatDuration(seconds: number, t: Translate): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 90) return t('bulk.duration.seconds', { count: Math.max(1, s) })
  const minutes = Math.round(s / 60)
  if (minutes < 90) return t('bulk.duration.minutes', { count: minutes })
  const hours = Math.floor(minutes / 60)
  return t('bulk.duration.hours', { hours, minutes: minutes % 60 })
}

export function describeSelection(selection: BulkSelection, t: Translate, collectionTitle?: string): string {
  switch (selection.kind) {
    case 'all':
      return t('bulk.selection.all')
    case 'collection':
      return t('bulk.selection.collection', { title: collectionTitle ?? selection.collectionId })
    case 'query':
      return t('bulk.selection.query', { query: selection.query })
    case 'products':
      return t('bulk.selection.products', { count: selection.productIds.length })
  }
}

export function describeImages(images: BulkImages, t: Translate): string {
  if (images.kind === 'first') return t('bulk.images.first', { count: images.count })
  return images.kind === 'all' ? t('bulk.images.all') : t('bulk.images.featured')
}

export function formatMoney(amount: number, currency: string, locale: string): string {
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amount)
  } catch {
    return `${amount.toFixed(2)} ${currency}`
  }
}

export type RunTone = 'info' | 'success' | 'warning' | 'critical' | 'attention' | undefined

export function statusTone(status: string): RunTone {
  switch (status) {
    case 'completed':
      return 'success'
    case 'running':
    case 'estimating':
      return 'info'
    case 'awaiting_confirmation':
      return 'attention'
    case 'paused':
      return 'warning'
    case 'failed':
      return 'critical'
    default:
      return undefined
  }
}
