import { describe, expect, it } from 'vitest'
import { AppError } from '#app/lib/errors.ts'
import { runAcceptedSchema } from './api.ts'
import { answerOf, readApiKey, scrub, type CallKind } from './http.server.ts'

const KEY = 'wsk_live_0123456789abcdef'

function answer(kind: CallKind, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  const res = { ok: status >= 200 && status < 300, status, headers: new Headers(headers) }
  return answerOf({ what: 'the run', kind, path: '/openapi/agent/runs', schema: runAcceptedSchema, key: KEY }, res, text)
}

function failure(outcome: ReturnType<typeof answer>) {
  if (outcome.ok) throw new Error('expected a failure')
  return outcome.failure
}

describe('what a WeShop answer means', () => {
  it('returns the data and meta of a success envelope', () => {
    const outcome = answer('start', 200, { success: true, data: { executionId: 'e1' }, meta: { executionId: 'e1' } })
    expect(outcome).toEqual({ ok: true, data: { executionId: 'e1' }, meta: { executionId: 'e1' } })
  })

  it('never repeats a rejected key, and keeps the code WeShop gave', () => {
    const f = failure(answer('read', 401, { success: false, error: { code: 'INVALID_API_KEY' } }))
    expect(f.repeatable).toBe(false)
    expect(f.error).toMatchObject({
      code: 'BACKEND_AUTH_FAILED',
      details: { reason: 'api_key_rejected', status: 401, code: 'INVALID_API_KEY' },
    })
  })

  it('repeats a 429 even for a run start, at least as late as Retry-After asks', () => {
    const f = failure(answer('start', 429, '', { 'retry-after': '3' }))
    expect(f).toMatchObject({ repeatable: true, waitMs: 3000 })
    expect(f.error.message).toBe('WeShop is rate-limiting this API key (HTTP 429); WeShop asks to wait 3 s.')
  })

  it('repeats a 5xx for a read but not for a run start, which may have been billed', () => {
    expect(failure(answer('read', 502, 'Bad Gateway')).repeatable).toBe(true)
    const start = failure(answer('start', 502, 'Bad Gateway'))
    expect(start.repeatable).toBe(false)
    expect(start.error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true, details: { outcomeUnknown: true } })
  })

  it("follows the envelope's own word on retrying, and scrubs the key from WeShop's text", () => {
    const f = failure(
      answer('start', 400, { success: false, error: { code: 'BUSY', message: `key ${KEY} is busy`, retryable: true } }),
    )
    expect(f.repeatable).toBe(true)
    expect(f.error.message).toBe('WeShop refused the run: BUSY: key [redacted] is busy')
    const other = failure(answer('read', 404, `no route for ${KEY}`))
    expect(other).toMatchObject({ repeatable: false })
    expect(JSON.stringify(other.error)).not.toContain(KEY)
  })

  it('calls a 200 that is no envelope another server, never repeated', () => {
    const f = failure(answer('read', 200, '<html>login</html>'))
    expect(f.repeatable).toBe(false)
    expect(f.error).toBeInstanceOf(AppError)
  })
})

describe('the API key', () => {
  it('is read fresh, trimmed, and refused when missing or unsendable', async () => {
    expect(await readApiKey(async () => `  ${KEY}\n`)).toBe(KEY)
    await expect(readApiKey('')).rejects.toMatchObject({ code: 'BACKEND_AUTH_FAILED', details: { reason: 'api_key_missing' } })
    await expect(readApiKey('wsk live')).rejects.toMatchObject({ details: { reason: 'api_key_malformed' } })
  })

  it('is cut out of any text, unless too short to be one', () => {
    expect(scrub(`a ${KEY} b ${KEY}`, KEY)).toBe('a [redacted] b [redacted]')
    expect(scrub('abc', 'ab')).toBe('abc')
    expect(scrub('abc', undefined)).toBe('abc')
  })
})
