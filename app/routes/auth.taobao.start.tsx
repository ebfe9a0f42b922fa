import { redirect, type LoaderFunctionArgs } from '@remix-run/node'
import { env } from '#app/lib/env.server.ts'
import { authorizeUrl } from '#app/modules/taobao/auth/oauth.server.ts'
import { newState } from '#app/modules/taobao/auth/state.server.ts'

// "Log in with Taobao": off to Taobao's authorize page with a fresh state.
export function loader({ request }: LoaderFunctionArgs) {
  if (env().APP_MODE !== 'taobao') throw new Response('Not found', { status: 404 })
  const { state, setCookie } = newState(new URL(request.url).searchParams.get('returnTo') ?? '/app')
  return redirect(authorizeUrl(state), { headers: { 'set-cookie': setCookie } })
}
