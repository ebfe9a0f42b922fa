import { describe, expect, it } from 'vitest'
import { personas } from '#app/modules/looks/personas.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import { validatePrompt, type ApiPrompt } from '#test/fakes/comfyui/index.ts'
import { planFrame } from '../frame.server.ts'
import { personaSettings, sceneSettings } from './look-settings.ts'
import { fillTemplate, parseTemplates, templateFor, templates } from './templates.ts'
import { rawTemplates } from './workflows.ts'

const sceneModels = scenes.map(sceneSettings)
const env = {
  models: {
    checkpoints: [...new Set(sceneModels.map((s) => s.checkpoint))],
    controlnet: [...new Set(sceneModels.flatMap((s) => s.controlnet.map((c) => c.model)))],
    loras: personas.map((p) => personaSettings(p).lora),
  },
  inputFiles: () => [],
  inputExists: (path: string) => path.startsWith('atelier/'),
}

function values(sceneIndex: number, personaIndex?: number) {
  return {
    sourceImage: 'atelier/source.png',
    mask: 'atelier/mask.png',
    prompt: 'p',
    negativePrompt: 'n',
    seed: 1234,
    filenamePrefix: 'atelier/r1',
    scene: sceneModels[sceneIndex],
    persona: personaIndex === undefined ? undefined : personaSettings(personas[personaIndex]),
  }
}

describe('ComfyUI workflow templates', () => {
  it('every scene (and every persona) fills into a graph ComfyUI’s validation accepts', async () => {
    const sceneSwap = templateFor('scene_swap')!
    const modelSwap = templateFor('model_swap')!
    for (let i = 0; i < scenes.length; i++) {
      const verdict = await validatePrompt(fillTemplate(sceneSwap, values(i)) as ApiPrompt, env)
      expect(verdict, `scene ${scenes[i].id}`).toMatchObject({ ok: true, outputs: [sceneSwap.slots.output.node] })
    }
    for (let p = 0; p < personas.length; p++) {
      const verdict = await validatePrompt(fillTemplate(modelSwap, values(p % scenes.length, p)) as ApiPrompt, env)
      expect(verdict, `persona ${personas[p].id}`).toMatchObject({ ok: true })
    }
  })

  it('fills exactly the slots and leaves the template untouched', () => {
    const template = templateFor('model_swap')!
    const before = JSON.stringify(template.graph)
    const graph = fillTemplate(template, values(0, 0))
    expect(JSON.stringify(template.graph)).toBe(before)
    expect(graph['11'].inputs).toMatchObject({ seed: 1234, steps: sceneModels[0].steps, denoise: 0.92 })
    expect(graph['2'].inputs).toMatchObject({ strength_model: 0.65, strength_clip: 0.65, model: ['1', 0] })
    expect(graph['9'].inputs.strength).toBe(sceneModels[0].controlnet.find((c) => c.type === 'canny')!.strength)
    expect(() => fillTemplate(template, values(0))).toThrow(/needs a persona/)
  })

  it('names the template and slot when template data is wrong', () => {
    const broken = structuredClone(rawTemplates[0]) as { slots: { seed: { input: string } } }
    broken.slots.seed.input = 'noise_seed'
    expect(() => parseTemplates([broken])).toThrow(
      /Invalid ComfyUI template "scene_swap"[\s\S]*node "7" \(KSampler\) has no input "noise_seed"/,
    )
    const linked = structuredClone(rawTemplates[0]) as { slots: { prompt: { node: string; input: string } } }
    linked.slots.prompt = { node: '7', input: 'positive' }
    expect(() => parseTemplates([linked])).toThrow(/"7.positive" is a link, not a value/)
    expect(() => parseTemplates([rawTemplates[0], rawTemplates[0]])).toThrow(/Two ComfyUI templates for "scene_swap"/)
    expect(templates.map((t) => `${t.id}@${t.version}`)).toEqual(['scene_swap@1', 'model_swap@1'])
  })
})

describe('planFrame', () => {
  it('keeps the source frame 1:1 when sizes match', () => {
    expect(planFrame({ width: 512, height: 512 }, { width: 512, height: 512 }, 1024)).toEqual({
      placement: { crop: { left: 0, top: 0, width: 512, height: 512 }, scale: 1, x: 0, y: 0 },
      width: 512,
      height: 512,
      work: { width: 512, height: 512 },
    })
  })

  it('fits and centres on another aspect, and shrinks the work frame to multiples of 8', () => {
    const plan = planFrame({ width: 1000, height: 1000 }, { width: 2048, height: 1536 }, 1024)
    expect(plan.placement).toEqual({ crop: { left: 0, top: 0, width: 1000, height: 1000 }, scale: 1.536, x: 256, y: 0 })
    expect([plan.width, plan.height]).toEqual([1536, 1536])
    expect(plan.work).toEqual({ width: 1024, height: 768 })
    const wide = planFrame({ width: 1200, height: 600 }, { width: 1638, height: 2048 }, 1024)
    expect(wide.placement).toMatchObject({ scale: 1638 / 1200, x: 0, y: Math.round((2048 - 819) / 2) })
    expect(wide.work).toEqual({ width: 816, height: 1024 })
  })
})
