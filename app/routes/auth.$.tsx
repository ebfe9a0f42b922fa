import type { LoaderFunctionArgs } from '@remix-run/node'
import { authenticate } from '#app/shopify.server.ts'

// The library's own auth paths: /auth/session-token (the bounce page that
// fetches a fresh session token through App Bridge), /auth/exit-iframe, etc.
export async function loader({ request }: LoaderFunctionArgs) {
  await authenticate.admin(request)
  return null
}
