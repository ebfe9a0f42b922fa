import { describe, expect, it } from 'vitest'
import { personas, scenes } from '#app/modules/looks/index.ts'
import type { BackendType, Persona } from '#app/modules/looks/schema.ts'
import { allowedOperations } from './capabilities.ts'
import { createComfyuiBackend } from './comfyui/adapter.server.ts'
import { createCpuStudioBackend } from './cpu-studio/adapter.server.ts'
import { backendTypes, configurableTypes } from './descriptors.ts'
import { descriptorOf } from './registry.server.ts'
import { createSdwebuiBackend } from './sdwebui/adapter.server.ts'
import { createWeshopBackend } from './weshop/adapter.server.ts'

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

  it("builds each type through its own descriptor's server half", () => {
    for (const [type, info] of Object.entries(backendTypes)) {
      const descriptor = descriptorOf(type as BackendType)
      expect(descriptor.type, type).toBe(type)
      expect(descriptor.operations, type).toEqual(info.operations)
      expect(typeof descriptor.build, type).toBe(info.configurable ? 'function' : 'undefined')
    }
  })
})
