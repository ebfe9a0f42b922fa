import { AppError } from '#app/lib/errors.ts'
import { abortedError as sharedAbortedError } from '../abort.ts'
import { PYTHON_INPUT_ERRORS } from '../python-errors.ts'
import type { ApiWorkflow, ExecutionError, NodeErrors, PromptRejected } from './api.ts'

// What ComfyUI's refusals and failures mean for a render: pure mappings from
// its answers to AppErrors, so the retry decision can be read and tested alone.

/** Exception types that fail the same way on every attempt: the graph or its inputs are wrong. */
const DETERMINISTIC_EXCEPTIONS = new Set(PYTHON_INPUT_ERRORS)

/** Whether an exception type (e.g. `builtins.ValueError`) would fail again on a retry. */
export function isValidationFailure(exceptionType: string): boolean {
  const name = exceptionType.split('.').pop() ?? exceptionType
  return DETERMINISTIC_EXCEPTIONS.has(name) || /validation/i.test(exceptionType)
}

/** The AppError for a POST /prompt that ComfyUI refused (HTTP 400): names each node, class and input. */
export function promptRejectedError(baseUrl: string, rejected: PromptRejected, workflow: ApiWorkflow): AppError {
  const problems: Array<{ nodeId: string; classType: string; input?: string; type: string; message: string; details: string }> =
    []
  const nodeErrors: NodeErrors = Array.isArray(rejected.node_errors) ? {} : rejected.node_errors
  for (const [nodeId, node] of Object.entries(nodeErrors)) {
    for (const e of node.errors) {
      const input = typeof e.extra_info.input_name === 'string' ? e.extra_info.input_name : undefined
      problems.push({ nodeId, classType: node.class_type, input, type: e.type, message: e.message, details: e.details })
    }
  }
  const error =
    typeof rejected.error === 'string' ? { type: 'error', message: rejected.error, details: '', extra_info: {} } : rejected.error
  if (problems.length === 0) {
    // Graph-level errors (an unknown class, no outputs) carry the node in
    // extra_info on newer servers and only in `details` ("Node ID '#7'") on older ones.
    const fromInfo = error.extra_info.node_id
    const nodeId = typeof fromInfo === 'string' ? fromInfo : /Node ID '#([^']+)'/.exec(error.details)?.[1]
    const fromInfoClass = error.extra_info.class_type
    const classType = typeof fromInfoClass === 'string' ? fromInfoClass : nodeId ? workflow[nodeId]?.class_type : undefined
    problems.push({ nodeId: nodeId ?? '?', classType: classType ?? '?', type: error.type, message: error.message, details: '' })
  }
  const described = problems
    .map((p) => {
      const where = `node ${p.nodeId} (${p.classType})${p.input ? ` input "${p.input}"` : ''}`
      return `${where}: ${p.message}${p.details && p.details !== p.input ? ` (${p.details})` : ''}`
    })
    .join('; ')
  return new AppError('BACKEND_FAILED', `ComfyUI refused the workflow (${error.type}): ${described}`, {
    retryable: false,
    details: { backend: baseUrl, errorType: error.type, problems },
  })
}

/** The AppError for an `execution_error`: the node, its class and ComfyUI's exception. */
export function executionFailedError(baseUrl: string, e: ExecutionError): AppError {
  const firstLine =
    e.exception_message
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? 'no message'
  const where = e.node_id ? `node ${e.node_id} (${e.node_type ?? '?'})` : 'the workflow'
  return new AppError('BACKEND_FAILED', `ComfyUI failed in ${where}: ${e.exception_type || 'error'}: ${firstLine}`, {
    retryable: !isValidationFailure(e.exception_type),
    details: {
      backend: baseUrl,
      promptId: e.prompt_id,
      nodeId: e.node_id,
      nodeType: e.node_type,
      exceptionType: e.exception_type,
      exceptionMessage: e.exception_message,
    },
  })
}

/** What an aborted signal means: a timeout (retryable) or a cancellation (../abort.ts). */
export function abortedError(reason: unknown): AppError {
  return sharedAbortedError(reason, 'it was stopped on ComfyUI')
}
