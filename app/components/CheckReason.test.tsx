import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { I18nProvider, type Locale } from '#app/lib/i18n.ts'
import { CheckReason } from './CheckReason.tsx'

const render = (locale: Locale, props: Parameters<typeof CheckReason>[0]) =>
  renderToStaticMarkup(createElement(I18nProvider, { locale, children: createElement(CheckReason, props) }))

describe('CheckReason', () => {
  it('says what happened and what to do, naming the backend, with the raw detail under it', () => {
    const html = render('en', {
      reason: 'not_api',
      type: 'comfyui',
      detail: 'ComfyUI answered /system_stats in an unexpected shape',
    })
    expect(html).toContain('data-reason="not_api"')
    expect(html).toContain('it is not ComfyUI&#x27;s API')
    expect(html).toContain('Details: ComfyUI answered /system_stats in an unexpected shape')
    expect(render('zh-CN', { reason: 'blocked', type: 'sdwebui' })).toContain('私有或保留网络')
  })

  it('shows only the detail when no reason was recorded (a check saved before reasons existed)', () => {
    const html = render('en', { type: 'weshop', detail: 'No answer within 10 s' })
    expect(html).toContain('Details: No answer within 10 s')
    expect(html).not.toContain('undefined')
  })
})
