import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { AppProvider, Button, Card, FormLayout, Page, Text, TextField } from '@shopify/polaris'
import polarisEn from '@shopify/polaris/locales/en.json'
import polarisStyles from '@shopify/polaris/build/esm/styles.css?url'
import { useState } from 'react'
import { shopify } from '#app/shopify.server.ts'
import { pageMeta } from '#app/lib/page-title.ts'

export const links = () => [{ rel: 'stylesheet', href: polarisStyles }]

// Opening the app URL outside the admin: ask for the shop, then hand over to
// Shopify (which installs or opens the app in the admin).
async function login(request: Request) {
  const errors = await shopify().login(request)
  return { shopError: errors.shop ?? null }
}

export const loader = ({ request }: LoaderFunctionArgs) => login(request)
export const action = ({ request }: ActionFunctionArgs) => login(request)

export const meta = pageMeta(() => 'Log in')

export default function Login() {
  const loaded = useLoaderData<typeof loader>()
  const acted = useActionData<typeof action>()
  const [shop, setShop] = useState('')
  const error = acted?.shopError ?? loaded.shopError
  return (
    <AppProvider i18n={polarisEn}>
      <Page narrowWidth>
        <Card>
          <Form method="post">
            <FormLayout>
              <Text variant="headingMd" as="h1">Log in to Atelier</Text>
              <TextField
                type="text"
                name="shop"
                label="Shop domain"
                helpText="example.myshopify.com"
                value={shop}
                onChange={setShop}
                autoComplete="on"
                error={error === 'MISSING_SHOP' ? 'Enter your shop domain' : error === 'INVALID_SHOP' ? 'That is not a valid shop domain' : undefined}
              />
              <Button submit>Log in</Button>
            </FormLayout>
          </Form>
        </Card>
      </Page>
    </AppProvider>
  )
}
