// The ComfyUI fake as its own process, so the chaos suite can SIGKILL the GPU
// server mid-render: prints {"url": ...} once listening; `--step-ms N`.
import { comfyuiPersonaSettingsSchema, comfyuiSceneSettingsSchema } from '#app/modules/backends/comfyui/look-settings.ts'
import { personas, scenes } from '#app/modules/looks/index.ts'
import { startComfyFake } from '#test/fakes/comfyui/index.ts'

const stepArg = process.argv.indexOf('--step-ms')
const stepMs = stepArg > 0 ? Number(process.argv[stepArg + 1]) : 2
const settings = scenes.map((s) => comfyuiSceneSettingsSchema.parse(s.backends.comfyui))
const fake = await startComfyFake({
  models: {
    checkpoints: [...new Set(settings.map((s) => s.checkpoint))],
    controlnet: [...new Set(settings.flatMap((s) => s.controlnet.map((c) => c.model)))],
    loras: personas.map((p) => comfyuiPersonaSettingsSchema.parse(p.backends.comfyui).lora),
  },
  stepMs,
})
console.log(JSON.stringify({ url: fake.url }))
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)))
