import { parseLookData, sceneSchema, type CpuStudioScene, type Scene } from './schema.ts'

// Scene templates: where the product is shown. The cpu-studio section is what
// the built-in backend composes on a laptop; the GPU sections are prompts and
// strengths for ComfyUI, SD WebUI and WeShop. Bump `version` on any change
// that alters pixels.

// why: one checkpoint for every scene. Switching checkpoints makes SD WebUI and
// ComfyUI reload the model (tens of seconds of idle GPU), so scenes differ only
// in prompts and strengths, never in the model they need.
const SDXL_CHECKPOINT = 'juggernautXL_v9Rdphoto2Lightning.safetensors'
const SD15_CHECKPOINT = 'realisticVisionV60B1_v51HyperVAE.safetensors'

// why: the product must not change; these words push the sampler away from the
// usual ways it drifts (recolouring, re-printing, thickening straps).
const SCENE_NEGATIVE =
  'altered garment, changed print, changed colour, different fabric, extra straps, thicker straps, distorted logo, ' +
  'lowres, blurry, oversaturated, harsh shadows, watermark, text, frame, border'

interface SceneInput {
  id: string
  version: number
  category: Scene['category']
  preview: Scene['preview']
  prompt: string
  cpu: CpuStudioScene
  /** Share of the background that may be repainted; low keeps studio scenes clean. */
  denoise: number
  /** Depth ControlNet keeps the floor and perspective plausible around the product. */
  depthStrength: number
  weshopLocationId: string
}

function scene(input: SceneInput): unknown {
  return {
    id: input.id,
    version: input.version,
    nameKey: `looks.scene.${input.id}.name`,
    category: input.category,
    preview: input.preview,
    prompt: input.prompt,
    backends: {
      'cpu-studio': input.cpu,
      comfyui: {
        checkpoint: SDXL_CHECKPOINT,
        prompt: input.prompt,
        negative: SCENE_NEGATIVE,
        denoise: input.denoise,
        steps: 8,
        cfg: 2,
        sampler: 'dpmpp_sde',
        scheduler: 'karras',
        controlnet: [
          { type: 'depth', model: 'controlnet-depth-sdxl-1.0.safetensors', strength: input.depthStrength },
          { type: 'canny', model: 'controlnet-canny-sdxl-1.0.safetensors', strength: 0.35 },
        ],
      },
      sdwebui: {
        checkpoint: SD15_CHECKPOINT,
        prompt: input.prompt,
        negative_prompt: SCENE_NEGATIVE,
        denoising_strength: input.denoise,
        steps: 28,
        cfg_scale: 5.5,
        sampler_name: 'DPM++ 2M',
        scheduler: 'Karras',
        controlnet: [
          { module: 'depth_midas', model: 'control_v11f1p_sd15_depth', weight: input.depthStrength, control_mode: 'Balanced' },
          { module: 'canny', model: 'control_v11p_sd15_canny', weight: 0.35, control_mode: 'My prompt is more important' },
        ],
      },
      weshop: { locationId: input.weshopLocationId, textDescription: input.prompt },
    },
  }
}

const rawScenes: unknown[] = [
  scene({
    id: 'studio-white',
    version: 1,
    category: 'studio',
    preview: { from: [255, 255, 255], to: [238, 238, 238] },
    prompt: 'professional e-commerce studio photo, pure white seamless background, soft even key light, subtle floor shadow',
    cpu: {
      background: { kind: 'solid', color: [255, 255, 255] },
      productScale: 0.84,
      floorY: 0.93,
      shadow: { opacity: 0.22, blur: 18, offsetY: 6 },
      lightMatch: 0,
      lightColor: [255, 255, 255],
    },
    denoise: 0.35,
    depthStrength: 0.3,
    weshopLocationId: 'ws-location-studio-white',
  }),
  scene({
    id: 'grey-seamless',
    version: 1,
    category: 'studio',
    preview: { from: [236, 236, 236], to: [200, 200, 203] },
    prompt: 'fashion studio photo, light grey seamless paper backdrop, large softbox from the left, gentle gradient falloff',
    cpu: {
      background: { kind: 'linear', from: [238, 238, 238], to: [204, 204, 207], angle: 180 },
      productScale: 0.82,
      floorY: 0.92,
      shadow: { opacity: 0.32, blur: 22, offsetY: 8 },
      lightMatch: 0.02,
      lightColor: [246, 246, 250],
    },
    denoise: 0.4,
    depthStrength: 0.35,
    weshopLocationId: 'ws-location-studio-grey',
  }),
  scene({
    id: 'warm-gradient',
    version: 1,
    category: 'studio',
    preview: { from: [250, 234, 216], to: [222, 190, 162] },
    prompt: 'studio photo, warm peach-to-sand gradient backdrop, soft golden key light, calm minimal mood',
    cpu: {
      background: { kind: 'linear', from: [250, 236, 220], to: [224, 194, 166], angle: 160 },
      productScale: 0.8,
      floorY: 0.92,
      shadow: { opacity: 0.28, blur: 26, offsetY: 10 },
      lightMatch: 0.04,
      lightColor: [255, 240, 222],
    },
    denoise: 0.42,
    depthStrength: 0.35,
    weshopLocationId: 'ws-location-studio-warm',
  }),
  scene({
    id: 'cream-minimal',
    version: 1,
    category: 'studio',
    preview: { from: [250, 245, 236], to: [228, 216, 198] },
    prompt: 'minimal cream-toned set, soft vignette, diffused daylight, clean modern lookbook aesthetic',
    cpu: {
      background: { kind: 'radial', inner: [250, 245, 236], outer: [230, 219, 202] },
      productScale: 0.8,
      floorY: 0.92,
      shadow: { opacity: 0.24, blur: 30, offsetY: 8 },
      lightMatch: 0.03,
      lightColor: [255, 246, 232],
    },
    denoise: 0.4,
    depthStrength: 0.35,
    weshopLocationId: 'ws-location-studio-cream',
  }),
  scene({
    id: 'street',
    version: 1,
    category: 'outdoor',
    preview: { from: [196, 198, 202], to: [96, 100, 108] },
    prompt:
      'street style photo on a city sidewalk, stone facades and shop windows softly out of focus, overcast daylight, 50mm lens',
    cpu: {
      background: {
        kind: 'procedural',
        generator: 'street',
        palette: [
          [182, 184, 188],
          [124, 128, 134],
          [214, 206, 192],
          [72, 76, 84],
        ],
      },
      productScale: 0.72,
      floorY: 0.94,
      shadow: { opacity: 0.38, blur: 14, offsetY: 4 },
      lightMatch: 0.05,
      lightColor: [246, 244, 238],
    },
    denoise: 0.62,
    depthStrength: 0.55,
    weshopLocationId: 'ws-location-city-street',
  }),
  scene({
    id: 'beach',
    version: 1,
    category: 'outdoor',
    preview: { from: [150, 200, 236], to: [232, 214, 178] },
    prompt: 'sunny beach in late afternoon, pale sand and calm turquoise sea, soft backlight, airy summer campaign photo',
    cpu: {
      background: {
        kind: 'procedural',
        generator: 'beach',
        palette: [
          [142, 196, 232],
          [232, 216, 182],
          [250, 248, 240],
          [70, 150, 190],
        ],
      },
      productScale: 0.7,
      floorY: 0.95,
      shadow: { opacity: 0.34, blur: 10, offsetY: 3 },
      lightMatch: 0.06,
      lightColor: [255, 244, 224],
    },
    denoise: 0.62,
    depthStrength: 0.5,
    weshopLocationId: 'ws-location-beach',
  }),
  scene({
    id: 'cafe-interior',
    version: 1,
    category: 'indoor',
    preview: { from: [226, 204, 176], to: [112, 80, 58] },
    prompt: 'cosy café interior, warm wood and cream walls, window light from the side, shallow depth of field, lifestyle photo',
    cpu: {
      background: {
        kind: 'procedural',
        generator: 'cafe',
        palette: [
          [122, 86, 62],
          [198, 162, 122],
          [236, 222, 200],
          [62, 46, 38],
        ],
      },
      productScale: 0.74,
      floorY: 0.94,
      shadow: { opacity: 0.36, blur: 20, offsetY: 6 },
      lightMatch: 0.06,
      lightColor: [255, 234, 204],
    },
    denoise: 0.6,
    depthStrength: 0.5,
    weshopLocationId: 'ws-location-cafe',
  }),
  scene({
    id: 'loft',
    version: 1,
    category: 'lifestyle',
    preview: { from: [214, 212, 206], to: [148, 92, 72] },
    prompt:
      'industrial loft apartment, exposed red brick, concrete floor, tall steel-framed windows, soft daylight, editorial lifestyle photo',
    cpu: {
      background: {
        kind: 'procedural',
        generator: 'loft',
        palette: [
          [152, 92, 72],
          [202, 200, 196],
          [92, 94, 98],
          [236, 234, 228],
        ],
      },
      productScale: 0.74,
      floorY: 0.94,
      shadow: { opacity: 0.36, blur: 18, offsetY: 6 },
      lightMatch: 0.04,
      lightColor: [244, 242, 236],
    },
    denoise: 0.6,
    depthStrength: 0.55,
    weshopLocationId: 'ws-location-loft',
  }),
  scene({
    id: 'magazine-cover',
    version: 1,
    category: 'editorial',
    preview: { from: [250, 246, 240], to: [222, 64, 64] },
    prompt:
      'fashion magazine cover shoot, clean off-white backdrop with a bold colour block, crisp beauty lighting, high-end editorial',
    cpu: {
      background: {
        kind: 'procedural',
        generator: 'magazine',
        palette: [
          [226, 62, 62],
          [250, 246, 240],
          [22, 22, 26],
        ],
      },
      productScale: 0.8,
      floorY: 0.96,
      shadow: { opacity: 0.2, blur: 24, offsetY: 8 },
      lightMatch: 0.02,
      lightColor: [255, 255, 255],
    },
    denoise: 0.5,
    depthStrength: 0.4,
    weshopLocationId: 'ws-location-editorial',
  }),
]

export const scenes: readonly Scene[] = parseLookData('scene', sceneSchema, rawScenes)
