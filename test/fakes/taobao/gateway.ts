import { randomBytes } from 'node:crypto'
import { itemMethods } from './items.ts'
import { pictureMethods } from './pictures.ts'
import { TopFault, type MethodSpec, type UploadedFile } from './faults.ts'
import { logCall, type Runtime, type Seller, type Token } from './store.ts'
import { signMatches, timestampSkewMs } from './verify.ts'

// POST /router/rest: the checks TOP makes, in its order (method, app key,
// timestamp, signature, call limit, session), then the method itself, in
// TOP's envelopes: `{"<name>_response": {...}}` or `{"error_response": {...}}`.

const METHODS: Record<string, MethodSpec> = { ...itemMethods, ...pictureMethods }
const TIMESTAMP_WINDOW_MS = 10 * 60_000

export async function handleGateway(
  rt: Runtime,
  params: Record<string, string>,
  files: Map<string, UploadedFile>,
): Promise<Record<string, unknown>> {
  const requestId = randomBytes(7).toString('hex')
  const method = params.method ?? ''
  rt.stats.calls++
  rt.stats.byMethod[method] = (rt.stats.byMethod[method] ?? 0) + 1
  const entry = { at: rt.now(), method, appKey: params.app_key ?? '', session: params.session || null, code: 0 }
  logCall(rt, entry)
  try {
    const spec = check(rt, params)
    const seller = sessionSeller(rt, params, spec)
    const body = await spec.handle({ rt, params, files, seller })
    return { [`${method.replace(/^taobao\./, '').replaceAll('.', '_')}_response`]: { ...body, request_id: requestId } }
  } catch (e) {
    if (!(e instanceof TopFault)) throw e
    entry.code = e.code
    rt.stats.errors[e.code] = (rt.stats.errors[e.code] ?? 0) + 1
    const error: Record<string, unknown> = { code: e.code, msg: e.msg }
    if (e.subCode) error.sub_code = e.subCode
    if (e.subMsg) error.sub_msg = e.subMsg
    error.request_id = requestId
    return { error_response: error }
  }
}

function check(rt: Runtime, params: Record<string, string>): MethodSpec {
  if (!params.method) throw new TopFault(21, 'Missing method')
  const spec = METHODS[params.method]
  if (!spec) throw new TopFault(22, 'Invalid method')
  if (!params.app_key) throw new TopFault(28, 'Missing app key')
  const app = rt.apps.get(params.app_key)
  if (!app) throw new TopFault(29, 'Invalid app Key')
  if (!params.timestamp) throw new TopFault(31, 'Missing timestamp')
  // why the real clock: the client stamps requests with it, whatever the fake's clock says.
  const skew = timestampSkewMs(params.timestamp, Date.now())
  if (skew === null || skew > TIMESTAMP_WINDOW_MS) {
    throw new TopFault(32, 'Invalid timestamp', 'isv.invalid-timestamp', '时间戳与服务器时间相差超过10分钟 (GMT+8)')
  }
  if (params.v !== '2.0') throw new TopFault(34, 'Unsupported version', 'isv.invalid-version', `v=${params.v ?? ''}`)
  if ((params.format ?? 'xml') !== 'json')
    throw new TopFault(41, 'Invalid arguments:format', 'isv.invalid-parameter', 'the fake answers format=json only')
  if (!['md5', 'hmac', 'hmac-sha256', undefined].includes(params.sign_method)) throw new TopFault(25, 'Invalid signature')
  if (!params.sign) throw new TopFault(25, 'Invalid signature')
  if (!signMatches(params, app.appSecret)) throw new TopFault(25, 'Invalid signature')
  limit(rt, params)
  const fault = rt.faults.find((f) => f.times > 0 && (!f.method || f.method === params.method))
  if (fault) {
    fault.times--
    throw new TopFault(fault.code ?? 15, fault.msg ?? 'Remote service error', fault.subCode, fault.subMsg ?? fault.subCode)
  }
  return spec
}

/** TOP's frequency control: a ban, once imposed, answers 7 until it lapses, then counting starts afresh. */
function limit(rt: Runtime, params: Record<string, string>): void {
  const l = rt.callLimit
  if (!l) return
  const key = l.scope === 'session' ? `session:${params.session ?? ''}` : `app:${params.app_key}`
  const subCode =
    l.scope === 'session' ? 'accesscontrol.limited-by-session-access-count' : 'accesscontrol.limited-by-app-access-count'
  const now = rt.now()
  const until = rt.bannedUntil.get(key) ?? 0
  if (until > now) {
    throw new TopFault(7, 'App Call Limited', subCode, `This ban will last for ${Math.ceil((until - now) / 1000)} more seconds`)
  }
  const recent = (rt.windows.get(key) ?? []).filter((t) => t > now - l.windowMs)
  recent.push(now)
  rt.windows.set(key, recent)
  if (recent.length > l.calls) {
    rt.bannedUntil.set(key, now + l.banSeconds * 1000)
    rt.windows.delete(key)
    rt.stats.bans++
    throw new TopFault(7, 'App Call Limited', subCode, `This ban will last for ${l.banSeconds} more seconds`)
  }
}

function sessionSeller(rt: Runtime, params: Record<string, string>, spec: MethodSpec): Seller | null {
  if (!params.session) {
    if (spec.session === 'required') throw new TopFault(26, 'Missing session')
    return null
  }
  const token: Token | undefined = rt.tokens.get(params.session)
  const now = rt.now()
  if (!token || token.revoked || token.appKey !== params.app_key || token.expiresAt <= now) {
    throw new TopFault(27, 'Invalid session', 'invalid-sessionkey', 'SessionKey非法或已过期，请重新授权')
  }
  if (spec.write && token.w1At <= now) {
    throw new TopFault(27, 'Invalid session', 'session-not-allowed-write', 'w1 授权已过期，写操作需要重新授权')
  }
  return rt.sellers.get(token.userId) ?? null
}
