// Short confirmations (approved, published, undone) and errors: App Bridge's
// toast inside the Shopify admin, a Polaris Toast in the standalone app.
// why both: standalone, the merchant clicked Approve and saw nothing happen.
import { createContext, useCallback, useContext, useState, type ReactNode } from 'react'
import { Toast } from '@shopify/polaris'

type Show = (message: string, opts?: { isError?: boolean }) => void

const ToastContext = createContext<Show | null>(null)

/** Standalone: keeps the one toast on show (a newer one replaces it). Needs a Polaris Frame above it. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toast, setToast] = useState<{ id: number; message: string; isError: boolean } | null>(null)
  const show = useCallback<Show>((message, opts) => setToast({ id: Date.now(), message, isError: !!opts?.isError }), [])
  return (
    <ToastContext.Provider value={show}>
      {children}
      {toast && <Toast key={toast.id} content={toast.message} error={toast.isError} onDismiss={() => setToast(null)} />}
    </ToastContext.Provider>
  )
}

export function useToast(): Show {
  const standalone = useContext(ToastContext)
  return useCallback<Show>(
    (message, opts) => {
      if (typeof window !== 'undefined' && window.shopify?.toast) window.shopify.toast.show(message, opts)
      else standalone?.(message, opts)
    },
    [standalone],
  )
}
