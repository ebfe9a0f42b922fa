export { startComfyFake, type ComfyFake, type ComfyFakeOptions, type RecordedRequest } from './server.ts'
export type { HistoryEntry, InjectedFailure, ExecutorTimings } from './executor.ts'
export { NODE_CLASSES, SAMPLERS, SCHEDULERS, seedGradient } from './nodes.ts'
export { validatePrompt, type ApiPrompt } from './validation.ts'
