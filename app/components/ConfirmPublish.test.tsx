import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { AppProvider } from '@shopify/polaris'
import polarisEn from '@shopify/polaris/locales/en.json'
import { describe, expect, it } from 'vitest'
import { I18nProvider, translator } from '#app/lib/i18n.ts'
import { ConfirmPublish, riskText } from './ConfirmPublish.tsx'

describe('publishing below the fidelity threshold', () => {
  const risk = { score: 12, threshold: 70, reasons: ['colour_shifted', 'edge_changed'] }

  it('says the score, the threshold and the reasons in words, and that the publish can be undone', () => {
    const en = riskText(translator('en'), risk)
    expect(en).toMatch(/^Its product fidelity is 12, below 70: .+, .+\. Shoppers will see this image on the listing; you can undo the publish later\.$/)
    expect(en).not.toContain('fidelity.reason.')
    expect(riskText(translator('zh-CN'), risk)).toMatch(/^商品还原度为 12，低于 70：.+。/)
    expect(riskText(translator('en'), { ...risk, reasons: [] })).toContain('the product may look different from the original')
  })

  it('is a button that asks first, not a form that publishes', () => {
    const fetcher = { state: 'idle', formData: undefined, submit: () => {} } as never
    const html = renderToStaticMarkup(
      createElement(AppProvider, {
        i18n: polarisEn,
        children: createElement(I18nProvider, {
          locale: 'en',
          children: createElement(ConfirmPublish, { fetcher, renderId: 'r1', label: 'Publish anyway', risk }),
        }),
      }),
    )
    expect(html).toContain('Publish anyway')
    expect(html).toContain('type="button"')
    expect(html).not.toContain('type="submit"')
    expect(html).not.toContain('name="override"')
  })
})
