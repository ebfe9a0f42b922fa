import { describe, expect, it } from 'vitest'
import { createServerLock, serverLock } from './lock.ts'

describe('the per-server lock', () => {
  it('hands the server out first come, first served, one at a time', async () => {
    const lock = createServerLock()
    const order: string[] = []
    const run = async (name: string, ms: number) => {
      const release = await lock.acquire()
      order.push(`${name} in`)
      await new Promise((r) => setTimeout(r, ms))
      order.push(`${name} out`)
      release()
    }
    await Promise.all([run('a', 20), run('b', 1), run('c', 1)])
    expect(order).toEqual(['a in', 'a out', 'b in', 'b out', 'c in', 'c out'])
    expect(lock.held).toBe(false)
  })

  it('lets a waiter give up without taking a turn, and ignores a second release', async () => {
    const lock = createServerLock()
    const release = await lock.acquire()
    const abort = new AbortController()
    const waiting = lock.acquire(abort.signal)
    const next = lock.acquire()
    abort.abort(new Error('gave up'))
    await expect(waiting).rejects.toThrow('gave up')
    release()
    release()
    const releaseNext = await next
    expect(lock.held).toBe(true)
    releaseNext()
    expect(lock.held).toBe(false)
    await expect(lock.acquire(AbortSignal.abort(new Error('already')))).rejects.toThrow('already')
  })

  it('is one lock per server URL in the process', () => {
    expect(serverLock('http://gpu-1:7860')).toBe(serverLock('http://gpu-1:7860'))
    expect(serverLock('http://gpu-1:7860')).not.toBe(serverLock('http://gpu-2:7860'))
  })
})
