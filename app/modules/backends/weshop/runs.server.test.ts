import { describe, expect, it } from 'vitest'
import type { Execution, Run } from './api.ts'
import { finishedRun } from './runs.server.ts'

const run = (execution: Execution): Run => ({ agentName: 'aimodel', agentVersion: 'v1.0', executions: [execution] })

describe('finishedRun', () => {
  it('returns the images of the results that succeeded', () => {
    const execution = {
      executionId: 'e1',
      status: 'Success',
      result: [
        { status: 'Success', image: 'https://cdn/a.png' },
        { status: 'Failed' },
        { status: 'Success', image: 'https://cdn/b.png' },
      ],
    }
    expect(finishedRun('e1', run(execution), execution, 4)).toMatchObject({
      images: ['https://cdn/a.png', 'https://cdn/b.png'],
      polls: 4,
    })
  })

  it('fails retryably on a Failed run or one without an image', () => {
    const failed = { executionId: 'e1', status: 'Failed', result: [] }
    expect(() => finishedRun('e1', run(failed), failed, 2)).toThrow('WeShop reported run e1 (aimodel) as Failed.')
    const empty = { executionId: 'e1', status: 'Success', result: [{ status: 'Failed' }] }
    let error: unknown
    try {
      finishedRun('e1', run(empty), empty, 2)
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({ code: 'BACKEND_FAILED', retryable: true, details: { results: ['Failed'] } })
  })
})
