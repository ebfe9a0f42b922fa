// ComfyUI workflow templates, as data: API-format graphs (what "Export
// (API)" saves) with their slots. Validated by templates.ts at load. Bump a
// template's `version` on any change that alters pixels.
//
// why InpaintModelConditioning and not VAEEncodeForInpaint: the latter greys
// out the masked pixels before encoding (nodes.py), so it only works at
// denoise 1.0; scenes ask for 0.35–0.62 (keep the photo's light, repaint the
// backdrop gently), which needs the original pixels under a noise mask.
// why every node has a literal default: the graph stays loadable in ComfyUI
// by itself, and a slot never points at a link.

const SCENE_SWAP = {
  id: 'scene_swap',
  version: 1,
  operation: 'scene_swap',
  description: 'Repaints everything around the kept product with the scene prompt; the product keeps its place in the photo.',
  workEdge: 1024,
  persona: 'none',
  maskSource: 'product',
  graph: {
    '1': {
      class_type: 'CheckpointLoaderSimple',
      inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' },
      _meta: { title: 'Checkpoint' },
    },
    '2': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['1', 1] }, _meta: { title: 'Scene prompt' } },
    '3': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['1', 1] }, _meta: { title: 'Negative prompt' } },
    '4': { class_type: 'LoadImage', inputs: { image: 'example.png' }, _meta: { title: 'Source photo' } },
    '5': { class_type: 'LoadImage', inputs: { image: 'example.png' }, _meta: { title: 'Keep mask (alpha = product)' } },
    '6': {
      class_type: 'InpaintModelConditioning',
      inputs: { positive: ['2', 0], negative: ['3', 0], vae: ['1', 2], pixels: ['4', 0], mask: ['5', 1], noise_mask: true },
      _meta: { title: 'Inpaint around the product' },
    },
    '7': {
      class_type: 'KSampler',
      inputs: {
        model: ['1', 0],
        seed: 0,
        steps: 20,
        cfg: 7,
        sampler_name: 'euler',
        scheduler: 'normal',
        positive: ['6', 0],
        negative: ['6', 1],
        latent_image: ['6', 2],
        denoise: 0.5,
      },
      _meta: { title: 'Sampler' },
    },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['7', 0], vae: ['1', 2] }, _meta: { title: 'Decode' } },
    '9': {
      class_type: 'SaveImage',
      inputs: { images: ['8', 0], filename_prefix: 'atelier/scene_swap' },
      _meta: { title: 'Result' },
    },
  },
  slots: {
    sourceImage: { node: '4', input: 'image' },
    mask: { node: '5', input: 'image' },
    prompt: { node: '2', input: 'text' },
    negativePrompt: { node: '3', input: 'text' },
    seed: { node: '7', input: 'seed' },
    output: { node: '9', filenamePrefix: { node: '9', input: 'filename_prefix' } },
    progress: { node: '7' },
    scene: {
      checkpoint: [{ node: '1', input: 'ckpt_name' }],
      denoise: [{ node: '7', input: 'denoise' }],
      steps: [{ node: '7', input: 'steps' }],
      cfg: [{ node: '7', input: 'cfg' }],
      sampler: [{ node: '7', input: 'sampler_name' }],
      scheduler: [{ node: '7', input: 'scheduler' }],
    },
  },
}

const MODEL_SWAP = {
  id: 'model_swap',
  version: 1,
  operation: 'model_swap',
  description:
    'Keeps the garment (the merchant mask) and repaints the person and the scene as the persona, ' +
    'with a Canny ControlNet on the photo holding the pose.',
  workEdge: 1024,
  persona: 'required',
  // why the merchant's mask: a cut-out from the backdrop would keep the whole
  // person; only a garment-only mask lets the person change.
  maskSource: 'merchant',
  controlnet: 'canny',
  graph: {
    '1': {
      class_type: 'CheckpointLoaderSimple',
      inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' },
      _meta: { title: 'Checkpoint' },
    },
    '2': {
      class_type: 'LoraLoader',
      inputs: { model: ['1', 0], clip: ['1', 1], lora_name: 'persona.safetensors', strength_model: 0.65, strength_clip: 0.65 },
      _meta: { title: 'Persona LoRA' },
    },
    '3': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['2', 1] }, _meta: { title: 'Persona and scene prompt' } },
    '4': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['2', 1] }, _meta: { title: 'Negative prompt' } },
    '5': { class_type: 'LoadImage', inputs: { image: 'example.png' }, _meta: { title: 'Source photo' } },
    '6': { class_type: 'LoadImage', inputs: { image: 'example.png' }, _meta: { title: 'Keep mask (alpha = garment)' } },
    '7': {
      class_type: 'Canny',
      inputs: { image: ['5', 0], low_threshold: 0.4, high_threshold: 0.8 },
      _meta: { title: 'Pose edges' },
    },
    '8': {
      class_type: 'ControlNetLoader',
      inputs: { control_net_name: 'controlnet-canny.safetensors' },
      _meta: { title: 'ControlNet' },
    },
    '9': {
      class_type: 'ControlNetApplyAdvanced',
      inputs: {
        positive: ['3', 0],
        negative: ['4', 0],
        control_net: ['8', 0],
        image: ['7', 0],
        strength: 0.35,
        start_percent: 0,
        end_percent: 1,
        vae: ['1', 2],
      },
      _meta: { title: 'Hold the pose' },
    },
    '10': {
      class_type: 'InpaintModelConditioning',
      inputs: { positive: ['9', 0], negative: ['9', 1], vae: ['1', 2], pixels: ['5', 0], mask: ['6', 1], noise_mask: true },
      _meta: { title: 'Inpaint around the garment' },
    },
    '11': {
      class_type: 'KSampler',
      inputs: {
        model: ['2', 0],
        seed: 0,
        steps: 20,
        cfg: 7,
        sampler_name: 'euler',
        scheduler: 'normal',
        positive: ['10', 0],
        negative: ['10', 1],
        latent_image: ['10', 2],
        // why fixed and not the scene's: a new person needs nearly full
        // denoise; the scene's low values would leave the old face showing.
        denoise: 0.92,
      },
      _meta: { title: 'Sampler' },
    },
    '12': { class_type: 'VAEDecode', inputs: { samples: ['11', 0], vae: ['1', 2] }, _meta: { title: 'Decode' } },
    '13': {
      class_type: 'SaveImage',
      inputs: { images: ['12', 0], filename_prefix: 'atelier/model_swap' },
      _meta: { title: 'Result' },
    },
  },
  slots: {
    sourceImage: { node: '5', input: 'image' },
    mask: { node: '6', input: 'image' },
    prompt: { node: '3', input: 'text' },
    negativePrompt: { node: '4', input: 'text' },
    seed: { node: '11', input: 'seed' },
    output: { node: '13', filenamePrefix: { node: '13', input: 'filename_prefix' } },
    progress: { node: '11' },
    scene: {
      checkpoint: [{ node: '1', input: 'ckpt_name' }],
      steps: [{ node: '11', input: 'steps' }],
      cfg: [{ node: '11', input: 'cfg' }],
      sampler: [{ node: '11', input: 'sampler_name' }],
      scheduler: [{ node: '11', input: 'scheduler' }],
      controlnetModel: [{ node: '8', input: 'control_net_name' }],
      controlnetStrength: [{ node: '9', input: 'strength' }],
    },
    persona: {
      lora: [{ node: '2', input: 'lora_name' }],
      loraStrength: [
        { node: '2', input: 'strength_model' },
        { node: '2', input: 'strength_clip' },
      ],
    },
  },
}

export const rawTemplates: readonly unknown[] = [SCENE_SWAP, MODEL_SWAP]
