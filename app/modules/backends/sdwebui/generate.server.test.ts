import { describe, expect, it } from 'vitest'
import type { Progress } from './api.ts'
import { API_IMG2IMG_JOB, progressSeen, type Watch } from './generate.server.ts'

function progress(state: Partial<Progress['state']>, over: Partial<Progress> = {}): Progress {
  return {
    progress: 0,
    eta_relative: 0,
    state: {
      skipped: false,
      interrupted: false,
      job: API_IMG2IMG_JOB,
      job_count: 1,
      job_timestamp: '20260101120000',
      job_no: 0,
      sampling_step: 0,
      sampling_steps: 0,
      ...state,
    },
    ...over,
  }
}

function seen(p: Progress, switching: string | null = null) {
  const watch: Watch = { interrupted: false, stop: () => undefined }
  const reports: Array<[number, string]> = []
  progressSeen(p, switching, watch, (percent, message) => reports.push([percent, message]))
  return { watch, reports }
}

describe('progressSeen', () => {
  it('maps our sampling steps to 15–90 % with the time left', () => {
    const { watch, reports } = seen(progress({ sampling_step: 9, sampling_steps: 20 }, { progress: 0.5, eta_relative: 3.2 }))
    expect(reports).toEqual([[52.5, 'SD WebUI: step 10 of 20, about 4 s left']])
    expect(watch.jobTimestamp).toBe('20260101120000')
  })

  it('says a checkpoint loads before sampling starts', () => {
    expect(seen(progress({ job_count: -1 }), 'juggernautXL_v9').reports).toEqual([[14, 'SD WebUI: loading juggernautXL_v9']])
    expect(seen(progress({})).reports).toEqual([[14, 'SD WebUI: preparing']])
  })

  it("never takes another job's progress or interrupt for ours", () => {
    const ui = seen(progress({ job: 'txt2img', interrupted: true, sampling_steps: 20 }, { progress: 0.9 }))
    expect(ui.reports).toEqual([[13, 'SD WebUI is finishing another job first']])
    expect(ui.watch.interrupted).toBe(false)
    expect(ui.watch.jobTimestamp).toBeUndefined()
    expect(seen(progress({ job: '', job_count: 0 })).reports).toEqual([])
  })

  it('notes an interrupt of our job', () => {
    expect(seen(progress({ interrupted: true, sampling_steps: 20 })).watch.interrupted).toBe(true)
  })
})
