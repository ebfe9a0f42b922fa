import { describe, expect, it } from 'vitest'
import { EnvError, parseEnv } from './env.server.ts'

describe('env', () => {
  it('fills every default on an empty environment', () => {
    const e = parseEnv({})
    expect(e.APP_MODE).toBe('local')
    expect(e.PORT).toBe(3000)
    expect(e.DATABASE_URL).toMatch(/^postgres:\/\//)
    expect(e.WORKER_CONCURRENCY).toBe(2)
    expect(e.RENDER_WAIT_TIMEOUT).toBe(180_000)
  })

  it('fails fast with a readable list naming each bad variable', () => {
    let error: unknown
    try {
      parseEnv({ PORT: 'eighty', REDIS_URL: 'not a url', APP_MODE: 'cloud' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(EnvError)
    const message = (error as Error).message
    expect(message).toContain('PORT')
    expect(message).toContain('REDIS_URL')
    expect(message).toContain('APP_MODE')
    expect(message).toContain('.env.example')
  })

  it('refuses the development signing secret in production', () => {
    expect(() => parseEnv({ NODE_ENV: 'production' })).toThrow(/SIGNING_SECRET/)
    expect(parseEnv({ NODE_ENV: 'production', SIGNING_SECRET: 'a'.repeat(32) }).NODE_ENV).toBe('production')
  })

  it('treats empty strings as unset', () => {
    expect(parseEnv({ PORT: '' }).PORT).toBe(3000)
  })
})
