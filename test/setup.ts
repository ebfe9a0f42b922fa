import { afterEach, beforeEach, vi } from 'vitest'

// why: a test that logs console.error has hit a path we did not expect; make
// it fail loudly rather than scroll past (Epic Stack's habit).
let errorSpy: ReturnType<typeof vi.spyOn> | undefined

beforeEach(() => {
  errorSpy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    throw new Error(`console.error was called: ${args.map(String).join(' ')}`)
  })
})

afterEach(() => {
  errorSpy?.mockRestore()
})
