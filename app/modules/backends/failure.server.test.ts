import { describe, expect, it } from 'vitest'
import { AppError } from '#app/lib/errors.ts'
import { notAnswering, notApiError, quotable, reasonOf, renderFailureReason } from './failure.server.ts'

describe('renderFailureReason', () => {
  it('keeps the reason an error states, and the one the network gives', () => {
    const garbage = notApiError('SD WebUI', { url: 'http://gpu:7860', path: '/sdapi/v1/progress' }, '✖ Invalid input', '<html>')
    expect(renderFailureReason(garbage)).toBe('not_api')
    const timeout = new AppError('BACKEND_TIMEOUT', 'no answer', { retryable: true })
    expect(renderFailureReason(timeout)).toBe('timeout')
    const refused = new AppError('BACKEND_UNAVAILABLE', 'unreachable', { details: { network: 'ECONNREFUSED' } })
    expect(renderFailureReason(refused)).toBe('refused')
  })

  it('never guesses "not the API" for a backend that rendered and failed, nor names one for other errors', () => {
    // why: the connection test may read any BACKEND_FAILED as another server; a crashed node is not one.
    const crashed = new AppError('BACKEND_FAILED', 'ComfyUI failed in node 3 (KSampler): RuntimeError: CUDA error')
    expect(reasonOf(crashed)).toBe('not_api')
    expect(renderFailureReason(crashed)).toBeUndefined()
    expect(renderFailureReason(new AppError('BACKEND_NEEDS_MASK', 'draw a mask'))).toBeUndefined()
    expect(renderFailureReason(new AppError('IMAGE_CORRUPT', 'bad bytes'))).toBeUndefined()
    expect(renderFailureReason(new Error('boom'))).toBeUndefined()
  })
})

describe('quotable', () => {
  it('quotes a server’s short plain text, never a web page or bytes that are not text', () => {
    expect(quotable('500 Internal Server Error\n\nServer got itself in trouble')).toBe('500 Internal Server Error Server got itself in trouble')
    expect(quotable('  <!doctype html><html><body>502 Bad Gateway</body></html>')).toBe('')
    expect(quotable('\u0000{"prompt_id": <<garbage>> \ufffd')).toBe('')
    expect(quotable('x'.repeat(1000))).toHaveLength(300)
  })
})

describe('notAnswering', () => {
  it('tells a server that did not answer from one that failed the render', () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })
    expect(notAnswering(refused)).toBe(true)
    expect(notAnswering(new AppError('BACKEND_UNAVAILABLE', 'ComfyUI at http://gpu:8188 is unreachable'))).toBe(true)
    expect(notAnswering(new AppError('BACKEND_TIMEOUT', 'ComfyUI stopped answering'))).toBe(true)
    expect(notAnswering(new AppError('BACKEND_FAILED', 'a node raised', { details: { status: 500 } }))).toBe(false)
    expect(notAnswering(new Error('out of memory'))).toBe(false)
  })
})
