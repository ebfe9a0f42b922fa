// GraphQL codegen for the Admin API documents in app/ (`#graphql` literals).
// why a local schema: Shopify's proxy URL needs the network; the pinned
// version's real introspection (scripts/shopify-schema.ts, from Shopify's own
// @shopify/dev-mcp package) gives the same types offline and in CI.
import { ApiType, pluckConfig, preset } from '@shopify/api-codegen-preset'
import { SHOPIFY_API_VERSION } from './app/modules/shopify/api-version.ts'
import { ensureAdminSchema } from './scripts/shopify-schema.ts'

// why the app's constant: codegen, the client and the fake must speak one version.
const schema = ensureAdminSchema(SHOPIFY_API_VERSION)
const documents = ['./app/**/*.{ts,tsx}', '!./app/**/*.test.{ts,tsx}', '!./app/types/**']

export default {
  schema,
  documents,
  projects: {
    default: {
      schema,
      documents,
      extensions: {
        codegen: {
          pluckConfig,
          generates: {
            './app/types/admin.types.d.ts': {
              plugins: ['typescript'],
              config: {
                defaultScalarType: 'string',
                scalars: { JSON: 'unknown' },
                // why: a .d.ts has no runtime; string unions compare against literals.
                enumsAsTypes: true,
              },
            },
            './app/types/admin.generated.d.ts': {
              preset,
              presetConfig: { apiType: ApiType.Admin },
            },
          },
        },
      },
    },
  },
}
