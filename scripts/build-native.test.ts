import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { buildNative, NATIVE_ADDON, NativeBuildError } from './build-native.ts'

// The native JPEG encoder's build: skipped when up to date, and a failed
// build says what went wrong and leaves the addon that was there alone.

const cc = process.env.CC

afterEach(() => {
  if (cc === undefined) delete process.env.CC
  else process.env.CC = cc
})

describe('npm run build:native', () => {
  it('does nothing when the addon is newer than its source', () => {
    buildNative()
    const before = statSync(NATIVE_ADDON).mtimeMs
    expect(buildNative()).toBe('up to date')
    expect(statSync(NATIVE_ADDON).mtimeMs).toBe(before)
  })

  it('reports a failed compile and keeps the addon it had', () => {
    buildNative()
    const before = statSync(NATIVE_ADDON).mtimeMs
    process.env.CC = '/bin/false'
    expect(() => buildNative({ force: true })).toThrow(NativeBuildError)
    expect(() => buildNative({ force: true })).toThrow(/\/bin\/false exited with status 1/)
    process.env.CC = '/no/such/compiler'
    expect(() => buildNative({ force: true })).toThrow(/no C compiler/)
    expect(existsSync(NATIVE_ADDON)).toBe(true)
    expect(statSync(NATIVE_ADDON).mtimeMs).toBe(before)
    expect(readdirSync(path.dirname(NATIVE_ADDON)).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })
})
