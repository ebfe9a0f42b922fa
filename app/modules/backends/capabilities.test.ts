import { describe, expect, it } from 'vitest'
import { messages } from '#app/lib/i18n.ts'
import { personas, scenes } from '#app/modules/looks/index.ts'
import { operations, type BackendType, type Operation, type Persona } from '#app/modules/looks/schema.ts'
import { lookAvailability, PERSONA_OPERATIONS, type BackendLike } from './capabilities.ts'

/** A backend that only has capabilities: what lookAvailability reads. */
function backend(id: string, type: BackendType, ops: readonly Operation[], personasToo = type !== 'cpu-studio'): BackendLike {
  return { id, capabilities: () => ({ type, operations: [...ops], personas: personasToo, maxEdge: 2048, models: [] }) }
}

const cpu = backend('cpu-studio', 'cpu-studio', ['product_scene', 'scene_swap'])
const comfy = backend('cfg-comfy', 'comfyui', ['scene_swap', 'model_swap'])

describe('lookAvailability', () => {
  it('with the CPU studio alone: every scene, no persona, and why', () => {
    const a = lookAvailability([cpu])
    for (const scene of scenes) expect(a.scenes[scene.id]).toEqual({ available: true, backendIds: ['cpu-studio'] })
    for (const persona of personas)
      expect(a.personas[persona.id]).toEqual({ available: false, reasonKey: 'backends.reason.personaNeedsGpu' })
    expect(a.operations.product_scene.available).toBe(true)
    expect(a.operations.model_swap).toEqual({ available: false, reasonKey: 'backends.reason.operationNeedsGpu' })
  })

  it('with a ComfyUI server: personas become available on it', () => {
    const a = lookAvailability([comfy, cpu])
    for (const persona of personas) expect(a.personas[persona.id]).toEqual({ available: true, backendIds: ['cfg-comfy'] })
    expect(a.scenes[scenes[0].id]).toEqual({ available: true, backendIds: ['cfg-comfy', 'cpu-studio'] })
    expect(a.operations.model_swap).toEqual({ available: true, backendIds: ['cfg-comfy'] })
    expect(a.operations.tryon).toEqual({ available: false, reasonKey: 'backends.reason.operationNotOnBackends' })
  })

  it('says when the GPU backend is not allowed to change models', () => {
    const a = lookAvailability([backend('cfg-scenes-only', 'comfyui', ['scene_swap']), cpu])
    expect(a.personas[personas[0].id]).toEqual({ available: false, reasonKey: 'backends.reason.personaOperationsOff' })
  })

  it('says when no connected backend maps a persona', () => {
    const stranger = { ...personas[0], id: 'stranger', backends: {} } as Persona
    const a = lookAvailability([comfy, cpu], { personas: [stranger, personas[0]] })
    expect(a.personas.stranger).toEqual({ available: false, reasonKey: 'backends.reason.personaNotOnBackends' })
    expect(a.personas[personas[0].id].available).toBe(true)
  })

  it('answers for every operation, and every reason has words in both languages', () => {
    const a = lookAvailability([])
    expect(Object.keys(a.operations).sort()).toEqual([...operations].sort())
    const reasons = new Set<string>()
    for (const group of [
      a.personas,
      a.scenes,
      a.operations,
      lookAvailability([backend('x', 'comfyui', ['scene_swap'])]).personas,
    ]) {
      for (const v of Object.values(group)) if (!v.available) reasons.add(v.reasonKey)
    }
    reasons.add('backends.reason.personaNotOnBackends')
    reasons.add('backends.reason.operationNotOnBackends')
    for (const key of reasons) {
      expect(messages.en[key], key).toBeTruthy()
      expect(messages['zh-CN'][key], key).toBeTruthy()
    }
    expect(PERSONA_OPERATIONS).toContain('model_swap')
  })
})
