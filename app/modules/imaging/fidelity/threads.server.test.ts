import { writeFileSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { createFidelityThreads, threadEntry, ThreadStartError, type FidelityThreads } from './threads.server.ts'

const FAKE = pathToFileURL(path.resolve('test/fixtures/fidelity-thread.ts'))
type Echo = { what: string; threadId: number }

let pool: FidelityThreads | undefined
afterEach(async () => {
  await pool?.close()
  pool = undefined
})

describe('fidelity threads', () => {
  it('finds the real thread entry beside the pool', () => {
    expect(threadEntry()?.pathname).toMatch(/fidelity\/thread\.server\.ts$/)
  })

  it('runs jobs side by side, one per thread, and queues the rest', async () => {
    pool = createFidelityThreads(2, FAKE)
    await pool.warm()
    const started = performance.now()
    const replies = await Promise.all([1, 2, 3, 4].map((i) => pool!.run<Echo>('compare', [`job ${i}`, 300])))
    const ms = performance.now() - started
    expect(replies.map((r) => r.what)).toEqual(['job 1', 'job 2', 'job 3', 'job 4'])
    expect(new Set(replies.map((r) => r.threadId)).size).toBe(2)
    // four 300 ms jobs on two threads: two rounds, not one and not four
    expect(ms).toBeGreaterThanOrEqual(590)
    expect(ms).toBeLessThan(1150)
  })

  it('passes a thrown error back by name and message', async () => {
    pool = createFidelityThreads(1, FAKE)
    await expect(pool.run('compare', ['throw'])).rejects.toMatchObject({ name: 'RangeError', message: 'bad plane' })
    await expect(pool.run<Echo>('compare', ['after'])).resolves.toMatchObject({ what: 'after' })
  })

  it('a thread that dies fails only its own job; the next job gets a fresh thread', async () => {
    pool = createFidelityThreads(1, FAKE)
    const dying = pool.run('compare', ['exit'])
    const next = pool.run<Echo>('compare', ['next'])
    await expect(dying).rejects.toThrow(/exited with code 3/)
    await expect(next).resolves.toMatchObject({ what: 'next' })
  })

  it('a thread that cannot load says so, and every later job is told at once', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fidelity-thread-'))
    const broken = path.join(dir, 'broken.mjs')
    writeFileSync(broken, "import './missing-module.mjs'\n")
    pool = createFidelityThreads(2, pathToFileURL(broken))
    await expect(pool.run('compare', ['x'])).rejects.toBeInstanceOf(ThreadStartError)
    await expect(pool.run('compare', ['y'])).rejects.toBeInstanceOf(ThreadStartError)
  })

  it('close() refuses queued and later jobs', async () => {
    pool = createFidelityThreads(1, FAKE)
    const running = expect(pool.run('compare', ['slow', 5_000])).rejects.toThrow(/closed/)
    const queued = expect(pool.run('compare', ['queued'])).rejects.toThrow(/closed/)
    const started = performance.now()
    await pool.close()
    await Promise.all([running, queued])
    expect(performance.now() - started).toBeLessThan(2_000)
    await expect(pool.run('compare', ['later'])).rejects.toThrow(/closed/)
  })
})
