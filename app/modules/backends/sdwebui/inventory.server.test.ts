import { describe, expect, it } from 'vitest'
import { AppError } from '#app/lib/errors.ts'
import { resolveNames, type Inventory, type Wanted } from './inventory.server.ts'

const BASE = 'http://gpu-1:7860'

function inventory(over: Partial<Inventory> = {}): Inventory {
  return {
    at: 0,
    checkpoints: [
      {
        title: 'juggernautXL_v9.safetensors [c9e3e68f89]',
        model_name: 'juggernautXL_v9',
        filename: '/models/juggernautXL_v9.safetensors',
      },
    ],
    samplers: [{ name: 'DPM++ 2M', aliases: ['k_dpmpp_2m'], options: {} }],
    schedulers: [{ name: 'karras', label: 'Karras' }],
    controlnetModels: ['diffusers_xl_depth_mid [39c49e13]'],
    controlnetModules: ['depth_midas'],
    ...over,
  }
}

function wanted(scene: Partial<Wanted['scene']> = {}, units: Wanted['units'] = []): Wanted {
  return {
    scene: {
      checkpoint: 'juggernautXL_v9.safetensors',
      sampler_name: 'DPM++ 2M',
      scheduler: 'karras',
      ...scene,
    } as Wanted['scene'],
    units,
    image: 'AAAA',
    work: { width: 832, height: 1216 },
  }
}

const depth = {
  module: 'depth_midas',
  model: 'diffusers_xl_depth_mid',
  weight: 0.5,
  control_mode: 'Balanced',
} as Wanted['units'][number]

describe('resolveNames', () => {
  it("names the look's checkpoint, sampler, scheduler and ControlNet model as this server spells them", () => {
    const resolved = resolveNames(BASE, inventory(), wanted({}, [depth]))
    expect(resolved).not.toBeInstanceOf(AppError)
    if (resolved instanceof AppError) return
    expect(resolved.checkpoint.title).toBe('juggernautXL_v9.safetensors [c9e3e68f89]')
    expect(resolved.sampler).toBe('DPM++ 2M')
    expect(resolved.scheduler).toBe('Karras')
    expect(resolved.units).toHaveLength(1)
    expect(resolved.units[0]).toMatchObject({
      module: 'depth_midas',
      model: 'diffusers_xl_depth_mid [39c49e13]',
      image: 'AAAA',
      processor_res: 832,
    })
  })

  it('finds a pre-1.9 sampler by the name that carries its schedule', () => {
    const old = inventory({ schedulers: null, samplers: [{ name: 'DPM++ 2M Karras', aliases: [], options: {} }] })
    const resolved = resolveNames(BASE, old, wanted({ scheduler: 'Karras' }))
    expect(resolved).toMatchObject({ sampler: 'DPM++ 2M Karras', scheduler: 'Karras' })
  })

  it('says what the server lacks instead of letting it substitute', () => {
    const cases: Array<[Inventory, Wanted, RegExp]> = [
      [inventory(), wanted({ checkpoint: 'sd_xl_base_1.0' }), /has no checkpoint "sd_xl_base_1.0" \(it has: juggernautXL/],
      [inventory(), wanted({ sampler_name: 'Euler a' }), /has no sampler "Euler a"/],
      [inventory(), wanted({ scheduler: 'exponential' }), /has no scheduler "exponential"/],
      [inventory({ controlnetModels: null }), wanted({}, [depth]), /has no ControlNet extension/],
      [inventory({ controlnetModules: ['canny'] }), wanted({}, [depth]), /has no ControlNet preprocessor "depth_midas"/],
      [inventory({ controlnetModels: [] }), wanted({}, [depth]), /has no ControlNet model "diffusers_xl_depth_mid"/],
    ]
    for (const [inv, want, message] of cases) {
      const error = resolveNames(BASE, inv, want)
      expect(error).toBeInstanceOf(AppError)
      expect((error as AppError).message).toMatch(message)
      expect(error).toMatchObject({ code: 'BACKEND_FAILED', retryable: false, details: { backend: BASE } })
    }
  })
})
