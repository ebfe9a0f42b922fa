import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { useActionData, useLoaderData, useNavigation, useSubmit } from '@remix-run/react'
import { Badge, Banner, BlockStack, Button, Card, Checkbox, ChoiceList, FormLayout, InlineStack, Layout, Page, Select, Text, TextField } from '@shopify/polaris'
import { useRef, useState, type FormEvent } from 'react'
import { z } from 'zod'
import { CheckReason } from '#app/components/CheckReason.tsx'
import { errorResponse, throwAsResponse, type ActionError } from '#app/lib/http.server.ts'
import { isAppError } from '#app/lib/errors.ts'
import { useI18n } from '#app/lib/i18n.ts'
import { backendTypes, configurableTypes, isConfigurableType, type ConfigurableType } from '#app/modules/backends/descriptors.ts'
import {
  createBackendConfig,
  deleteBackendConfig,
  getBackendConfig,
  sameServer,
  toBackendConfigView,
  updateBackendConfig,
  type BackendConfigInput,
  type CredentialsChange,
} from '#app/modules/backends/rows.server.ts'
import { testConnection } from '#app/modules/backends/health.server.ts'
import { operationSchema } from '#app/modules/looks/schema.ts'
import { requireShop } from '#app/modules/tenants/session.server.ts'
import type { BackendCheck, BackendConfig } from '#db/schema.ts'
import { pageMeta } from '#app/lib/page-title.ts'

// One backend of the shop: /app/settings/backends/new adds one, /:id edits
// it. Save, Test connection (with what is typed, saved or not) and Delete
// post here. Another shop's id, or a deployment row, is a 404.

const LIST = '/app/settings/backends'

async function ownConfig(tenantId: string, backendId: string | undefined): Promise<BackendConfig | undefined> {
  if (backendId === 'new') return undefined
  return getBackendConfig(tenantId, backendId ?? '').catch(throwAsResponse)
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  const { tenant } = await requireShop(request)
  const existing = await ownConfig(tenant.id, params.backendId)
  const asked = new URL(request.url).searchParams.get('type') ?? ''
  return {
    config: existing ? toBackendConfigView(existing) : null,
    initialType: isConfigurableType(asked) ? asked : configurableTypes[0],
    types: configurableTypes.map((type) => ({
      type,
      operations: [...backendTypes[type].operations],
      credentials: backendTypes[type].credentials,
      authSchemes: [...backendTypes[type].authSchemes],
      urlOptional: backendTypes[type].urlOptional,
    })),
  }
}

/** Field messages are i18n keys (`backends.form.error.*`); the page translates them. */
const k = (field: string) => ({ error: `backends.form.error.${field}` })

function isServerUrl(value: string): boolean {
  try {
    const u = new URL(value)
    // why no user info: credentials belong in their own (encrypted) fields, never in a URL that is shown and logged.
    return (u.protocol === 'http:' || u.protocol === 'https:') && Boolean(u.hostname) && !u.username && !u.password
  } catch {
    return false
  }
}

const formSchema = z
  .object({
    type: z.enum(configurableTypes, k('type')),
    name: z.string(k('name')).trim().min(1, k('name')).max(80, k('name')),
    url: z
      .string()
      .trim()
      .default('')
      .transform((v) => v.replace(/\/+$/, ''))
      .refine((v) => v === '' || isServerUrl(v), k('url')),
    slots: z.coerce.number(k('slots')).int(k('slots')).min(1, k('slots')).max(64, k('slots')),
    operations: z.array(operationSchema, k('operations')).min(1, k('operations')),
    costPerSecond: z.coerce.number(k('cost')).min(0, k('cost')).max(1_000_000, k('cost')),
    enabled: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
    auth: z.enum(['keep', 'none', 'bearer', 'basic']).default('none'),
    token: z.string().trim().default(''),
    username: z.string().trim().default(''),
    password: z.string().default(''),
    apiKey: z.string().trim().default(''),
  })
  .superRefine((form, ctx) => {
    const info = backendTypes[form.type]
    if (!form.url && !info.urlOptional) ctx.addIssue({ code: 'custom', path: ['url'], message: k('url').error })
    if (form.operations.some((op) => !info.operations.includes(op))) {
      ctx.addIssue({ code: 'custom', path: ['operations'], message: k('operations').error })
    }
  })

type FieldErrors = Record<string, string>

/** The posted form as the service's input; a stored secret is kept unless a new value was typed. */
function parseBackendForm(form: FormData, existing?: BackendConfig): { input: BackendConfigInput } | { fieldErrors: FieldErrors } {
  const parsed = formSchema.safeParse({ ...Object.fromEntries(form), operations: form.getAll('operations') })
  if (!parsed.success) {
    const fieldErrors: FieldErrors = {}
    for (const issue of parsed.error.issues) fieldErrors[String(issue.path[0] ?? 'form')] ??= issue.message
    return { fieldErrors }
  }
  const f = parsed.data
  // why the type too: a ComfyUI token is no WeShop key.
  const canKeep = existing?.credentialsEnc != null && existing.type === f.type
  let credentials: CredentialsChange
  if (backendTypes[f.type].credentials === 'api-key') {
    if (f.apiKey) credentials = { action: 'set', credentials: { kind: 'apiKey', apiKey: f.apiKey } }
    else if (canKeep) credentials = { action: 'keep' }
    else return { fieldErrors: { apiKey: k('apiKey').error } }
  } else if ((f.auth === 'bearer' || f.auth === 'basic') && !backendTypes[f.type].authSchemes.includes(f.auth)) {
    return { fieldErrors: { auth: k('auth').error } }
  } else if (f.auth === 'bearer') {
    if (!f.token) return { fieldErrors: { token: k('token').error } }
    credentials = { action: 'set', credentials: { kind: 'bearer', token: f.token } }
  } else if (f.auth === 'basic') {
    if (!f.username) return { fieldErrors: { username: k('username').error } }
    if (!f.password) return { fieldErrors: { password: k('password').error } }
    credentials = { action: 'set', credentials: { kind: 'basic', username: f.username, password: f.password } }
  } else {
    credentials = f.auth === 'keep' && canKeep ? { action: 'keep' } : { action: 'clear' }
  }
  return {
    input: {
      type: f.type,
      name: f.name,
      url: f.url,
      slots: f.slots,
      operations: f.operations,
      costPerSecond: f.costPerSecond,
      enabled: f.enabled,
      credentials,
    },
  }
}

type ActionResult =
  | { ok: true; intent: 'test'; check: BackendCheck; stored: boolean }
  | { ok: false; intent: string; fieldErrors: FieldErrors }
  | ActionError

export async function action({ request, params }: ActionFunctionArgs) {
  const { tenant, admin } = await requireShop(request)
  const existing = await ownConfig(tenant.id, params.backendId)
  const form = await request.formData()
  const intent = String(form.get('intent') ?? 'save')
  const back = () => (admin ? admin.redirect(LIST) : redirect(LIST))
  try {
    if (intent === 'delete') {
      if (existing) await deleteBackendConfig(tenant.id, existing.id)
      return back()
    }
    const parsed = parseBackendForm(form, existing)
    if ('fieldErrors' in parsed) return data<ActionResult>({ ok: false, intent, fieldErrors: parsed.fieldErrors }, { status: 400 })
    if (intent === 'test') {
      const check = await testConnection(tenant.id, parsed.input, existing?.id)
      return data<ActionResult>({ ok: true, intent: 'test', check, stored: existing !== undefined && sameServer(existing, parsed.input) })
    }
    if (existing) await updateBackendConfig(tenant.id, existing.id, parsed.input)
    else await createBackendConfig(tenant.id, parsed.input)
    return back()
  } catch (e) {
    const field = isAppError(e) ? e.details?.field : undefined
    if (typeof field === 'string' && isAppError(e)) {
      return data<ActionResult>({ ok: false, intent, fieldErrors: { [field]: e.message } }, { status: e.status })
    }
    return errorResponse(e)
  }
}

export const meta = pageMeta((t, data) => {
  const config = (data as { config?: { name: string } | null } | undefined)?.config
  return config ? t('backends.form.editTitle', { name: config.name }) : t('backends.form.newTitle')
})

export default function BackendSettings() {
  const { config, initialType, types } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>() as ActionResult | undefined
  const navigation = useNavigation()
  const submit = useSubmit()
  const { t } = useI18n()
  const formRef = useRef<HTMLFormElement>(null)

  const [type, setType] = useState<ConfigurableType>((config?.type as ConfigurableType | undefined) ?? initialType)
  const info = types.find((x) => x.type === type) ?? types[0]
  const [name, setName] = useState(config?.name ?? '')
  const [url, setUrl] = useState(config?.url ?? '')
  const [slots, setSlots] = useState(String(config?.slots ?? 1))
  const [operations, setOperations] = useState<string[]>(config?.operations ?? info.operations)
  const [cost, setCost] = useState(String(config?.costPerSecond ?? 0))
  const [enabled, setEnabled] = useState(config?.enabled ?? true)
  const canKeep = Boolean(config?.credentialsSet) && config?.type === type
  const [auth, setAuth] = useState(canKeep ? 'keep' : 'none')
  const [token, setToken] = useState('')
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [apiKey, setApiKey] = useState('')
  const [confirmDelete, setConfirmDelete] = useState(false)

  const busy = navigation.state !== 'idle' ? String(navigation.formData?.get('intent') ?? '') : ''
  const fieldErrors = result && !result.ok && 'fieldErrors' in result ? result.fieldErrors : {}
  const failure = result && !result.ok && 'error' in result ? result.error : null
  const test = result && result.ok ? result : null
  const fieldError = (field: string) => (fieldErrors[field] ? t(fieldErrors[field]) : undefined)
  const authValue = (auth === 'keep' && !canKeep) || (auth !== 'keep' && auth !== 'none' && !info.authSchemes.includes(auth as never)) ? 'none' : auth

  const send = (intent: 'save' | 'test' | 'delete') => {
    if (!formRef.current) return
    const form = new FormData(formRef.current)
    form.set('intent', intent)
    submit(form, { method: 'post' })
  }
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    send('save')
  }
  const changeType = (next: string) => {
    const nextInfo = types.find((x) => x.type === next) ?? types[0]
    setType(nextInfo.type)
    const kept = operations.filter((op) => nextInfo.operations.includes(op as never))
    setOperations(kept.length > 0 ? kept : nextInfo.operations)
  }

  return (
    <Page
      title={config ? t('backends.form.editTitle', { name: config.name }) : t('backends.form.newTitle')}
      backAction={{ content: t('backends.title'), url: LIST }}
    >
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {failure && (
              <Banner tone="critical" title={t(`errors.${failure.code}`)}>
                <p>{failure.message}</p>
              </Banner>
            )}
            {test && (
              <div data-testid="test-result" data-ok={String(test.check.ok)}>
                <Banner tone={test.check.ok ? 'success' : 'critical'} title={test.check.ok ? t('backends.test.ok') : t('backends.test.failed')}>
                  <BlockStack gap="100">
                    {test.check.ok ? test.check.detail && <p>{test.check.detail}</p> : <CheckReason reason={test.check.reason} type={type} detail={test.check.detail} />}
                    {test.check.ok && test.check.latencyMs !== undefined && <p>{t('backends.test.latency', { ms: test.check.latencyMs })}</p>}
                    {test.check.ok && test.check.models && test.check.models.length > 0 && (
                      <p>{t('backends.check.models', { models: test.check.models.join(', ') })}</p>
                    )}
                    {!test.stored && <p>{t('backends.test.savedNote')}</p>}
                  </BlockStack>
                </Banner>
              </div>
            )}
            <Card>
              <form ref={formRef} method="post" onSubmit={onSubmit}>
                {operations.map((op) => <input key={op} type="hidden" name="operations" value={op} />)}
                <input type="hidden" name="enabled" value={String(enabled)} />
                <FormLayout>
                  <Select
                    label={t('backends.field.type')}
                    name="type"
                    options={types.map((x) => ({ label: t(`backends.type.${x.type}`), value: x.type }))}
                    value={type}
                    onChange={changeType}
                    error={fieldError('type')}
                  />
                  <TextField label={t('backends.field.name')} name="name" value={name} onChange={setName} autoComplete="off"
                    helpText={t('backends.field.nameHelp')} error={fieldError('name')} maxLength={80} />
                  <TextField label={t('backends.field.url')} name="url" type="url" value={url} onChange={setUrl} autoComplete="off"
                    placeholder={info.urlOptional ? 'https://' : 'http://gpu-1:8188'}
                    helpText={info.urlOptional ? t('backends.field.urlHelpOptional') : t('backends.field.urlHelp')} error={fieldError('url')} />
                  <FormLayout.Group>
                    <TextField label={t('backends.field.slots')} name="slots" type="number" min={1} max={64} value={slots} onChange={setSlots}
                      autoComplete="off" helpText={t('backends.field.slotsHelp')} error={fieldError('slots')} />
                    <TextField label={t('backends.field.cost')} name="costPerSecond" type="number" min={0} step={0.0001} value={cost}
                      onChange={setCost} autoComplete="off" helpText={t('backends.field.costHelp')} error={fieldError('costPerSecond')} />
                  </FormLayout.Group>
                  <ChoiceList
                    allowMultiple
                    title={t('backends.field.operations')}
                    choices={info.operations.map((op) => ({ label: t(`backends.operation.${op}`), value: op }))}
                    selected={operations}
                    onChange={setOperations}
                    error={fieldError('operations')}
                  />
                  {info.credentials === 'api-key' ? (
                    <TextField label={t('backends.field.apiKey')} name="apiKey" type="password" value={apiKey} onChange={setApiKey}
                      autoComplete="new-password" placeholder={canKeep ? t('backends.field.secretSet') : undefined}
                      helpText={canKeep ? t('backends.field.secretHelp') : undefined} error={fieldError('apiKey')} />
                  ) : (
                    <BlockStack gap="300">
                      <Select
                        label={t('backends.field.auth')}
                        name="auth"
                        options={[
                          ...(canKeep ? [{ label: t('backends.auth.keep'), value: 'keep' }] : []),
                          { label: t('backends.auth.none'), value: 'none' },
                          ...info.authSchemes.map((scheme) => ({ label: t(`backends.auth.${scheme}`), value: scheme })),
                        ]}
                        value={authValue}
                        onChange={setAuth}
                        error={fieldError('auth')}
                      />
                      {authValue === 'bearer' && (
                        <TextField label={t('backends.field.token')} name="token" type="password" value={token} onChange={setToken}
                          autoComplete="new-password" error={fieldError('token')} />
                      )}
                      {authValue === 'basic' && (
                        <FormLayout.Group>
                          <TextField label={t('backends.field.username')} name="username" value={username} onChange={setUsername}
                            autoComplete="off" error={fieldError('username')} />
                          <TextField label={t('backends.field.password')} name="password" type="password" value={password}
                            onChange={setPassword} autoComplete="new-password" error={fieldError('password')} />
                        </FormLayout.Group>
                      )}
                    </BlockStack>
                  )}
                  <Checkbox label={t('backends.field.enabled')} checked={enabled} onChange={setEnabled} />
                  <InlineStack gap="300" align="space-between">
                    <InlineStack gap="300">
                      <Button variant="primary" submit loading={busy === 'save'}>{t('backends.form.save')}</Button>
                      <Button onClick={() => send('test')} loading={busy === 'test'}>{t('backends.test.button')}</Button>
                      <Button url={LIST}>{t('backends.form.cancel')}</Button>
                    </InlineStack>
                    {config && !confirmDelete && (
                      <Button tone="critical" variant="plain" onClick={() => setConfirmDelete(true)}>{t('backends.form.delete')}</Button>
                    )}
                  </InlineStack>
                </FormLayout>
              </form>
            </Card>
            {config && confirmDelete && (
              <Banner tone="warning" onDismiss={() => setConfirmDelete(false)}>
                <BlockStack gap="200">
                  <p>{t('backends.form.deleteConfirm')}</p>
                  <InlineStack>
                    <Button tone="critical" variant="primary" onClick={() => send('delete')} loading={busy === 'delete'}>
                      {t('backends.form.deleteConfirmButton')}
                    </Button>
                  </InlineStack>
                </BlockStack>
              </Banner>
            )}
            {config && (
              <InlineStack gap="200">
                <Text as="span" tone="subdued">{t(`backends.type.${config.type}`)}</Text>
                {config.credentialsSet && <Badge>{t('backends.list.credentialsSet')}</Badge>}
              </InlineStack>
            )}
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  )
}

export { ErrorBoundary } from '#app/components/RouteError.tsx'
