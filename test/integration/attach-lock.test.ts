import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { env } from '#app/lib/env.server.ts'
import { createProductLock } from '#app/modules/shopify/platform/lock.server.ts'

// A publisher killed while it holds a product's attach lock must not hold up
// the next publish to that product for long; a live one keeps its lock.
const redis = new Redis(env().REDIS_URL)
afterAll(() => redis.quit())

const holder = `
import { createProductLock } from '#app/modules/shopify/platform/lock.server.ts'
import { Redis } from 'ioredis'
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
await createProductLock(process.argv[1], () => redis)(process.argv[2], async () => {
  process.stdout.write('holding\\n')
  await new Promise(() => {})
})
`

function holdInChild(shop: string, product: string): Promise<() => void> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', holder, shop, product], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('holding')) resolve(() => child.kill('SIGKILL'))
    })
    child.on('exit', (code) => reject(new Error(`lock holder exited early (${code})`)))
  })
}

describe('the per-product attach lock', () => {
  it('frees a product within seconds of its holder being killed', async () => {
    const shop = `lock-${randomUUID()}.myshopify.com`
    const kill = await holdInChild(shop, 'gid://shopify/Product/1')
    kill()
    const started = Date.now()
    await createProductLock(shop, () => redis)('gid://shopify/Product/1', async () => {})
    expect(Date.now() - started).toBeLessThan(12_000)
  }, 30_000)

  it('keeps the lock for a holder that works longer than one lease', async () => {
    const shop = `lock-${randomUUID()}.myshopify.com`
    const withLock = createProductLock(shop, () => redis)
    const order: string[] = []
    const long = withLock('gid://shopify/Product/2', async () => {
      order.push('long:start')
      await new Promise((r) => setTimeout(r, 13_000))
      order.push('long:end')
    })
    await new Promise((r) => setTimeout(r, 200))
    // why a second lock object: another process's, sharing only Redis.
    const other = createProductLock(shop, () => redis)('gid://shopify/Product/2', async () => {
      order.push('other')
    })
    await Promise.all([long, other])
    expect(order).toEqual(['long:start', 'long:end', 'other'])
  }, 40_000)
})
