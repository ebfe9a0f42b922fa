// Tells screen-reader users what finished while they were elsewhere on the
// page: each render that succeeds or fails is announced once, politely.
import { useEffect, useRef, useState } from 'react'
import { useI18n } from '#app/lib/i18n.ts'
import { failureText, type RenderView } from './RenderCard.tsx'

const ACTIVE = new Set(['queued', 'running', 'retrying'])
const hidden = { position: 'absolute', width: 1, height: 1, margin: -1, padding: 0, overflow: 'hidden', clip: 'rect(0 0 0 0)', whiteSpace: 'nowrap', border: 0 } as const

type Announced = Pick<RenderView, 'id' | 'status' | 'fidelityScore' | 'errorCode' | 'errorReason' | 'backendName'>

/** What to say about renders that were active before and are finished now. */
export function announcement(before: ReadonlyMap<string, string>, now: readonly Announced[], t: ReturnType<typeof useI18n>['t']): string {
  const said: string[] = []
  for (const r of now) {
    if (!ACTIVE.has(before.get(r.id) ?? '')) continue
    if (r.status === 'succeeded') said.push(t('render.announce.succeeded', { score: Math.round(r.fidelityScore ?? 0) }))
    else if (r.status === 'failed') said.push(t('render.announce.failed', { reason: failureText(r, t) }))
  }
  return said.join(' ')
}

export function RenderAnnouncer({ renders }: { renders: readonly Announced[] }) {
  const { t } = useI18n()
  const seen = useRef<Map<string, string>>(new Map())
  const [message, setMessage] = useState('')
  useEffect(() => {
    const said = announcement(seen.current, renders, t)
    if (said) setMessage(said)
    seen.current = new Map(renders.map((r) => [r.id, r.status]))
  }, [renders])
  return (
    <div role="status" aria-live="polite" style={hidden} data-testid="studio-announcer">
      {message}
    </div>
  )
}
