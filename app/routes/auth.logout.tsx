import { redirect, type ActionFunctionArgs } from '@remix-run/node'
import { endLogin } from '#app/modules/tenants/login.server.ts'

// Logging out ends this browser's login only: the shop's grant stays, so
// its bulk runs and publishes go on overnight.
export async function action({ request }: ActionFunctionArgs) {
  return redirect('/login', { headers: { 'set-cookie': await endLogin(request) } })
}

export function loader() {
  return redirect('/login')
}
