import { describe, expect, it } from 'vitest'
import { messages } from '#app/lib/i18n.ts'
import { personas, scenes } from '#app/modules/looks/index.ts'
import { operations, type BackendType, type Operation, type Persona } from '#app/modules/looks/schema.ts'
import { allowedOperations, lookAvailability, PERSONA_OPERATIONS, type BackendLike } from './capabilities.ts'
import { createComfyuiBackend } from './comfyui/adapter.server.ts'
import { createCpuStudioBackend } from './cpu-studio/adapter.server.ts'
import { backendTypes, configurableTypes } from './descriptors.ts'
import { buildBackend } from './pool.server.ts'
import { createSdwebuiBackend } from './sdwebui/adapter.server.ts'
import { createWeshopBackend } from './weshop/adapter.server.ts'

/** A backend that only has capabilities: what lookAvailability reads. */
function backend(id: string, type: BackendType, ops: readonly Operation[], personasToo = type !== 'cpu-studio'): BackendLike {
  return { id, capabilities: () => ({ type, operations: [...ops], personas: personasToo, maxEdge: 2048, models: [] }) }
}

const cpu = backend('cpu-studio', 'cpu-studio', ['product_scene', 'scene_swap'])
const comfy = backend('cfg-comfy', 'comfyui', ['scene_swap', 'model_swap'])

describe('what each backend type can do', () => {
  it('declares exactly the operations its adapter implements', () => {
    const adapters = {
      'cpu-studio': createCpuStudioBackend(),
      comfyui: createComfyuiBackend({ url: 'http://127.0.0.1:1' }),
      sdwebui: createSdwebuiBackend({ url: 'http://127.0.0.1:1' }),
      weshop: createWeshopBackend({ apiKey: 'not-a-real-key' }),
    }
    for (const [type, adapter] of Object.entries(adapters)) {
      expect([...backendTypes[type as BackendType].operations].sort(), type).toEqual(
        [...adapter.capabilities().operations].sort(),
      )
      expect(backendTypes[type as BackendType].personas, type).toBe(adapter.capabilities().personas)
    }
  })

  it('realises every scene on the CPU studio and every look on ComfyUI; no persona on the CPU', () => {
    for (const scene of scenes) {
      expect(backendTypes['cpu-studio'].realisesScene(scene), scene.id).toBe(true)
      expect(backendTypes.comfyui.realisesScene(scene), scene.id).toBe(true)
    }
    for (const persona of personas) {
      expect(backendTypes['cpu-studio'].realisesPersona(persona)).toBe(false)
      expect(backendTypes.comfyui.realisesPersona(persona), persona.id).toBe(true)
    }
  })

  it("reads SD WebUI's and WeShop's own settings modules for their mappings", () => {
    for (const type of ['sdwebui', 'weshop'] as const) {
      for (const scene of scenes) expect(backendTypes[type].realisesScene(scene), `${type} ${scene.id}`).toBe(true)
      for (const persona of personas) expect(backendTypes[type].realisesPersona(persona), `${type} ${persona.id}`).toBe(true)
    }
    const stranger = { ...personas[0], id: 'not-in-any-table', backends: {} } as Persona
    expect(backendTypes.sdwebui.realisesPersona(stranger)).toBe(false)
    expect(backendTypes.weshop.realisesPersona(stranger)).toBe(false)
    expect(backendTypes.comfyui.realisesPersona(stranger)).toBe(false)
  })

  it('keeps only the operations a type can do, in the canonical order', () => {
    expect(allowedOperations('comfyui', ['model_swap', 'tryon', 'scene_swap'])).toEqual(['scene_swap', 'model_swap'])
    expect(allowedOperations('cpu-studio', ['model_swap'])).toEqual([])
  })

  it('offers the auth each client can send', () => {
    expect(backendTypes.comfyui.authSchemes).toEqual(['bearer', 'basic'])
    expect(backendTypes.sdwebui.authSchemes).toEqual(['basic'])
    expect(backendTypes.weshop.credentials).toBe('api-key')
    expect(configurableTypes).not.toContain('cpu-studio')
  })
})

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

describe('building a backend from a spec', () => {
  it('refuses a bearer token for SD WebUI and a missing WeShop key, in words', async () => {
    await expect(
      buildBackend({ id: 'x', type: 'sdwebui', url: 'http://127.0.0.1:1', credentials: { kind: 'bearer', token: 'tok' }, publicOnly: false }),
    ).rejects.toThrow(/user name and password/)
    await expect(buildBackend({ id: 'x', type: 'weshop', url: '', credentials: null, publicOnly: false })).rejects.toThrow(/API key/)
  })

  it('builds each type with the id it is given', async () => {
    const comfyui = await buildBackend({ id: 'cfg-a', type: 'comfyui', url: 'http://127.0.0.1:1', credentials: null, publicOnly: false })
    const sdwebui = await buildBackend({
      id: 'cfg-b',
      type: 'sdwebui',
      url: 'http://127.0.0.1:1',
      credentials: { kind: 'basic', username: 'ann', password: 'p@ss word' },
      publicOnly: false,
    })
    const weshop = await buildBackend({
      id: 'cfg-c',
      type: 'weshop',
      url: '',
      credentials: { kind: 'apiKey', apiKey: 'sk-test-123456' },
      publicOnly: false,
    })
    expect([comfyui.id, sdwebui.id, weshop.id]).toEqual(['cfg-a', 'cfg-b', 'cfg-c'])
    expect(JSON.stringify(weshop)).not.toContain('sk-test-123456')
    await Promise.all([comfyui, sdwebui, weshop].map((b) => b.close?.()))
  })
})
