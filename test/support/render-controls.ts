import type { Framing, RenderControls } from '#app/modules/backends/types.ts'

/** RenderControls that report nowhere and are never aborted (a render run directly, outside the worker). */
export const quietControls = (): RenderControls => ({ onProgress: () => undefined, signal: new AbortController().signal })

/**
 * RenderControls for an adapter test that record the progress reported and
 * each onFramed call, with how many requests the backend's (fake) server had
 * seen by then (`requestsSeen`).
 */
export function recordingControls(requestsSeen: () => number, signal: AbortSignal = new AbortController().signal) {
  const progress: Array<[number, string]> = []
  const framed: Array<{ framing: Framing; requestsBefore: number }> = []
  const controls: RenderControls = {
    signal,
    onProgress: (p, m) => void progress.push([p, m]),
    onFramed: (framing) => void framed.push({ framing, requestsBefore: requestsSeen() }),
  }
  return { progress, framed, controls }
}
