import { ApiVersion } from '@shopify/shopify-api'

/**
 * The one Admin API version Atelier speaks: app config, GraphQL client,
 * codegen, the test fake's schema and shopify.app.toml's webhooks all use it.
 * why a constant: the template's version drifted apart in three places.
 */
export const SHOPIFY_API_VERSION = ApiVersion.October26
