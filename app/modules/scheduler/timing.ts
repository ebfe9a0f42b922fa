// Each backend's measured render and load times (moving averages learned
// from completions) and the estimates the policy makes from them.
import type { BackendView, PolicyConfig, Timing } from './policy.ts'

/** Weight of the newest measurement in a backend's moving averages of render and load time. */
export const TIMING_WEIGHT = 0.2

/**
 * A backend's measured times after a render of `model` that took `slotMs`
 * from dispatch to completion, `loaded` when it loaded the model first (then
 * the part beyond its typical render of that model is the load). The store's
 * COMPLETE script does the same in Redis.
 */
export function learnTiming(b: Timing & Pick<BackendView, 'byModel'>, slotMs: number, loaded: boolean, model?: string): void {
  const blend = (old: number | undefined, sample: number) => (old === undefined ? sample : old + TIMING_WEIGHT * (sample - old))
  const m = model === undefined ? undefined : ((b.byModel ??= {})[model] ??= {})
  if (!loaded) {
    b.renderMs = blend(b.renderMs, slotMs)
    if (m) m.renderMs = blend(m.renderMs, slotMs)
    return
  }
  const render = m?.renderMs ?? b.renderMs
  if (render === undefined) return
  const sample = Math.max(0, slotMs - render)
  b.loadMs = blend(b.loadMs, sample)
  if (m) m.loadMs = blend(m.loadMs, sample)
}

/** A backend's typical render of a model: measured for the model, else for the backend, else the policy's. */
export function renderTime(
  b: Pick<BackendView, 'renderMs' | 'byModel'>,
  cfg: Pick<PolicyConfig, 'renderMs'>,
  model?: string,
): number {
  return (model === undefined ? undefined : b.byModel?.[model]?.renderMs) ?? b.renderMs ?? cfg.renderMs
}

/** A backend's load of a model: measured, else the policy's scaled by its render time (a slower GPU loads slower too). */
export function loadTime(b: BackendView, cfg: PolicyConfig, model: string): number {
  return b.byModel?.[model]?.loadMs ?? b.loadMs ?? (cfg.switchMs * renderTime(b, cfg, model)) / cfg.renderMs
}

/** How long until a busy backend frees a slot: its oldest render's expected end. */
export function freeIn(b: BackendView, now: number, cfg: PolicyConfig): number {
  return Math.max(0, (b.busySince ?? now) + renderTime(b, cfg, b.model) - now)
}
