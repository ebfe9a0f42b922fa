import { describe, expect, it } from 'vitest'
import { checkKey, checkMedia, checkProduct } from './ids.ts'
import { CLEAN_STEPS, memoryCheckpoint, parseSteps } from './steps.ts'

describe('a publish’s recorded steps', () => {
  it('reads what a checkpoint saved, and refuses a corrupt record', () => {
    expect(parseSteps({ uploaded: true, externalId: 'gid://shopify/MediaImage/7' })).toMatchObject({ uploaded: true })
    expect(parseSteps(CLEAN_STEPS)).toMatchObject({ externalId: null, ready: false })
    expect(() => parseSteps({ externalId: 'gid://shopify/Product/7' })).toThrow(/malformed/)
  })

  it('keeps steps in memory when the caller has no checkpoint, merging each save', async () => {
    const checkpoint = memoryCheckpoint()
    await checkpoint.save({ uploaded: true })
    await checkpoint.save({ ready: true })
    expect(await checkpoint.load()).toEqual({ uploaded: true, ready: true })
  })
})

describe('Shopify ids', () => {
  it('accepts product and image gids and idempotency keys, refuses anything else', () => {
    expect(checkProduct('gid://shopify/Product/1')).toBe('gid://shopify/Product/1')
    expect(() => checkProduct('gid://shopify/MediaImage/1')).toThrow(/product ids/)
    expect(checkMedia('gid://shopify/MediaImage/1')).toBe('gid://shopify/MediaImage/1')
    expect(() => checkMedia('1')).toThrow(/image ids/)
    expect(checkKey('0b1f3c1e-8f6a')).toBe('0b1f3c1e-8f6a')
    expect(() => checkKey('a/b')).toThrow(/Idempotency key/)
  })
})
