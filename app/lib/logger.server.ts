import { pino, type Logger } from 'pino'
import { env } from './env.server.ts'

// why: pretty output for a person at a terminal, JSON lines for machines.
// Secrets never reach a log line: the redact list covers the names we use.
function makeLogger(): Logger {
  const e = env()
  const pretty = e.LOG_PRETTY ?? (e.NODE_ENV === 'development' && process.stdout.isTTY)
  return pino({
    level: e.NODE_ENV === 'test' && !process.env.LOG_LEVEL ? 'silent' : e.LOG_LEVEL,
    base: { service: process.env.ATELIER_SERVICE ?? 'web' },
    redact: {
      paths: [
        'apiKey', '*.apiKey', 'accessToken', '*.accessToken', 'token', '*.token', 'secret', '*.secret',
        'password', '*.password', 'authorization', '*.authorization', 'req.headers.authorization',
        'req.headers.cookie', 'headers.authorization', 'headers.cookie',
      ],
      censor: '[redacted]',
    },
    transport: pretty ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } } : undefined,
  })
}

let root: Logger | undefined

export function logger(): Logger {
  root ??= makeLogger()
  return root
}

/**
 * An error listener that logs the same message at most once per `everyMs`,
 * saying how many it left out. why: a lost Redis fails every reconnect, a few
 * times a second, and one line per half-minute says as much.
 */
export function throttledErrorLog(msg: string, everyMs = 30_000): (err: Error) => void {
  let lastAt = 0
  let lastMessage = ''
  let skipped = 0
  return (err) => {
    const now = Date.now()
    if (err.message === lastMessage && now - lastAt < everyMs) {
      skipped++
      return
    }
    logger().error({ err, repeatedSinceLastLine: skipped }, msg)
    lastAt = now
    lastMessage = err.message
    skipped = 0
  }
}

/**
 * Bounds a process's shutdown: unless it exits first, after `limitMs` it logs
 * what was left (`left()` says it in words) and exits 1. why: closing waits
 * on Redis and running work, and a deploy must not wait for ever.
 */
export function exitUnlessStoppedWithin(limitMs: number, left: () => string): void {
  const timer = setTimeout(() => {
    logger().error({ limitMs }, `did not stop within ${limitMs / 1000} s; ${left()}`)
    process.exit(1)
  }, limitMs)
  timer.unref()
}
