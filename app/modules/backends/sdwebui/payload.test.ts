import { describe, expect, it } from 'vitest'
import { decodeBase64Image, findCheckpoint, findControlnetModel, renderedWith, safeName } from './payload.ts'

const juggernaut = {
  title: 'juggernautXL_v9.safetensors [c9e3e68f89]',
  model_name: 'juggernautXL_v9',
  filename: 'C:\\sd\\models\\Stable-diffusion\\juggernautXL_v9.safetensors',
}

describe('SD WebUI names', () => {
  it('finds a checkpoint by title, file name or stem, with or without its hash', () => {
    for (const name of ['juggernautXL_v9.safetensors', 'juggernautXL_v9.safetensors [c9e3e68f89]', 'juggernautXL_v9']) {
      expect(findCheckpoint([juggernaut], name)).toBe(juggernaut)
    }
    expect(findCheckpoint([juggernaut], 'juggernautXL_v8')).toBeUndefined()
  })

  it("tells from the result's sd_model_name whether it rendered with the checkpoint", () => {
    expect(renderedWith(juggernaut, 'juggernautXL_v9')).toBe(true)
    expect(renderedWith(juggernaut, 'sd_xl_base_1.0')).toBe(false)
  })

  it('finds a ControlNet model named without its hash, ignoring case', () => {
    const list = ['diffusers_xl_depth_mid [39c49e13]', 'controlnet-canny-sdxl']
    expect(findControlnetModel(list, 'Diffusers_XL_Depth_Mid')).toBe('diffusers_xl_depth_mid [39c49e13]')
    expect(findControlnetModel(list, 'controlnet-canny-sdxl')).toBe('controlnet-canny-sdxl')
    expect(findControlnetModel(list, 'openpose')).toBeUndefined()
  })

  it('decodes bare base64 and data URIs alike', () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47])
    expect(decodeBase64Image(bytes.toString('base64'))).toEqual(bytes)
    expect(decodeBase64Image(`data:image/png;base64,${bytes.toString('base64')}`)).toEqual(bytes)
  })

  it('keeps a render id to 48 safe characters in a task id', () => {
    expect(safeName('render/7 ü:x')).toBe('render-7-x')
    expect(safeName('a'.repeat(60))).toHaveLength(48)
  })
})
