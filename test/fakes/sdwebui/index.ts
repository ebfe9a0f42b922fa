export {
  startSdwebuiFake,
  SAMPLERS,
  SCHEDULERS,
  type GenerationRecord,
  type InjectedFailure,
  type RecordedRequest,
  type SdwebuiFake,
  type SdwebuiFakeOptions,
  type SdwebuiFakeTimings,
} from './server.ts'
export { runControlnet, parseUnit, type ControlnetOutcome, type ControlnetUnit } from './controlnet.ts'
export { paint, sceneTint, seededRandom } from './painter.ts'
export { coerce, validateBody, IMG2IMG_FIELDS, TXT2IMG_FIELDS, type PydanticVersion, type ValidationIssue } from './validation.ts'
