import { describe, expect, it } from 'vitest'
import { personas } from '#app/modules/looks/personas.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import type { Persona, Scene } from '#app/modules/looks/schema.ts'
import {
  personaSettings,
  personaTuning,
  sceneSettings,
  sceneTuning,
  sdwebuiPersonaSectionSchema,
  sdwebuiPersonaTuningSchema,
  sdwebuiSceneSectionSchema,
  sdwebuiSceneTuningSchema,
} from './look-settings.ts'

describe('SD WebUI settings per look', () => {
  it('has a usable mapping for every scene: the look’s section and this backend’s tuning', () => {
    for (const scene of scenes) {
      expect(sdwebuiSceneSectionSchema.safeParse(scene.backends.sdwebui).success, scene.id).toBe(true)
      expect(sdwebuiSceneTuningSchema.safeParse(sceneTuning[scene.id]).success, scene.id).toBe(true)
      const settings = sceneSettings(scene)
      expect(settings.checkpoint, scene.id).toMatch(/\.safetensors$/)
      // What img2img needs and the API would otherwise default: all present.
      for (const key of [
        'prompt',
        'steps',
        'cfg_scale',
        'sampler_name',
        'scheduler',
        'denoising_strength',
        'maskBlur',
      ] as const) {
        expect(settings[key], `${scene.id}.${key}`).toBeDefined()
      }
    }
  })

  it('has a usable mapping for every persona: its prompt with its LoRA, and its tuning', () => {
    for (const persona of personas) {
      expect(sdwebuiPersonaSectionSchema.safeParse(persona.backends.sdwebui).success, persona.id).toBe(true)
      expect(sdwebuiPersonaTuningSchema.safeParse(personaTuning[persona.id]).success, persona.id).toBe(true)
      const settings = personaSettings(persona)
      expect(settings.prompt, persona.id).toContain(`<lora:atelier-persona-${persona.id}-v${persona.version}:`)
    }
  })

  it('tunes no look that does not exist (a renamed id would silently lose its tuning)', () => {
    expect(Object.keys(sceneTuning).sort()).toEqual(scenes.map((s) => s.id).sort())
    expect(Object.keys(personaTuning).sort()).toEqual(personas.map((p) => p.id).sort())
  })

  it('names the look and what is wrong when a mapping is missing', () => {
    const scene = scenes[0]
    const untuned: Scene = { ...scene, id: 'new-scene' }
    expect(() => sceneSettings(untuned)).toThrow(/Scene "new-scene" has no usable SD WebUI settings:\nno SD WebUI tuning/)
    const broken: Scene = { ...scene, backends: { ...scene.backends, sdwebui: { ...scene.backends.sdwebui, steps: 0 } } }
    expect(() => sceneSettings(broken)).toThrow(new RegExp(`Scene "${scene.id}" has no usable SD WebUI settings:[\\s\\S]*steps`))
    const persona: Persona = { ...personas[0], backends: {} }
    expect(() => personaSettings(persona)).toThrow(`Persona "${personas[0].id}" has no usable SD WebUI settings`)
  })
})
