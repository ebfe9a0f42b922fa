import { redirect, type LoaderFunctionArgs } from '@remix-run/node'
import { env } from '#app/lib/env.server.ts'
import { isAppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { saveGrant } from '#app/modules/taobao/auth/grants.server.ts'
import { exchangeCode } from '#app/modules/taobao/auth/oauth.server.ts'
import { checkState, clearState } from '#app/modules/taobao/auth/state.server.ts'
import { startLogin } from '#app/modules/tenants/login.server.ts'
import { upsertTenant } from '#app/modules/tenants/service.server.ts'

// Taobao sends the seller back here with a code: check the state, take the
// grant, log this browser in as the seller's shop, and return to the page
// they came from.
export async function loader({ request }: LoaderFunctionArgs) {
  if (env().APP_MODE !== 'taobao') throw new Response('Not found', { status: 404 })
  const url = new URL(request.url)
  const headers = new Headers({ 'set-cookie': clearState() })
  const back = (error: string) => redirect(`/login?error=${error}`, { headers })
  if (url.searchParams.get('error')) return back('denied')
  const returnTo = checkState(request, url.searchParams.get('state'))
  const code = url.searchParams.get('code')
  if (!returnTo || !code) return back('state')
  try {
    const grant = await exchangeCode(code)
    const tenant = await upsertTenant('taobao', grant.userId, grant.nick || grant.userId)
    await saveGrant(tenant.id, grant)
    headers.append('set-cookie', await startLogin(request, tenant.id))
    return redirect(returnTo, { headers })
  } catch (e) {
    logger().warn({ err: isAppError(e) ? e.message : e }, 'taobao login failed')
    return back('failed')
  }
}
