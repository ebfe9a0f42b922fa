// The parts of App Bridge's global (`window.shopify`) our pages use; present
// only when embedded in the Shopify admin.
interface AppBridgeGlobal {
  idToken(): Promise<string>
  toast: { show(message: string, options?: { isError?: boolean; duration?: number }): string }
  resourcePicker(options: { type: 'product' | 'collection' | 'variant'; multiple?: boolean; action?: 'add' | 'select' }): Promise<{ id: string }[] | undefined>
}

interface Window {
  shopify?: AppBridgeGlobal
}
