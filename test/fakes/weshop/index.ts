export {
  FAKE_WESHOP_KEY,
  startWeshopFake,
  type FailureMix,
  type FakeRun,
  type InjectedFailure,
  type Preset,
  type RecordedRequest,
  type RunTimings,
  type WeshopFake,
  type WeshopFakeOptions,
} from './server.ts'
export { validateRun, SUPPORTED_AGENTS } from './validation.ts'
