import { parseLookData, personaSchema, type Persona } from './schema.ts'

// Model personas: who wears the garment. Each one says how every GPU backend
// realises it. Bump `version` whenever a change would alter pixels (prompt,
// LoRA, weights, preset id): renders record the version they used.

// why: shared so a fix to anatomy artefacts lands on every persona at once.
// Changing it alters pixels, so it is versioned through every persona's version.
const PERSONA_NEGATIVE =
  'deformed hands, extra fingers, fused fingers, distorted face, asymmetric eyes, plastic skin, airbrushed skin, ' +
  'doll-like, cartoon, 3d render, cgi, watermark, logo, text, cropped head, duplicate person'

type PersonaInput = Omit<Persona, 'backends' | 'nameKey'> & {
  /** LoRA strength: stronger for a consistent brand face, weaker for more natural variety. */
  loraStrength?: number
  /** WeShop preset model; ids come from `GET /openapi/v1/agent/info?agentName=aimodel`. */
  weshopModelId: string
}

/** Per-backend settings derived from one prompt, so the three backends cannot drift apart. */
function persona(input: PersonaInput): unknown {
  const { loraStrength = 0.65, weshopModelId, ...rest } = input
  const lora = `atelier-persona-${input.id}-v${input.version}`
  return {
    ...rest,
    nameKey: `looks.persona.${input.id}.name`,
    backends: {
      comfyui: {
        promptFragment: input.prompt,
        negativeFragment: PERSONA_NEGATIVE,
        lora: `${lora}.safetensors`,
        loraStrength,
      },
      sdwebui: {
        prompt: `${input.prompt}, <lora:${lora}:${loraStrength}>`,
        negative_prompt: PERSONA_NEGATIVE,
      },
      weshop: { fashionModelId: weshopModelId, textDescription: input.prompt },
    },
  }
}

const rawPersonas: unknown[] = [
  persona({
    id: 'amara',
    version: 1,
    presentation: 'feminine',
    ageBand: '25-34',
    skinTone: 'VI',
    bodySize: 'S',
    hair: 'short natural 4C coils, tapered at the sides',
    swatch: [92, 60, 42],
    prompt:
      'woman in her late twenties with deep brown skin, short natural coily hair tapered at the sides, slim build, ' +
      'high cheekbones, relaxed confident posture, soft natural smile',
    weshopModelId: 'ws-aimodel-f-black-25-01',
  }),
  persona({
    id: 'sofia',
    version: 1,
    presentation: 'feminine',
    ageBand: '18-24',
    skinTone: 'III',
    bodySize: 'XS',
    hair: 'long dark brown waves with a centre part',
    swatch: [212, 170, 132],
    prompt:
      'young Mediterranean woman in her early twenties with light olive skin, long dark brown wavy hair parted in the centre, ' +
      'petite slim build, easy natural pose, warm expression',
    weshopModelId: 'ws-aimodel-f-latina-20-02',
  }),
  persona({
    id: 'mei',
    version: 1,
    presentation: 'feminine',
    ageBand: '25-34',
    skinTone: 'III',
    bodySize: 'S',
    hair: 'straight black shoulder-length hair with wispy bangs',
    swatch: [222, 184, 150],
    prompt:
      'East Asian woman around thirty with fair warm skin, straight black shoulder-length hair with wispy bangs, slim build, ' +
      'gentle composed expression, elegant upright posture',
    weshopModelId: 'ws-aimodel-f-eastasian-28-03',
  }),
  persona({
    id: 'hana',
    version: 1,
    presentation: 'feminine',
    ageBand: '18-24',
    skinTone: 'II',
    bodySize: 'XS',
    hair: 'soft black bob at chin length with see-through bangs',
    swatch: [236, 204, 178],
    prompt:
      'young Japanese woman in her early twenties with fair skin, chin-length soft black bob with see-through bangs, ' +
      'petite build, natural light makeup, shy gentle smile',
    weshopModelId: 'ws-aimodel-f-eastasian-21-04',
  }),
  persona({
    id: 'seoyeon',
    version: 1,
    presentation: 'feminine',
    ageBand: '25-34',
    skinTone: 'II',
    bodySize: 'S',
    hair: 'long straight dark brown hair, loosely tucked behind one ear',
    swatch: [238, 208, 184],
    prompt:
      'Korean woman in her mid twenties with fair clear skin, long straight dark brown hair tucked behind one ear, slim build, ' +
      'dewy natural makeup, calm confident expression',
    weshopModelId: 'ws-aimodel-f-eastasian-25-05',
  }),
  persona({
    id: 'camille',
    version: 1,
    presentation: 'feminine',
    ageBand: '25-34',
    skinTone: 'II',
    bodySize: 'M',
    hair: 'messy light brown bob with curtain bangs',
    swatch: [234, 200, 172],
    prompt:
      'French woman around thirty with fair skin and a few freckles, messy light brown bob with curtain bangs, average build, ' +
      'effortless relaxed pose, minimal makeup',
    weshopModelId: 'ws-aimodel-f-white-30-06',
  }),
  persona({
    id: 'chloe',
    version: 1,
    presentation: 'feminine',
    ageBand: '35-44',
    skinTone: 'II',
    bodySize: 'L',
    hair: 'shoulder-length auburn hair with soft layers',
    swatch: [240, 206, 182],
    prompt:
      'woman around forty with fair freckled skin, shoulder-length auburn hair with soft layers, medium-full build, ' +
      'friendly open smile, natural everyday pose',
    weshopModelId: 'ws-aimodel-f-white-40-07',
  }),
  persona({
    id: 'ingrid',
    version: 1,
    presentation: 'feminine',
    ageBand: '45-54',
    skinTone: 'I',
    bodySize: 'M',
    hair: 'silver-blonde chin-length bob',
    swatch: [246, 226, 212],
    prompt:
      'Scandinavian woman around fifty with very fair skin and fine laugh lines, silver-blonde chin-length bob, average build, ' +
      'tall upright posture, calm self-assured expression',
    weshopModelId: 'ws-aimodel-f-white-50-08',
  }),
  persona({
    id: 'grace',
    version: 1,
    presentation: 'feminine',
    ageBand: '35-44',
    skinTone: 'V',
    bodySize: '2XL',
    hair: 'shoulder-length knotless box braids',
    swatch: [140, 94, 62],
    prompt:
      'plus-size woman in her late thirties with rich brown skin, shoulder-length knotless box braids, curvy full-figured build, ' +
      'US size 20, confident joyful expression, natural body proportions',
    weshopModelId: 'ws-aimodel-f-black-plus-38-09',
  }),
  persona({
    id: 'lucia',
    version: 1,
    presentation: 'feminine',
    ageBand: '55+',
    skinTone: 'IV',
    bodySize: 'XL',
    hair: 'silver-grey hair gathered in a low loose bun',
    swatch: [184, 136, 98],
    prompt:
      'Brazilian woman around sixty with warm tan skin and natural wrinkles, silver-grey hair in a low loose bun, ' +
      'full-figured build, graceful relaxed pose, warm smile',
    weshopModelId: 'ws-aimodel-f-latina-60-10',
  }),
  persona({
    id: 'noor',
    version: 1,
    presentation: 'feminine',
    ageBand: '25-34',
    skinTone: 'IV',
    bodySize: 'M',
    hair: 'covered by a sand-coloured chiffon hijab',
    swatch: [190, 142, 104],
    prompt:
      'Arab woman around thirty with warm olive-tan skin, wearing a sand-coloured chiffon hijab that covers the hair, ' +
      'average build, modest elegant styling, poised serene expression',
    weshopModelId: 'ws-aimodel-f-arab-30-11',
  }),
  persona({
    id: 'marcus',
    version: 1,
    presentation: 'masculine',
    ageBand: '25-34',
    skinTone: 'VI',
    bodySize: 'L',
    hair: 'close-cropped hair with a short well-groomed beard',
    swatch: [88, 58, 40],
    prompt:
      'man around thirty with deep brown skin, close-cropped hair and a short well-groomed beard, athletic broad-shouldered build, ' +
      'relaxed confident stance',
    weshopModelId: 'ws-aimodel-m-black-30-12',
  }),
  persona({
    id: 'kenji',
    version: 1,
    presentation: 'masculine',
    ageBand: '35-44',
    skinTone: 'III',
    bodySize: 'M',
    hair: 'short black hair with a neat side part',
    swatch: [218, 180, 144],
    prompt:
      'Japanese man around forty with light warm skin, short black hair with a neat side part, average lean build, ' +
      'calm composed expression, straight posture',
    weshopModelId: 'ws-aimodel-m-eastasian-40-13',
  }),
  persona({
    id: 'minho',
    version: 1,
    presentation: 'masculine',
    ageBand: '25-34',
    skinTone: 'II',
    bodySize: 'S',
    hair: 'two-block cut with a soft comma fringe',
    swatch: [234, 206, 180],
    prompt:
      'Korean man in his late twenties with fair skin, dark brown two-block haircut with a soft comma fringe, slim build, ' +
      'clean-shaven, cool relaxed expression',
    weshopModelId: 'ws-aimodel-m-eastasian-27-14',
  }),
  persona({
    id: 'hao',
    version: 1,
    presentation: 'masculine',
    ageBand: '18-24',
    skinTone: 'III',
    bodySize: 'M',
    hair: 'short textured black hair, slightly longer on top',
    swatch: [220, 182, 146],
    prompt:
      'young Chinese man in his early twenties with light warm skin, short textured black hair slightly longer on top, ' +
      'average build, clean-shaven, easy casual stance',
    weshopModelId: 'ws-aimodel-m-eastasian-22-15',
  }),
  persona({
    id: 'lukas',
    version: 1,
    presentation: 'masculine',
    ageBand: '25-34',
    skinTone: 'II',
    bodySize: 'M',
    hair: 'short light brown hair, textured crop with light stubble',
    swatch: [236, 204, 176],
    prompt:
      'German man around thirty with fair skin, short light brown textured crop and light stubble, average athletic build, ' +
      'natural straightforward expression',
    weshopModelId: 'ws-aimodel-m-white-30-16',
  }),
  persona({
    id: 'omar',
    version: 1,
    presentation: 'masculine',
    ageBand: '45-54',
    skinTone: 'IV',
    bodySize: 'XL',
    hair: 'short dark hair greying at the temples, neatly trimmed beard',
    swatch: [178, 128, 90],
    prompt:
      'Middle Eastern man around fifty with olive-tan skin, short dark hair greying at the temples, neatly trimmed full beard, ' +
      'broad solid build, dignified relaxed posture',
    weshopModelId: 'ws-aimodel-m-arab-50-17',
  }),
  persona({
    id: 'rafael',
    version: 1,
    presentation: 'masculine',
    ageBand: '25-34',
    skinTone: 'V',
    bodySize: '3XL',
    hair: 'short dark curly hair with a full beard',
    swatch: [136, 92, 60],
    prompt:
      'plus-size Brazilian man around thirty with brown skin, short dark curly hair and a full beard, big and tall build, ' +
      'US size 3XL, natural body proportions, cheerful easy-going expression',
    weshopModelId: 'ws-aimodel-m-latino-plus-30-18',
  }),
  persona({
    id: 'henri',
    version: 1,
    presentation: 'masculine',
    ageBand: '55+',
    skinTone: 'I',
    bodySize: 'L',
    hair: 'thick white hair swept back, clean-shaven',
    swatch: [244, 222, 206],
    prompt:
      'distinguished man in his early sixties with very fair skin and natural wrinkles, thick white hair swept back, ' +
      'clean-shaven, solid medium-full build, relaxed elegant posture',
    weshopModelId: 'ws-aimodel-m-white-60-19',
  }),
  persona({
    id: 'river',
    version: 1,
    presentation: 'androgynous',
    ageBand: '25-34',
    skinTone: 'II',
    bodySize: 'S',
    hair: 'bleached platinum buzz cut',
    swatch: [232, 204, 182],
    prompt:
      'androgynous person in their late twenties with fair skin, bleached platinum buzz cut, slim straight build, ' +
      'strong brows, neutral cool expression, editorial stance',
    weshopModelId: 'ws-aimodel-a-white-27-20',
  }),
  persona({
    id: 'jun',
    version: 1,
    presentation: 'androgynous',
    ageBand: '18-24',
    skinTone: 'III',
    bodySize: 'XS',
    hair: 'layered black wolf cut covering the ears',
    swatch: [222, 186, 152],
    prompt:
      'androgynous East Asian person in their early twenties with light skin, layered black wolf cut covering the ears, ' +
      'slender build, soft neutral expression, relaxed slouch',
    weshopModelId: 'ws-aimodel-a-eastasian-21-21',
  }),
]

export const personas: readonly Persona[] = parseLookData('persona', personaSchema, rawPersonas)
