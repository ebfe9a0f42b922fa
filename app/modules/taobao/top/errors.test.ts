import { describe, expect, it } from 'vitest'
import { banMs, banScope, mapTopError } from './errors.ts'
import { responseKey } from './client.server.ts'

describe('TOP errors', () => {
  it('reads the ban length and scope of a code 7', () => {
    expect(banMs('This ban will last for 71 more seconds')).toBe(71_000)
    expect(banMs('还需等待 5 秒')).toBe(5_000)
    expect(banMs(undefined)).toBe(10_000)
    expect(banScope('accesscontrol.limited-by-app-access-count')).toBe('app')
    expect(banScope('accesscontrol.limited-by-session-access-count')).toBe('seller')
  })

  it('maps each family once', () => {
    const map = (code: number, sub_code?: string, idempotent = true) =>
      mapTopError('taobao.item.joint.img', { code, msg: 'x', sub_code, sub_msg: '商品不存在' }, { idempotent })
    expect(map(7, 'accesscontrol.limited-by-app-access-count')).toMatchObject({
      kind: 'ban',
      error: { code: 'TAOBAO_CALL_LIMITED' },
    })
    expect(map(25)).toMatchObject({ kind: 'fatal', error: { code: 'TAOBAO_SIGNATURE_INVALID', retryable: false } })
    expect(map(27, 'invalid-sessionkey')).toMatchObject({ kind: 'fatal', error: { code: 'TAOBAO_SESSION_INVALID' } })
    expect(map(15, 'isp.top-remote-connection-error')).toMatchObject({ kind: 'retry', error: { code: 'TAOBAO_UNAVAILABLE' } })
    // A write that timed out on Taobao's side may have run: not sent again.
    expect(map(15, 'isp.top-remote-connection-timeout', false)).toMatchObject({ kind: 'fatal' })
    expect(map(15, 'isv.item-not-exist')).toMatchObject({
      kind: 'fatal',
      error: { code: 'TAOBAO_USER_ERROR', details: { detail: '商品不存在' } },
    })
  })

  it('names the response key as TOP does', () => {
    expect(responseKey('taobao.items.onsale.get')).toBe('items_onsale_get_response')
    expect(responseKey('tmall.item.update')).toBe('tmall_item_update_response')
  })
})
