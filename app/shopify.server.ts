import '@shopify/shopify-app-remix/adapters/node'
import { AppDistribution, shopifyApp } from '@shopify/shopify-app-remix/server'
import { env } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { SHOPIFY_API_VERSION } from '#app/modules/shopify/api-version.ts'
import { createSessionStorage } from '#app/modules/shopify/session-storage.server.ts'

function configure() {
  const e = env()
  if (e.APP_MODE !== 'shopify') {
    throw new AppError('INVALID_INPUT', 'The Shopify app is not configured: set APP_MODE=shopify and the SHOPIFY_* variables')
  }
  return shopifyApp({
    apiKey: e.SHOPIFY_API_KEY,
    apiSecretKey: e.SHOPIFY_API_SECRET,
    apiVersion: SHOPIFY_API_VERSION,
    scopes: e.SCOPES.split(',').map((s) => s.trim()).filter(Boolean),
    appUrl: e.SHOPIFY_APP_URL!,
    authPathPrefix: '/auth',
    sessionStorage: createSessionStorage(),
    distribution: AppDistribution.AppStore,
    isEmbeddedApp: true,
    future: {
      // Token exchange: Shopify-managed installation, no OAuth redirects in the iframe.
      unstable_newEmbeddedAuthStrategy: true,
      expiringOfflineAccessTokens: true,
    },
  })
}

type ShopifyApp = ReturnType<typeof configure>
let app: ShopifyApp | undefined

/** The one configured Shopify app (created on first use, so local mode needs no Shopify keys). */
export function shopify(): ShopifyApp {
  app ??= configure()
  return app
}

export const authenticate = {
  admin: (request: Request) => shopify().authenticate.admin(request),
  webhook: (request: Request) => shopify().authenticate.webhook(request),
}
export const unauthenticated = {
  admin: (shop: string) => shopify().unauthenticated.admin(shop),
}
export const addDocumentResponseHeaders = (request: Request, headers: Headers) =>
  shopify().addDocumentResponseHeaders(request, headers)
export const sessionStorage = () => shopify().sessionStorage!
export const apiVersion = SHOPIFY_API_VERSION
