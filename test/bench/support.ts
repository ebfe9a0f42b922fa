// Helpers the benchmarks share: knobs from the environment, percentiles, and
// cleanup that runs whether a bench passed or failed.

export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name]
  if (!raw) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`)
  return n
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length) - 1
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export type CleanupStep = () => Promise<void> | void

/** Undo steps, run last-first. */
export function cleanupList(first: CleanupStep[] = []) {
  const steps = [...first]
  return {
    add: (step: CleanupStep) => void steps.push(step),
    async run(): Promise<void> {
      for (const step of steps.splice(0).reverse()) {
        await Promise.resolve()
          .then(step)
          .catch((err: unknown) => console.warn('bench cleanup step failed:', err))
      }
    },
  }
}

/** Creates the bench's own database when missing and applies the migrations. */
export async function prepareBenchDatabase(): Promise<void> {
  const { applyMigrations, ensureDatabase } = await import('#app/lib/setup.server.ts')
  await ensureDatabase(process.env.DATABASE_URL!)
  await applyMigrations(process.env.DATABASE_URL!)
}
