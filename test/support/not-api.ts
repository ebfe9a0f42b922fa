import { expect } from 'vitest'
import { AppError } from '#app/lib/errors.ts'
import { reasonOf, type BackendName } from '#app/modules/backends/failure.server.ts'
import type { GarbageKind } from '#test/fakes/garbage.ts'

export const garbageKinds: GarbageKind[] = ['html', 'not_json', 'other_json']

/** Raw parser or transport text a merchant must never read in an error message. */
const RAW = /✖|Invalid input|expected \w+, received|undefined|SyntaxError|Unexpected token|<html|<!doctype|grafana|garbage/i

/**
 * An answer that is not the backend's API: BACKEND_FAILED, retryable (another
 * backend may take the render), the backend named with the next step, and
 * what was wrong only in details.
 */
export function expectNotApi(error: unknown, backend: BackendName): AppError {
  expect(error).toBeInstanceOf(AppError)
  const e = error as AppError
  expect(e).toMatchObject({
    code: 'BACKEND_FAILED',
    retryable: true,
    details: { reason: 'not_api', path: expect.stringMatching(/^\//), problem: expect.any(String), body: expect.any(String) },
  })
  expect(e.message).toContain(`but not as ${backend}'s API does`)
  expect(e.message).toContain(`Check that the URL points at ${backend}'s server and port`)
  expect(e.message).toContain('proxy')
  expect(e.message).not.toMatch(RAW)
  expect(String(e.details!.problem)).not.toBe('')
  expect(reasonOf(e)).toBe('not_api')
  return e
}
