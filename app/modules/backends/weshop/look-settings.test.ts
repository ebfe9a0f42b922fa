import { describe, expect, it } from 'vitest'
import { AppError } from '#app/lib/errors.ts'
import { markets } from '#app/modules/looks/markets.ts'
import { personas } from '#app/modules/looks/personas.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import { tryonAspectRatios } from './api.ts'
import {
  mappedPersonaIds,
  mappedSceneIds,
  marketAspectRatio,
  personaSettings,
  sceneSettings,
  tryonAspectRatio,
  weshopPresetIdsSchema,
} from './look-settings.ts'

describe('WeShop settings for the looks', () => {
  it('map every scene, and nothing that is not a scene', () => {
    expect([...mappedSceneIds].sort()).toEqual(scenes.map((s) => s.id).sort())
    for (const scene of scenes) {
      const s = sceneSettings(scene)
      expect(s.textDescription, scene.id).toBe(scene.prompt)
      expect(['originalImagePose', 'referenceImagePose', 'freePose'], scene.id).toContain(s.pose)
      expect(['freeCreation', 'referToOrigin'], scene.id).toContain(s.generatedContent)
    }
  })

  it('map every persona, and nothing that is not a persona', () => {
    expect([...mappedPersonaIds].sort()).toEqual(personas.map((p) => p.id).sort())
    for (const persona of personas) expect(personaSettings(persona).textDescription, persona.id).toBe(persona.prompt)
  })

  it('give every market a try-on ratio WeShop offers, the nearest to its own', () => {
    for (const market of markets) expect(tryonAspectRatios, market.id).toContain(marketAspectRatio(market))
    expect(tryonAspectRatio({ width: 4, height: 5 })).toBe('3:4')
    expect(tryonAspectRatio({ width: 2, height: 3 })).toBe('2:3')
    expect(tryonAspectRatio({ width: 1080, height: 1080 })).toBe('1:1')
    expect(tryonAspectRatio({ width: 1080, height: 1920 })).toBe('9:16')
  })

  it('take preset ids from the deployment over the tables', () => {
    const beach = scenes.find((s) => s.id === 'beach')!
    const amara = personas.find((p) => p.id === 'amara')!
    const presets = weshopPresetIdsSchema.parse({ aimodel: { locations: { beach: 10004 }, fashionModels: { amara: 20001 } } })
    expect(sceneSettings(beach, presets).locationId).toEqual({ aimodel: 10004, aiproduct: undefined })
    expect(personaSettings(amara, presets).fashionModelId).toBe(20001)
    expect(personaSettings(amara).fashionModelId).toBeUndefined()
    expect(() => weshopPresetIdsSchema.parse({ aimodel: { locations: { beach: 'ws-location-beach' } } })).toThrow()
  })

  it('refuse a look it has no settings for, naming it', () => {
    const unknown = { ...scenes[0], id: 'moon-base' }
    expect(() => sceneSettings(unknown)).toThrow(AppError)
    expect(() => sceneSettings(unknown)).toThrow(/Scene "moon-base" has no usable WeShop settings/)
    expect(() => personaSettings({ ...personas[0], id: 'nobody' })).toThrow(/Persona "nobody"/)
  })
})
