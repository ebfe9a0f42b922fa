/**
 * Stands in for Shopify's App Bridge script (cdn.shopify.com/shopifycloud/
 * app-bridge.js), which an offline browser cannot load. It plays the admin
 * host's part that our pages rely on: `shopify.idToken()` returning a session
 * token signed with the test app secret, the fetch patch that adds it as a
 * bearer header to the app's own requests (as App Bridge does), toasts, and
 * the resource picker. Tests read what the app asked for from window.__appBridge.
 */
export function appBridgeShim(opts: { apiKey: string; shop: string; token: string; pickerSelection?: { id: string }[] }): string {
  const config = JSON.stringify(opts)
  return `(() => {
  const cfg = ${config};
  const state = { toasts: [], pickers: [], tokens: 0 };
  window.__appBridge = state;
  // App Bridge moves <ui-nav-menu> into the admin's sidebar; here it just hides it.
  const style = document.createElement('style');
  style.textContent = 'ui-nav-menu { display: none }';
  document.head.appendChild(style);
  const origin = window.location.origin;
  const nativeFetch = window.fetch.bind(window);
  window.fetch = (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url, origin);
    if (url.origin !== origin) return nativeFetch(input, init);
    const headers = new Headers(init.headers || (typeof input === 'string' ? undefined : input.headers));
    if (!headers.has('authorization')) headers.set('authorization', 'Bearer ' + cfg.token);
    state.tokens++;
    return nativeFetch(input, { ...init, headers });
  };
  window.shopify = {
    config: { apiKey: cfg.apiKey, shop: cfg.shop, host: btoa('admin.shopify.com/store/' + cfg.shop.split('.')[0]) },
    idToken: async () => cfg.token,
    toast: { show: (message, options) => { state.toasts.push({ message, options }); return 'toast-' + state.toasts.length; }, hide: () => {} },
    resourcePicker: async (options) => { state.pickers.push(options); return cfg.pickerSelection || []; },
    loading: () => {},
    environment: { embedded: true, mobile: false, pos: false },
  };
})();`
}
