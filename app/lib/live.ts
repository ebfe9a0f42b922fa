import { useRevalidator } from '@remix-run/react'
import { useEffect } from 'react'

/**
 * Re-reads the page's loader every `intervalMs` while `active` (work is
 * queued or running) and the tab is visible; never two reads at once.
 */
export function useLiveRevalidation(active: boolean, intervalMs: number): void {
  const revalidator = useRevalidator()
  useEffect(() => {
    if (!active) return
    const timer = setInterval(() => {
      if (revalidator.state === 'idle' && document.visibilityState === 'visible') revalidator.revalidate()
    }, intervalMs)
    return () => clearInterval(timer)
  }, [active, intervalMs, revalidator])
}
