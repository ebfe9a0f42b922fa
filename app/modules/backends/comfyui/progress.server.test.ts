import { describe, expect, it } from 'vitest'
import { parseSocketMessage } from './progress.server.ts'

const frame = (type: string, data: unknown) => JSON.stringify({ type, data })

describe('parseSocketMessage', () => {
  it('returns the events we follow with their data checked', () => {
    expect(parseSocketMessage(frame('progress', { prompt_id: 'p1', value: 3, max: 20, node: '6' }))).toEqual({
      type: 'progress',
      data: { prompt_id: 'p1', value: 3, max: 20, node: '6' },
    })
    expect(parseSocketMessage(frame('executing', { prompt_id: 'p1', node: null }))).toEqual({
      type: 'executing',
      data: { prompt_id: 'p1', node: null },
    })
    expect(parseSocketMessage(frame('execution_error', { prompt_id: 'p1' }))).toEqual({
      type: 'execution_error',
      data: { prompt_id: 'p1', exception_message: '', exception_type: '' },
    })
  })

  it('ignores previews, broken JSON, unknown events and messages without a prompt id', () => {
    expect(parseSocketMessage(new ArrayBuffer(8))).toBeUndefined()
    expect(parseSocketMessage('{"type":')).toBeUndefined()
    expect(parseSocketMessage(frame('status', { status: { exec_info: { queue_remaining: 0 } } }))).toBeUndefined()
    expect(parseSocketMessage(frame('executing', { node: '3' }))).toBeUndefined()
    expect(parseSocketMessage(frame('progress', { prompt_id: 'p1', value: 'three', max: 20 }))).toBeUndefined()
  })

  it('ignores an event named after an Object method instead of throwing in the socket listener', () => {
    for (const type of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(parseSocketMessage(frame(type, { prompt_id: 'p1' }))).toBeUndefined()
    }
  })
})
