import { describe, expect, it } from 'vitest'
import { executionFailedError, isValidationFailure, promptRejectedError } from './errors.ts'

const failure = (over: Partial<Parameters<typeof executionFailedError>[1]> = {}) => ({
  prompt_id: 'p1',
  node_id: '6',
  node_type: 'KSampler',
  exception_message: '\n  CUDA out of memory.\nTried to allocate 2 GiB',
  exception_type: 'torch.OutOfMemoryError',
  ...over,
})

describe('ComfyUI errors', () => {
  it('treats wrong graphs and inputs as failing again, everything else as worth a retry', () => {
    expect(isValidationFailure('builtins.ValueError')).toBe(true)
    expect(isValidationFailure('KeyError')).toBe(true)
    expect(isValidationFailure('comfy.execution.PromptValidationFailed')).toBe(true)
    expect(isValidationFailure('torch.OutOfMemoryError')).toBe(false)
    expect(isValidationFailure('RuntimeError')).toBe(false)
    expect(isValidationFailure('')).toBe(false)
  })

  it('names the node and the first line of the exception, retryable unless the input is wrong', () => {
    const oom = executionFailedError('http://gpu-1:8188', failure())
    expect(oom.message).toBe('ComfyUI failed in node 6 (KSampler): torch.OutOfMemoryError: CUDA out of memory.')
    expect(oom.retryable).toBe(true)
    expect(oom.details).toMatchObject({ backend: 'http://gpu-1:8188', promptId: 'p1', nodeId: '6', nodeType: 'KSampler' })

    const wrong = executionFailedError('http://gpu-1:8188', failure({ exception_type: 'ValueError', exception_message: '' }))
    expect(wrong.retryable).toBe(false)
    expect(wrong.message).toBe('ComfyUI failed in node 6 (KSampler): ValueError: no message')

    const whole = executionFailedError('http://gpu-1:8188', failure({ node_id: undefined, exception_type: '' }))
    expect(whole.message).toMatch(/^ComfyUI failed in the workflow: error: CUDA/)
  })

  it('finds the node of a graph-level refusal in the details of an older server', () => {
    const workflow = { '7': { class_type: 'SaveImage', inputs: {} } }
    const rejected = {
      error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: "Node ID '#7'", extra_info: {} },
      node_errors: [],
    }
    const error = promptRejectedError('http://gpu-1:8188', rejected, workflow)
    expect(error.message).toBe('ComfyUI refused the workflow (prompt_no_outputs): node 7 (SaveImage): Prompt has no outputs')
    expect(error.retryable).toBe(false)
  })
})
