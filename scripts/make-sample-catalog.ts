// Generates the sample folder catalog (`npm run catalog:sample [dir] [handle]`):
// synthetic but realistic product photos drawn as SVG and rendered with sharp,
// plus a product.json per product. Deterministic: same code, same sharp build
// and fonts, same bytes. Pass a handle to regenerate just that product.
//
// why SVG input is fine here: this is our own trusted SVG, rendered only in
// this generator. The app itself never accepts SVG uploads.

import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'

interface Drawing {
  /** Design box the drawing uses; it is fitted into the canvas. */
  w: number
  h: number
  defs: string
  body: string
  /** Silhouette as SVG shapes (paths only, no groups): a flat-lay drop shadow is cast from it. */
  silhouette?: string
}

interface SampleImage {
  file: string
  alt: string
  width: number
  height: number
  /** Canvas colour; null = transparent (PNG with alpha). */
  background: string | null
  /** Full-canvas layer drawn under the product instead of a plain colour. */
  backdrop?: (w: number, h: number) => { defs: string; body: string }
  /** Share of the canvas the design box may fill. */
  fill: number
  /** Vertical offset of the drawing's centre, share of the canvas height. */
  shiftY?: number
  /** Soft contact shadow under a standing product: an ellipse, in design-box shares. */
  shadow?: { y: number; rx: number; ry: number; opacity: number }
  /** Flat-lay drop shadow cast from the drawing's outline (opacity). */
  dropShadow?: number
  draw: () => Drawing
}

interface SampleProduct {
  handle: string
  title: string
  vendor: string
  productType: string
  /** What the built-in CPU backend is expected to do with it (for the README / demo). */
  cpuOutcome: string
  images: SampleImage[]
}

const JPEG_QUALITY = 88
const WHITE = '#ffffff'
const OFF_WHITE = '#f4f4f2'
const LIGHT_GREY = '#e7e7e8'

/** Small deterministic PRNG (mulberry32): same seed, same catalog. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const f1 = (n: number) => Math.round(n * 10) / 10

/** A path mirrored around the vertical centre of a `w`-wide box (usable inside clipPath). */
function mirrorPath(w: number, d: string, attrs = ''): string {
  return `<path d="${d}" transform="translate(${w} 0) scale(-1 1)" ${attrs}/>`
}

/** The same SVG drawn again, mirrored around the vertical centre of a `w`-wide box. */
function mirrored(w: number, svg: string): string {
  return `${svg}<g transform="translate(${w} 0) scale(-1 1)">${svg}</g>`
}

// ---------- shared SVG pieces ----------

/**
 * Text set letter by letter on a circle (angles in degrees, 0 = top, clockwise).
 * why: librsvg as bundled with sharp does not render <textPath>.
 */
function arcText(text: string, cx: number, cy: number, r: number, spacingDeg: number, attrs: string): string {
  const chars = [...text]
  return chars
    .map((ch, i) => {
      const deg = (i - (chars.length - 1) / 2) * spacingDeg
      const rad = (deg * Math.PI) / 180
      const x = f1(cx + r * Math.sin(rad))
      const y = f1(cy - r * Math.cos(rad))
      return `<text x="${x}" y="${y}" transform="rotate(${f1(deg)} ${x} ${y})" text-anchor="middle" ${attrs}>${ch}</text>`
    })
    .join('')
}

function softFilters(): string {
  return `
    <filter id="blur6" x="-20%" y="-20%" width="140%" height="140%"><feGaussianBlur stdDeviation="6"/></filter>
    <filter id="blur14" x="-30%" y="-30%" width="160%" height="160%"><feGaussianBlur stdDeviation="14"/></filter>
    <filter id="blur30" x="-50%" y="-50%" width="200%" height="200%"><feGaussianBlur stdDeviation="30"/></filter>
    <filter id="grain" x="0" y="0" width="100%" height="100%">
      <feTurbulence type="fractalNoise" baseFrequency="0.85" numOctaves="2" seed="7"/>
      <feColorMatrix type="matrix" values="0 0 0 0 0.5  0 0 0 0 0.5  0 0 0 0 0.5  0 0 0 0.9 0"/>
    </filter>`
}

/** A fold: a blurred dark stroke with a lighter ridge beside it. */
function fold(d: string, width: number, dark = 0.2, light = 0.1, dx = 6, color = '#000'): string {
  return `<path d="${d}" fill="none" stroke="${color}" stroke-opacity="${dark}" stroke-width="${width}" stroke-linecap="round" filter="url(#blur6)"/>
    <path d="${d}" transform="translate(${dx} 0)" fill="none" stroke="#fff" stroke-opacity="${light}" stroke-width="${width * 0.6}" stroke-linecap="round" filter="url(#blur6)"/>`
}

/** Topstitching: a dashed thread line. */
function stitch(d: string, color: string, width = 2, dash = '7 5', opacity = 0.9): string {
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}" stroke-dasharray="${dash}" stroke-linecap="round" stroke-opacity="${opacity}"/>`
}

/** Seam: a thin darker line. */
function seam(d: string, opacity = 0.25, width = 2.5): string {
  return `<path d="${d}" fill="none" stroke="#000" stroke-opacity="${opacity}" stroke-width="${width}" stroke-linecap="round"/>`
}

/** Left-to-right shading gradient: darker at the sides, lit from the upper left. */
function bodyGradient(id: string, base: string, dark: string, light: string): string {
  return `<linearGradient id="${id}" x1="0" y1="0" x2="1" y2="0">
      <stop offset="0" stop-color="${dark}"/><stop offset="0.18" stop-color="${base}"/>
      <stop offset="0.42" stop-color="${light}"/><stop offset="0.7" stop-color="${base}"/>
      <stop offset="1" stop-color="${dark}"/></linearGradient>`
}

/** Fabric grain, clipped to a shape, at low opacity. */
function grain(clipId: string, w: number, h: number, opacity: number): string {
  return `<rect x="0" y="0" width="${w}" height="${h}" filter="url(#grain)" opacity="${opacity}" clip-path="url(#${clipId})"/>`
}

// ---------- garments ----------

function tee(): Drawing {
  const w = 1000
  const h = 1000
  const outline = `M 400 140 Q 500 232 600 140 C 640 150 690 160 725 172 C 790 200 860 262 915 322 L 850 440
    C 812 422 778 406 748 392 C 752 560 756 720 760 902 C 600 918 400 918 240 902 C 244 720 248 560 252 392
    C 222 406 188 422 150 440 L 85 322 C 140 262 210 200 275 172 C 310 160 360 150 400 140 Z`
  const defs = `
    ${bodyGradient('teeBody', '#34405e', '#232c44', '#3d4a6b')}
    <radialGradient id="teeLight" cx="0.38" cy="0.28" r="0.7"><stop offset="0" stop-color="#fff" stop-opacity="0.10"/><stop offset="1" stop-color="#fff" stop-opacity="0"/></radialGradient>
    <clipPath id="teeClip"><path d="${outline}"/></clipPath>`
  const body = `
    <path d="${outline}" fill="url(#teeBody)"/>
    <g clip-path="url(#teeClip)">
      <rect width="${w}" height="${h}" fill="url(#teeLight)"/>
      <path d="M 400 140 Q 500 176 600 140 Q 500 232 400 140 Z" fill="#1a2033"/>
      ${fold('M 262 410 C 320 470 350 560 338 660', 24, 0.3, 0.12)}
      ${fold('M 738 410 C 690 480 664 560 676 680', 24, 0.28, 0.12)}
      ${fold('M 420 905 C 430 850 445 800 470 760', 18, 0.24)}
      ${fold('M 600 905 C 590 860 570 830 540 790', 16, 0.22)}
      ${fold('M 300 250 C 330 300 345 330 352 370', 14, 0.16)}
      ${fold('M 700 250 C 676 290 664 330 660 372', 12, 0.14)}
      ${fold('M 160 400 C 200 380 230 370 262 372', 12, 0.2)}
      ${fold('M 840 400 C 800 380 770 370 738 372', 12, 0.2)}
      <g font-family="DejaVu Sans" text-anchor="middle">
        <circle cx="500" cy="420" r="74" fill="#e9a23b"/>
        ${[0, 1, 2, 3, 4].map((i) => `<rect x="420" y="${392 + i * 14}" width="160" height="5" fill="#34405e" opacity="0.9"/>`).join('')}
        <path d="M 372 520 L 446 430 L 492 482 L 540 422 L 628 520 Z" fill="#efe6d2"/>
        <path d="M 446 430 L 470 458 L 458 470 L 446 452 L 434 466 Z" fill="#d9ccb1"/>
        <path d="M 540 422 L 562 448 L 550 456 L 540 444 L 528 452 Z" fill="#d9ccb1"/>
        <text x="500" y="582" font-size="50" font-weight="bold" letter-spacing="7" fill="#efe6d2">SUNDAY</text>
        <text x="500" y="626" font-size="27" font-weight="bold" letter-spacing="9" fill="#e9a23b">SUPPLY CO.</text>
        <text x="500" y="662" font-size="17" letter-spacing="5" fill="#efe6d2" opacity="0.85">EST. 2019 · GOOD DAYS</text>
      </g>
      ${grain('teeClip', w, h, 0.07)}
    </g>
    <path d="M 398 142 Q 500 240 602 142" fill="none" stroke="#2a3450" stroke-width="24"/>
    ${stitch('M 386 150 Q 500 262 614 150', '#1c2336', 2.2, '6 4')}
    ${seam('M 725 172 C 712 250 722 330 748 392')}
    ${seam('M 275 172 C 288 250 278 330 252 392')}
    ${stitch('M 895 311 L 830 430', '#1c2336', 2.2, '6 4')}
    ${stitch('M 105 311 L 170 430', '#1c2336', 2.2, '6 4')}
    ${stitch('M 243 878 C 400 894 600 894 757 878', '#1c2336', 2.2, '6 4')}`
  return { w, h, defs, body, silhouette: `<path d="${outline}"/>` }
}

function stripedLongSleeve(): Drawing {
  const w = 1000
  const h = 1100
  const sleeve = 'M 260 172 C 200 360 120 580 70 770 L 160 800 C 200 640 248 500 292 380 C 288 320 278 250 260 172 Z'
  const torso = `M 405 150 Q 500 178 595 150 L 740 172 C 722 250 712 320 708 380 C 712 600 714 820 716 1040
    C 570 1054 430 1054 284 1040 C 286 820 288 600 292 380 C 288 320 278 250 260 172 Z`
  const outline = `M 405 150 Q 500 178 595 150 L 740 172 C 800 360 880 580 930 770 L 840 800 C 800 640 752 500 708 380
    C 712 600 714 820 716 1040 C 570 1054 430 1054 284 1040 C 286 820 288 600 292 380 C 248 500 200 640 160 800
    L 70 770 C 120 580 200 360 260 172 Z`
  const ecru = '#f2ede1'
  const navy = '#1f2b4d'
  const defs = `
    <pattern id="stripesBody" width="40" height="46" patternUnits="userSpaceOnUse" y="300"><rect width="40" height="46" fill="${ecru}"/><rect y="0" width="40" height="17" fill="${navy}"/></pattern>
    <pattern id="stripesSleeve" width="40" height="46" patternUnits="userSpaceOnUse" patternTransform="rotate(18)"><rect width="40" height="46" fill="${ecru}"/><rect y="0" width="40" height="17" fill="${navy}"/></pattern>
    <linearGradient id="lsShade" x1="0" y1="0" x2="1" y2="0">
      <stop offset="0" stop-color="#000" stop-opacity="0.16"/><stop offset="0.3" stop-color="#000" stop-opacity="0"/>
      <stop offset="0.7" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.16"/></linearGradient>
    <clipPath id="lsClip"><path d="${outline}"/></clipPath>
    <clipPath id="lsTorso"><path d="${torso}"/></clipPath>`
  const sleeveSide = `
    <path d="${sleeve}" fill="url(#stripesSleeve)"/>
    <path d="M 70 770 L 160 800 L 172 762 L 82 732 Z" fill="${ecru}"/>
    ${[0, 1, 2, 3, 4, 5, 6].map((i) => seam(`M ${f1(80 + i * 13)} ${f1(734 + i * 4.3)} L ${f1(70 + i * 13)} ${f1(769 + i * 4.3)}`, 0.12, 1.5)).join('')}
    ${seam('M 82 732 L 172 762', 0.22, 2)}
    ${seam('M 260 172 C 278 250 288 320 292 380', 0.3, 2.5)}`
  const body = `
    ${mirrored(w, sleeveSide)}
    <path d="${torso}" fill="${ecru}"/>
    <rect x="0" y="300" width="${w}" height="${h}" fill="url(#stripesBody)" clip-path="url(#lsTorso)"/>
    <g clip-path="url(#lsClip)">
      <rect width="${w}" height="${h}" fill="url(#lsShade)"/>
      ${fold('M 300 420 C 350 500 370 620 360 760', 40, 0.1, 0.12, 10, '#3a3550')}
      ${fold('M 700 420 C 650 520 640 640 650 780', 40, 0.09, 0.12, 10, '#3a3550')}
      ${fold('M 470 1040 C 480 960 500 900 520 860', 30, 0.08, 0.1, 8, '#3a3550')}
      ${fold('M 180 520 C 170 580 150 650 130 720', 26, 0.1, 0.1, 8, '#3a3550')}
      ${fold('M 820 520 C 830 580 850 650 870 720', 26, 0.1, 0.1, 8, '#3a3550')}
      ${grain('lsClip', w, h, 0.08)}
    </g>
    <path d="M 405 150 Q 500 178 595 150" fill="none" stroke="${ecru}" stroke-width="22"/>
    <path d="M 405 150 Q 500 178 595 150" fill="none" stroke="#000" stroke-opacity="0.12" stroke-width="22"/>
    ${stitch('M 400 164 Q 500 194 600 164', navy, 2, '5 4', 0.6)}
    ${stitch('M 290 1018 C 430 1030 570 1030 710 1018', navy, 2, '5 4', 0.5)}
    ${seam('M 716 1040 L 716 980', 0.35, 2)}
    ${seam('M 284 1040 L 284 980', 0.35, 2)}`
  return { w, h, defs, body, silhouette: `<path d="${outline}"/>` }
}

function slipDress(): Drawing {
  const w = 600
  const h = 1000
  const dress = `M 180 250 C 220 232 262 250 300 330 C 338 250 380 232 420 250 C 428 330 418 400 410 440
    C 440 640 490 860 524 962 Q 300 996 76 962 C 110 860 160 640 190 440 C 182 400 172 330 180 250 Z`
  const defs = `
    <linearGradient id="satin" x1="0" y1="0" x2="1" y2="0">
      <stop offset="0" stop-color="#b9987a"/><stop offset="0.12" stop-color="#dcc3a5"/><stop offset="0.22" stop-color="#f3e4cf"/>
      <stop offset="0.3" stop-color="#d7bc9c"/><stop offset="0.45" stop-color="#ead6bd"/><stop offset="0.55" stop-color="#fbf0e0"/>
      <stop offset="0.63" stop-color="#dcc2a2"/><stop offset="0.78" stop-color="#efdcc4"/><stop offset="0.9" stop-color="#d3b696"/>
      <stop offset="1" stop-color="#b39274"/></linearGradient>
    <linearGradient id="satinV" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#fff" stop-opacity="0.12"/><stop offset="0.45" stop-color="#fff" stop-opacity="0"/>
      <stop offset="1" stop-color="#000" stop-opacity="0.08"/></linearGradient>
    <clipPath id="slipClip"><path d="${dress}"/></clipPath>`
  const strap = (x1: number, y1: number, x2: number, y2: number) => `
    <path d="M ${x1} ${y1} L ${x2} ${y2}" stroke="#c9ab8c" stroke-width="4" stroke-linecap="round"/>
    <path d="M ${x1 + 0.8} ${y1} L ${x2 + 0.8} ${y2}" stroke="#f4e6d2" stroke-width="1.4" stroke-linecap="round"/>`
  const body = `
    ${strap(214, 30, 196, 252)}
    ${strap(386, 30, 404, 252)}
    <rect x="200" y="108" width="12" height="7" rx="2" fill="#e8d7c0" stroke="#b59a7e" stroke-width="1.2" transform="rotate(-4.6 206 111)"/>
    <rect x="389" y="108" width="12" height="7" rx="2" fill="#e8d7c0" stroke="#b59a7e" stroke-width="1.2" transform="rotate(4.6 395 111)"/>
    <path d="${dress}" fill="url(#satin)"/>
    <g clip-path="url(#slipClip)">
      <rect width="${w}" height="${h}" fill="url(#satinV)"/>
      ${fold('M 215 450 C 200 600 170 780 140 960', 22, 0.22, 0.3, 9, '#7a5c3e')}
      ${fold('M 262 460 C 257 620 244 800 232 970', 16, 0.16, 0.3, 8, '#7a5c3e')}
      ${fold('M 345 460 C 350 640 370 800 390 975', 18, 0.18, 0.3, 8, '#7a5c3e')}
      ${fold('M 392 450 C 410 620 440 800 470 965', 22, 0.22, 0.26, 9, '#7a5c3e')}
      ${fold('M 300 335 C 300 380 300 420 300 450', 8, 0.16, 0.14, 5, '#7a5c3e')}
      ${fold('M 200 300 C 230 320 250 360 262 420', 10, 0.14, 0.16, 5, '#7a5c3e')}
      ${fold('M 400 300 C 370 320 350 360 338 420', 10, 0.14, 0.16, 5, '#7a5c3e')}
    </g>
    <path d="M 180 250 C 220 232 262 250 300 330 C 338 250 380 232 420 250" fill="none" stroke="#efe3d2" stroke-width="9" stroke-dasharray="0.1 11" stroke-linecap="round"/>
    <path d="M 181 254 C 221 236 262 254 300 336 C 338 254 379 236 419 254" fill="none" stroke="#c7ab8e" stroke-width="1.2"/>
    ${stitch('M 84 950 Q 300 982 516 950', '#b89a7c', 1.4, '4 3', 0.8)}`
  return { w, h, defs, body, silhouette: `<path d="${dress}"/>` }
}

function hoodie(): Drawing {
  const w = 1000
  const h = 1000
  const base = '#6d2434'
  const dark = '#4c1824'
  const torso = `M 330 205 C 400 230 600 230 670 205 L 758 232 C 760 400 762 600 760 856 L 240 856 C 238 600 240 400 242 232 Z`
  const sleeve = 'M 242 232 C 170 260 150 300 140 360 C 122 520 110 680 104 806 L 198 816 C 208 680 226 540 244 430 Z'
  const cuff = 'M 104 806 L 198 816 L 198 884 L 104 880 Z'
  const hood = 'M 330 205 C 320 80 400 28 500 28 C 600 28 680 80 670 205 Z'
  const hem = 'M 240 856 L 760 856 L 752 930 L 248 930 Z'
  const silhouette =
    [hood, torso, sleeve, cuff, hem].map((d) => `<path d="${d}"/>`).join('') + mirrorPath(w, sleeve) + mirrorPath(w, cuff)
  const defs = `
    ${bodyGradient('hoodBody', base, dark, '#7c2b3d')}
    <radialGradient id="hoodInner" cx="0.5" cy="0.35" r="0.6"><stop offset="0" stop-color="#2a0c14"/><stop offset="1" stop-color="#4a1723"/></radialGradient>
    <pattern id="rib" width="9" height="10" patternUnits="userSpaceOnUse"><rect width="9" height="10" fill="${base}"/><rect width="3" height="10" fill="#000" opacity="0.22"/></pattern>
    <clipPath id="hoodClip">${silhouette}</clipPath>
`
  const sleeveSide = `
    <path d="${sleeve}" fill="url(#hoodBody)"/>
    <path d="${cuff}" fill="url(#rib)"/>
    ${seam('M 104 806 L 198 816', 0.3, 2.5)}
    ${seam('M 242 232 C 246 300 246 370 244 430', 0.35, 2.5)}
    ${fold('M 160 420 C 180 470 190 520 186 580', 14, 0.22, 0.08)}
    ${fold('M 126 700 C 150 690 175 692 200 702', 10, 0.22, 0.08)}`
  const pocket = `M 340 640 L 660 640 C 690 700 712 760 724 820 L 276 820 C 288 760 310 700 340 640 Z`
  const body = `
    <path d="${hood}" fill="${base}"/>
    <path d="M 372 214 C 368 120 420 72 500 72 C 580 72 632 120 628 214 Q 500 268 372 214 Z" fill="url(#hoodInner)"/>
    ${seam('M 500 30 L 500 72', 0.35, 3)}
    ${mirrored(w, sleeveSide)}
    <path d="${torso}" fill="url(#hoodBody)"/>
    <path d="${hem}" fill="url(#rib)"/>
    ${seam('M 240 856 L 760 856', 0.35, 2.5)}
    <g clip-path="url(#hoodClip)">
      ${fold('M 330 205 C 380 235 440 250 500 252', 12, 0.25, 0.06)}
      ${fold('M 670 205 C 620 235 560 250 500 252', 12, 0.25, 0.06)}
      ${fold('M 268 470 C 300 520 312 580 306 640', 18, 0.22, 0.1)}
      ${fold('M 732 470 C 700 520 688 580 694 640', 18, 0.22, 0.1)}
      <path d="${pocket}" fill="${base}"/>
      <path d="${pocket}" fill="#000" opacity="0.06"/>
      <path d="M 660 640 C 690 700 712 760 724 820" stroke="#000" stroke-opacity="0.35" stroke-width="6" fill="none" filter="url(#blur6)"/>
      <path d="M 340 640 C 310 700 288 760 276 820" stroke="#000" stroke-opacity="0.35" stroke-width="6" fill="none" filter="url(#blur6)"/>
      ${stitch('M 346 652 L 654 652', dark, 2.2, '6 4')}
      ${stitch('M 647 648 C 676 706 697 764 709 818', dark, 2.2, '6 4')}
      ${stitch('M 353 648 C 324 706 303 764 291 818', dark, 2.2, '6 4')}
      ${fold('M 420 822 C 430 780 450 740 480 712', 12, 0.16)}
      ${grain('hoodClip', w, h, 0.1)}
    </g>
    <path d="M 372 214 Q 500 268 628 214" fill="none" stroke="${dark}" stroke-width="14"/>
    <path d="M 465 246 C 462 290 458 330 455 362" stroke="#efe6d8" stroke-width="8" fill="none" stroke-linecap="round"/>
    <path d="M 535 246 C 538 282 542 314 547 346" stroke="#efe6d8" stroke-width="8" fill="none" stroke-linecap="round"/>
    <rect x="450" y="356" width="10" height="30" rx="3" fill="#c9c9c4" stroke="#8d8d88" stroke-width="1.5"/>
    <rect x="542" y="340" width="10" height="30" rx="3" fill="#c9c9c4" stroke="#8d8d88" stroke-width="1.5"/>
    <circle cx="465" cy="248" r="8" fill="#c9c9c4" stroke="#8d8d88" stroke-width="2"/>
    <circle cx="535" cy="248" r="8" fill="#c9c9c4" stroke="#8d8d88" stroke-width="2"/>
    <g font-family="DejaVu Sans" font-weight="bold" fill="#f1e9da" text-anchor="middle">
      <circle cx="500" cy="490" r="84" fill="none" stroke="#f1e9da" stroke-width="5"/>
      <circle cx="500" cy="490" r="50" fill="none" stroke="#f1e9da" stroke-width="2.5"/>
      ${arcText('NORTHFIELD', 500, 490, 66, 15, 'font-size="18"')}
      <text x="500" y="510" font-size="56">N</text>
      <text x="500" y="562" font-size="11" letter-spacing="3">EST · 2019</text>
    </g>`
  return { w, h, defs, body, silhouette }
}

function floralTile(size: number, seed: number): string {
  const next = random(seed)
  const petals = ['#f4a7b9', '#ef8069', '#f7efe2', '#f2c14e']
  const items: string[] = []
  // why: flowers stay inside the tile so the repeat has no cut petals at the seams.
  for (let i = 0; i < 12; i++) {
    const r = 9 + next() * 7
    const cx = f1(r + 4 + next() * (size - 2 * r - 8))
    const cy = f1(r + 4 + next() * (size - 2 * r - 8))
    const color = petals[Math.floor(next() * petals.length)]
    const turn = Math.floor(next() * 72)
    if (next() < 0.3) {
      items.push(
        `<ellipse cx="${cx}" cy="${cy}" rx="${f1(r * 0.9)}" ry="${f1(r * 0.35)}" fill="#6f9a72" transform="rotate(${turn * 5} ${cx} ${cy})"/>`,
      )
      continue
    }
    const petal = Array.from(
      { length: 5 },
      (_, k) =>
        `<ellipse cx="${cx}" cy="${f1(Number(cy) - r * 0.55)}" rx="${f1(r * 0.38)}" ry="${f1(r * 0.55)}" fill="${color}" transform="rotate(${turn + k * 72} ${cx} ${cy})"/>`,
    ).join('')
    items.push(`${petal}<circle cx="${cx}" cy="${cy}" r="${f1(r * 0.22)}" fill="#f3c94b"/>`)
  }
  return items.join('')
}

function floralDress(): Drawing {
  const w = 700
  const h = 1100
  const sleeve =
    'M 250 92 C 200 100 150 130 118 160 C 100 200 96 240 104 270 C 140 262 180 258 214 262 C 222 200 234 140 250 92 Z'
  const bodice =
    'M 250 92 C 300 110 330 200 350 330 C 370 200 400 110 450 92 C 470 150 478 200 486 262 C 480 330 468 390 462 440 L 238 440 C 232 390 220 330 214 262 C 222 200 234 140 250 92 Z'
  const skirt = 'M 238 440 L 462 440 C 500 600 560 820 604 1030 C 480 1062 220 1062 96 1030 C 140 820 200 600 238 440 Z'
  const band = 'M 234 424 L 466 424 L 470 468 L 230 468 Z'
  const silhouette = [bodice, skirt, band, sleeve].map((d) => `<path d="${d}"/>`).join('') + mirrorPath(w, sleeve)
  const navy = '#1e2746'
  const defs = `
    <pattern id="floral" width="150" height="150" patternUnits="userSpaceOnUse"><rect width="150" height="150" fill="${navy}"/>${floralTile(150, 11)}</pattern>
    <pattern id="floralSmall" width="150" height="150" patternUnits="userSpaceOnUse" patternTransform="scale(0.8) rotate(8)"><rect width="150" height="150" fill="${navy}"/>${floralTile(150, 11)}</pattern>
    <linearGradient id="dressShade" x1="0" y1="0" x2="1" y2="0">
      <stop offset="0" stop-color="#000" stop-opacity="0.35"/><stop offset="0.25" stop-color="#000" stop-opacity="0.05"/>
      <stop offset="0.45" stop-color="#fff" stop-opacity="0.06"/><stop offset="0.75" stop-color="#000" stop-opacity="0.05"/>
      <stop offset="1" stop-color="#000" stop-opacity="0.35"/></linearGradient>
    <clipPath id="dressClip">${silhouette}</clipPath>`
  const sleeveSide = `
    <path d="${sleeve}" fill="url(#floralSmall)"/>
    ${fold('M 170 150 C 160 190 150 230 146 262', 12, 0.3, 0.1)}
    ${fold('M 214 130 C 205 180 196 225 190 262', 10, 0.25, 0.1)}
    ${seam('M 104 270 C 140 262 180 258 214 262', 0.35, 2)}`
  const body = `
    ${mirrored(w, sleeveSide)}
    <path d="${skirt}" fill="url(#floral)"/>
    <path d="${bodice}" fill="url(#floral)"/>
    <path d="M 350 330 C 400 380 440 420 462 440" fill="none" stroke="#000" stroke-opacity="0.3" stroke-width="4"/>
    <g clip-path="url(#dressClip)">
      <rect width="${w}" height="${h}" fill="url(#dressShade)"/>
      ${fold('M 260 470 C 230 640 190 840 160 1040', 24, 0.35, 0.12, 10)}
      ${fold('M 320 470 C 310 660 290 860 280 1050', 20, 0.3, 0.12, 9)}
      ${fold('M 390 470 C 400 660 420 860 440 1050', 20, 0.3, 0.12, 9)}
      ${fold('M 440 470 C 470 640 510 840 550 1040', 24, 0.35, 0.12, 10)}
      ${fold('M 250 440 C 262 400 272 370 280 340', 10, 0.3, 0.1)}
      ${fold('M 450 440 C 438 400 428 370 420 340', 10, 0.3, 0.1)}
      <path d="M 430 468 C 470 640 520 860 560 1040" fill="none" stroke="#000" stroke-opacity="0.35" stroke-width="5" filter="url(#blur6)"/>
      <path d="M 430 468 C 470 640 520 860 560 1040" fill="none" stroke="#000" stroke-opacity="0.5" stroke-width="2"/>
      ${grain('dressClip', w, h, 0.06)}
    </g>
    <path d="${band}" fill="${navy}"/>
    <path d="${band}" fill="url(#floralSmall)" opacity="0.55"/>
    ${seam('M 234 424 L 466 424', 0.4, 2)}
    ${seam('M 230 468 L 470 468', 0.4, 2)}
    <path d="M 470 446 C 500 420 530 414 540 428 C 548 444 520 456 478 452 Z" fill="url(#floralSmall)" stroke="#10162a" stroke-width="2"/>
    <path d="M 470 446 C 500 470 526 484 538 470 C 548 456 522 446 478 446 Z" fill="url(#floralSmall)" stroke="#10162a" stroke-width="2"/>
    <path d="M 478 452 C 492 540 500 620 492 700 L 510 704 C 516 620 508 540 488 450 Z" fill="url(#floralSmall)" stroke="#10162a" stroke-width="2"/>
    <path d="M 472 452 C 470 530 458 600 440 660 L 456 666 C 474 604 486 530 484 452 Z" fill="url(#floralSmall)" stroke="#10162a" stroke-width="2"/>
    <rect x="466" y="436" width="18" height="22" rx="5" fill="url(#floralSmall)" stroke="#10162a" stroke-width="2"/>
    ${stitch('M 104 1020 C 230 1048 470 1048 596 1020', '#0f1428', 1.6, '5 4', 0.8)}`
  return { w, h, defs, body, silhouette }
}

function jeans(): Drawing {
  const w = 700
  const h = 1100
  const indigo = '#34507f'
  const thread = '#d49a4a'
  const legs = `M 112 100 L 588 100 C 598 300 572 700 552 1060 L 382 1066 C 372 800 360 560 350 430
    C 340 560 328 800 318 1066 L 148 1060 C 128 700 102 300 112 100 Z`
  const waistband = 'M 118 40 L 582 40 L 588 100 L 112 100 Z'
  const silhouette = `<path d="${legs}"/><path d="${waistband}"/>`
  const defs = `
    <pattern id="twill" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(-30)">
      <rect width="8" height="8" fill="${indigo}"/><rect width="8" height="3" fill="#43629a"/></pattern>
    <filter id="denimNoise" x="0" y="0" width="100%" height="100%">
      <feTurbulence type="fractalNoise" baseFrequency="0.012 0.09" numOctaves="3" seed="4"/>
      <feColorMatrix type="matrix" values="0 0 0 0 1  0 0 0 0 1  0 0 0 0 1  0 0 0 0.75 -0.18"/>
    </filter>
    <radialGradient id="fade" cx="0.5" cy="0.5" r="0.5"><stop offset="0" stop-color="#dfe8f5" stop-opacity="0.38"/><stop offset="1" stop-color="#dfe8f5" stop-opacity="0"/></radialGradient>
    <linearGradient id="jeanShade" x1="0" y1="0" x2="1" y2="0">
      <stop offset="0" stop-color="#000" stop-opacity="0.3"/><stop offset="0.2" stop-color="#000" stop-opacity="0"/>
      <stop offset="0.45" stop-color="#000" stop-opacity="0.12"/><stop offset="0.5" stop-color="#000" stop-opacity="0.18"/>
      <stop offset="0.55" stop-color="#000" stop-opacity="0.12"/><stop offset="0.8" stop-color="#000" stop-opacity="0"/>
      <stop offset="1" stop-color="#000" stop-opacity="0.3"/></linearGradient>
    <radialGradient id="rivet" cx="0.4" cy="0.35" r="0.6"><stop offset="0" stop-color="#f3d2a0"/><stop offset="1" stop-color="#9a6a34"/></radialGradient>
    <clipPath id="jeanClip">${silhouette}</clipPath>`
  const loop = (
    x: number,
  ) => `<rect x="${x - 8}" y="32" width="16" height="76" rx="3" fill="url(#twill)" stroke="#1f3357" stroke-width="1.5"/>
    ${stitch(`M ${x - 4} 38 L ${x - 4} 102`, thread, 1.4, '4 3')}${stitch(`M ${x + 4} 38 L ${x + 4} 102`, thread, 1.4, '4 3')}`
  const pocketSide = `
    <path d="M 168 100 C 172 170 150 230 114 262" fill="none" stroke="#1c2e52" stroke-width="4"/>
    ${stitch('M 180 100 C 184 176 160 240 116 276', thread, 2)}
    ${stitch('M 190 100 C 194 180 170 248 118 288', thread, 2)}
    <circle cx="168" cy="106" r="5" fill="url(#rivet)"/><circle cx="116" cy="264" r="5" fill="url(#rivet)"/>
    ${fold('M 160 300 C 200 320 250 340 300 350', 14, 0.0, 0.22, 0)}
    ${fold('M 180 340 C 220 360 260 370 310 376', 12, 0.0, 0.2, 0)}
    ${fold('M 200 380 C 240 395 280 400 320 402', 10, 0.0, 0.18, 0)}
    ${fold('M 160 1040 C 200 1030 260 1030 310 1040', 12, 0.3, 0.1)}
    ${fold('M 166 990 C 210 1000 260 998 312 990', 10, 0.25, 0.1)}
    ${stitch('M 150 1036 L 318 1042', thread, 2)}
    ${seam('M 112 100 C 102 300 128 700 148 1060', 0.4, 3)}`
  const body = `
    <path d="${legs}" fill="url(#twill)"/>
    <path d="${waistband}" fill="url(#twill)"/>
    <g clip-path="url(#jeanClip)">
      <rect width="${w}" height="${h}" filter="url(#denimNoise)" opacity="0.55"/>
      <ellipse cx="230" cy="560" rx="90" ry="240" fill="url(#fade)"/>
      <ellipse cx="470" cy="560" rx="90" ry="240" fill="url(#fade)"/>
      <ellipse cx="240" cy="700" rx="70" ry="50" fill="url(#fade)"/>
      <ellipse cx="460" cy="700" rx="70" ry="50" fill="url(#fade)"/>
      <rect width="${w}" height="${h}" fill="url(#jeanShade)"/>
      ${mirrored(w, pocketSide)}
      <path d="M 498 120 L 548 120 L 546 178 L 500 178 Z" fill="none" stroke="#1c2e52" stroke-width="3"/>
      ${stitch('M 503 124 L 543 124', thread, 1.6, '4 3')}
      <path d="M 350 100 L 350 430" stroke="#1c2e52" stroke-width="3"/>
      ${stitch('M 356 104 L 396 104 L 396 330 C 396 380 380 404 352 420', thread, 2.2)}
      ${stitch('M 362 110 L 388 110 L 388 330 C 388 372 374 396 352 410', thread, 1.6, '4 3', 0.7)}
      <circle cx="396" cy="330" r="5" fill="url(#rivet)"/>
    </g>
    ${seam('M 118 40 L 582 40', 0.4, 2)}
    ${stitch('M 118 50 L 582 50', thread, 2)}
    ${stitch('M 114 92 L 586 92', thread, 2)}
    ${loop(160)}${loop(540)}${loop(280)}${loop(420)}
    <circle cx="350" cy="70" r="17" fill="url(#rivet)" stroke="#6b4a22" stroke-width="2"/>
    <circle cx="350" cy="70" r="10" fill="none" stroke="#6b4a22" stroke-width="1.5"/>`
  return { w, h, defs, body, silhouette }
}

function cap(): Drawing {
  const w = 1000
  const h = 760
  const navy = '#22304f'
  const cream = '#f1e6cc'
  const crown = 'M 150 560 C 120 380 250 160 460 150 C 650 140 790 280 800 470 C 650 560 350 600 150 560 Z'
  const bill =
    'M 410 585 C 560 560 700 520 800 470 C 880 480 960 540 975 600 C 930 680 720 700 540 660 C 470 645 430 620 410 585 Z'
  const underside =
    'M 975 600 C 930 680 720 700 540 660 C 470 645 430 620 410 585 C 440 640 480 668 540 682 C 720 722 940 700 975 600 Z'
  const silhouette = `<path d="${crown}"/><path d="${bill}"/><path d="${underside}"/>`
  const defs = `
    <radialGradient id="capDome" cx="0.42" cy="0.28" r="0.8"><stop offset="0" stop-color="#3a4b72"/><stop offset="0.55" stop-color="${navy}"/><stop offset="1" stop-color="#121a2e"/></radialGradient>
    <linearGradient id="capBill" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#1b2540"/><stop offset="0.5" stop-color="#2e3e63"/><stop offset="1" stop-color="#202c4a"/></linearGradient>
    <pattern id="satinStitch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(35)">
      <rect width="4" height="4" fill="${cream}"/><rect width="4" height="1.3" fill="#c9b98f"/></pattern>
    <clipPath id="capClip"><path d="${crown}"/></clipPath>`
  const word = (dx: number, dy: number, fill: string, extra = '') =>
    `<text x="${600 + dx}" y="${400 + dy}" transform="rotate(-9 600 400) skewX(-6)" font-family="DejaVu Sans" font-weight="bold"
      font-size="74" letter-spacing="3" text-anchor="middle" fill="${fill}" ${extra}>ATELIER</text>`
  const body = `
    <path d="${crown}" fill="url(#capDome)"/>
    <g clip-path="url(#capClip)">
      ${seam('M 460 152 C 560 240 620 380 640 560', 0.5, 3)}
      ${stitch('M 448 160 C 546 250 604 384 622 566', '#0c1222', 1.6, '5 4')}
      ${stitch('M 472 158 C 572 246 634 380 656 556', '#0c1222', 1.6, '5 4')}
      ${seam('M 460 152 C 420 280 400 430 390 600', 0.5, 3)}
      ${seam('M 460 152 C 330 220 230 380 220 580', 0.5, 3)}
      ${seam('M 460 152 C 640 200 760 320 790 470', 0.35, 2.5)}
      <path d="M 170 562 C 180 500 215 480 262 490 C 290 500 300 540 300 580 Z" fill="#0d1426"/>
      <rect x="196" y="528" width="70" height="12" rx="3" fill="#1a2440" transform="rotate(-8 230 534)"/>
      ${fold('M 300 420 C 320 470 340 520 350 580', 24, 0.3, 0.08)}
      <ellipse cx="430" cy="260" rx="110" ry="70" fill="#fff" opacity="0.07" filter="url(#blur14)"/>
      ${word(3, 4, '#070b16', 'opacity="0.6"')}
      ${word(0, 0, 'url(#satinStitch)', 'stroke="#d8c9a2" stroke-width="1.5"')}
      <text x="612" y="462" transform="rotate(-9 600 400) skewX(-6)" font-family="DejaVu Sans" font-size="20" letter-spacing="7"
        text-anchor="middle" fill="${cream}" opacity="0.9">EST · 2019</text>
    </g>
    <circle cx="330" cy="300" r="8" fill="${navy}" stroke="#0b1120" stroke-width="3"/>
    <circle cx="560" cy="250" r="7" fill="${navy}" stroke="#0b1120" stroke-width="3"/>
    <ellipse cx="460" cy="153" rx="24" ry="11" fill="#2e3e63" stroke="#0b1120" stroke-width="2"/>
    <path d="${underside}" fill="#3c4a68"/>
    <path d="${bill}" fill="url(#capBill)"/>
    ${[1, 2, 3, 4, 5, 6].map((i) => stitch(`M ${420 + i * 12} ${590 + i * 6} C ${560 + i * 6} ${600 + i * 11} ${760 + i * 10} ${560 + i * 14} ${820 + i * 20} ${486 + i * 14}`, '#0c1222', 1.5, '5 4', 0.75)).join('')}
    <path d="M 410 585 C 560 560 700 520 800 470" fill="none" stroke="#0b1120" stroke-width="5"/>
    <path d="M 430 596 C 560 580 700 540 800 490" fill="none" stroke="#000" stroke-opacity="0.35" stroke-width="18" filter="url(#blur6)"/>`
  return { w, h, defs, body, silhouette }
}

function tote(): Drawing {
  const w = 1000
  const h = 1000
  const tan = '#b3733f'
  const bag = 'M 150 400 L 850 400 L 812 908 Q 808 936 780 936 L 220 936 Q 192 936 188 908 Z'
  const defs = `
    <linearGradient id="leather" x1="0" y1="0" x2="1" y2="0">
      <stop offset="0" stop-color="#8c5427"/><stop offset="0.15" stop-color="${tan}"/><stop offset="0.4" stop-color="#c78650"/>
      <stop offset="0.75" stop-color="${tan}"/><stop offset="1" stop-color="#7f4b22"/></linearGradient>
    <linearGradient id="leatherV" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#fff" stop-opacity="0.1"/><stop offset="0.6" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.18"/></linearGradient>
    <linearGradient id="gold" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#f6e2a4"/><stop offset="0.5" stop-color="#c99a3b"/><stop offset="1" stop-color="#8c6a22"/></linearGradient>
    <filter id="mottle" x="0" y="0" width="100%" height="100%">
      <feTurbulence type="fractalNoise" baseFrequency="0.018" numOctaves="2" seed="9"/>
      <feColorMatrix type="matrix" values="0 0 0 0 0.3  0 0 0 0 0.15  0 0 0 0 0.05  0 0 0 1.4 -0.55"/>
    </filter>
    <clipPath id="bagClip"><path d="${bag}"/></clipPath>`
  const handle = (outer: number, inner: number, top: number, fill: string) => {
    const cOuter = top - 40
    return `<path d="M ${outer} 410 C ${outer} ${cOuter} ${w - outer} ${cOuter} ${w - outer} 410 L ${w - inner} 410 C ${w - inner} ${cOuter + 44} ${inner} ${cOuter + 44} ${inner} 410 Z" fill="${fill}"/>
      ${stitch(`M ${outer + 7} 410 C ${outer + 7} ${cOuter + 9} ${w - outer - 7} ${cOuter + 9} ${w - outer - 7} 410`, '#f0dcc0', 1.8, '6 4', 0.85)}
      ${stitch(`M ${inner - 7} 410 C ${inner - 7} ${cOuter + 35} ${w - inner + 7} ${cOuter + 35} ${w - inner + 7} 410`, '#f0dcc0', 1.8, '6 4', 0.85)}`
  }
  const silhouette = `<path d="${bag}"/><path d="M 262 410 C 262 60 738 60 738 410 L 700 410 C 700 104 300 104 300 410 Z"/><path d="M 292 410 C 292 120 708 120 708 410 L 670 410 C 670 164 330 164 330 410 Z"/>`
  const body = `
    ${handle(262, 300, 100, '#8a5429')}
    <path d="M 160 400 L 840 400 L 832 424 L 168 424 Z" fill="#3b2312"/>
    <path d="${bag}" fill="url(#leather)"/>
    <g clip-path="url(#bagClip)">
      <rect width="${w}" height="${h}" fill="url(#leatherV)"/>
      <rect width="${w}" height="${h}" filter="url(#mottle)" opacity="0.5"/>
      ${fold('M 300 430 C 310 600 300 760 290 930', 30, 0.12, 0.08, 12)}
      ${fold('M 700 430 C 690 600 700 760 712 930', 30, 0.12, 0.08, 12)}
    </g>
    <path d="M 150 400 L 850 400" stroke="#6e3f1b" stroke-width="8" stroke-linecap="round"/>
    ${stitch('M 166 418 L 834 418', '#f0dcc0', 2, '7 5')}
    ${stitch('M 168 436 L 204 900 Q 208 918 226 918 L 774 918 Q 792 918 796 900 L 832 436', '#f0dcc0', 2, '7 5', 0.8)}
    ${handle(292, 330, 140, '#a3652f')}
    ${[310, 690]
      .map(
        (x) => `<rect x="${x - 30}" y="388" width="60" height="46" rx="10" fill="none" stroke="url(#gold)" stroke-width="9"/>
      <path d="M ${x - 22} 430 L ${x + 22} 430 L ${x + 18} 500 Q ${x} 512 ${x - 18} 500 Z" fill="#9c5f2c" stroke="#6e3f1b" stroke-width="2"/>
      <circle cx="${x}" cy="480" r="7" fill="url(#gold)"/>`,
      )
      .join('')}
    <rect x="420" y="600" width="160" height="44" rx="6" fill="url(#gold)" stroke="#8c6a22" stroke-width="2"/>
    <text x="500" y="631" font-family="DejaVu Sans" font-weight="bold" font-size="22" letter-spacing="6" text-anchor="middle" fill="#6b4d14">ATELIER</text>`
  return { w, h, defs, body, silhouette }
}

function mannequinBlazer(): Drawing {
  const w = 800
  const h = 1260
  const camel = '#b6874f'
  const linen = '#ddd3c0'
  const torso = 'M 335 172 L 172 244 C 190 480 200 700 196 950 Q 400 988 604 950 C 600 700 610 480 628 244 L 465 172 Z'
  const sleeve =
    'M 172 244 C 128 270 110 340 112 480 C 112 640 118 780 124 900 L 228 910 C 232 760 236 600 238 470 C 240 380 232 300 206 250 Z'
  const lapel = 'M 350 180 L 398 612 C 360 520 300 430 250 372 L 292 346 L 264 316 C 280 260 305 215 336 178 Z'
  const hips = 'M 250 930 C 250 990 272 1030 300 1050 L 500 1050 C 528 1030 550 990 550 930 Z'
  const neck = 'M 352 48 C 350 100 348 140 336 184 L 464 184 C 452 140 450 100 448 48 Z'
  const silhouette =
    [torso, sleeve, hips, neck].map((d) => `<path d="${d}"/>`).join('') +
    mirrorPath(w, sleeve) +
    '<rect x="388" y="1050" width="24" height="190"/><ellipse cx="400" cy="1238" rx="120" ry="16"/><ellipse cx="400" cy="40" rx="52" ry="15"/>'
  const defs = `
    ${bodyGradient('camel', camel, '#8c6437', '#c89a63')}
    <linearGradient id="linenForm" x1="0" y1="0" x2="1" y2="0">
      <stop offset="0" stop-color="#b9ae9a"/><stop offset="0.35" stop-color="${linen}"/><stop offset="0.55" stop-color="#e9e1d1"/>
      <stop offset="1" stop-color="#aea38f"/></linearGradient>
    <linearGradient id="walnut" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="#4a3220"/><stop offset="0.4" stop-color="#8a6443"/><stop offset="1" stop-color="#3f2a1a"/></linearGradient>
    <linearGradient id="steel" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="#5b5e63"/><stop offset="0.45" stop-color="#c9ccd1"/><stop offset="1" stop-color="#4d5055"/></linearGradient>
    <radialGradient id="horn" cx="0.4" cy="0.35" r="0.7"><stop offset="0" stop-color="#6d4a30"/><stop offset="1" stop-color="#2e1d12"/></radialGradient>
    <clipPath id="blazerClip"><path d="${torso}"/></clipPath>`
  const button = (
    x: number,
    y: number,
    r: number,
  ) => `<circle cx="${x}" cy="${y}" r="${r}" fill="url(#horn)" stroke="#24160d" stroke-width="1.5"/>
    ${[-1, 1].flatMap((dx) => [-1, 1].map((dy) => `<circle cx="${f1(x + dx * r * 0.28)}" cy="${f1(y + dy * r * 0.28)}" r="${f1(r * 0.12)}" fill="#1a1009"/>`)).join('')}`
  const sleeveSide = `
    <path d="${sleeve}" fill="url(#camel)"/>
    ${fold('M 150 330 C 140 420 140 520 146 620', 16, 0.22, 0.1)}
    ${fold('M 200 600 C 196 700 196 800 200 880', 14, 0.18, 0.1)}
    ${seam('M 124 860 L 226 868', 0.25, 2)}
    ${button(214, 842, 7)}${button(210, 820, 7)}${button(206, 798, 7)}`
  const frontSide = `
    ${seam('M 300 470 C 305 600 310 700 312 800', 0.2, 2.5)}
    <path d="M 232 760 L 352 764 L 350 802 L 234 798 Z" fill="${camel}" stroke="#7a5530" stroke-width="2"/>
    <path d="M 234 798 L 350 802" stroke="#000" stroke-opacity="0.25" stroke-width="8" filter="url(#blur6)"/>
    ${stitch('M 240 766 L 344 770', '#7a5530', 1.4, '4 3')}`
  const body = `
    <ellipse cx="400" cy="1238" rx="120" ry="16" fill="url(#steel)"/>
    <rect x="388" y="1040" width="24" height="200" fill="url(#steel)"/>
    <rect x="380" y="1120" width="40" height="26" rx="5" fill="url(#steel)"/>
    <path d="${hips}" fill="url(#linenForm)"/>
    <ellipse cx="400" cy="1050" rx="100" ry="12" fill="url(#walnut)"/>
    <path d="${neck}" fill="url(#linenForm)"/>
    <ellipse cx="400" cy="48" rx="50" ry="12" fill="#000" opacity="0.2" filter="url(#blur6)"/>
    <ellipse cx="400" cy="40" rx="52" ry="15" fill="url(#walnut)"/>
    <circle cx="400" cy="22" r="13" fill="url(#walnut)"/>
    ${mirrored(w, sleeveSide)}
    <path d="${torso}" fill="url(#camel)"/>
    <path d="M 330 176 L 470 176 L 430 640 L 370 640 Z" fill="url(#linenForm)"/>
    <path d="M 400 200 C 398 300 398 420 400 600" stroke="#9e937e" stroke-width="2" fill="none" opacity="0.6"/>
    <g clip-path="url(#blazerClip)">
      ${mirrored(w, frontSide)}
      ${fold('M 262 380 C 310 448 356 534 398 612', 14, 0.22, 0.0)}
      ${fold('M 538 380 C 490 448 444 534 402 612', 14, 0.22, 0.0)}
      ${fold('M 420 680 C 440 740 470 800 500 850', 16, 0.2, 0.1)}
      ${grain('blazerClip', w, h, 0.07)}
    </g>
    <path d="M 330 176 C 340 150 370 140 400 140 C 430 140 460 150 470 176 L 452 186 C 440 166 420 158 400 158 C 380 158 360 166 348 186 Z" fill="#8c6437"/>
    ${mirrored(
      w,
      `<path d="${lapel}" fill="url(#camel)"/><path d="${lapel}" fill="#fff" opacity="0.05"/>
      ${stitch('M 358 200 L 398 580', '#7a5530', 1.2, '3 3', 0.7)}
      ${seam('M 292 346 L 312 300', 0.35, 2)}`,
    )}
    <path d="M 402 640 C 404 760 404 860 420 920 C 430 945 450 955 470 960" fill="none" stroke="#5e4123" stroke-width="3"/>
    <path d="M 470 432 L 560 422 L 562 444 L 472 454 Z" fill="${camel}" stroke="#7a5530" stroke-width="2"/>
    ${button(404, 650, 13)}${button(404, 770, 13)}`
  return { w, h, defs, body, silhouette }
}

function sneaker(tint: number): string {
  const upper = `M 26 206 C 20 160 22 110 44 86 C 60 70 92 66 122 78 C 150 92 176 104 210 100 C 240 96 262 72 286 56
    L 318 50 C 330 56 336 72 338 92 C 380 120 430 140 462 160 C 482 172 488 192 478 205 Z`
  const eyelets = [0, 1, 2, 3, 4].map((i) => [f1(226 + i * 24), f1(100 - i * 9 + i * i * 1.2)] as const)
  return `
    <path d="M 14 236 C 20 250 40 256 60 256 L 400 256 C 440 256 470 254 488 242 L 490 250 C 472 264 440 266 400 266 L 60 266 C 34 266 16 258 12 246 Z" fill="#b5763f"/>
    <path d="M 18 205 L 478 205 C 494 206 500 226 488 240 C 470 252 440 254 400 254 L 60 254 C 30 254 14 240 12 226 C 10 215 12 208 18 205 Z" fill="#efece5"/>
    ${stitch('M 22 214 L 482 214', '#9c988f', 1.2, '4 3')}
    <path d="${upper}" fill="#f7f6f2"/>
    <path d="M 280 60 C 284 40 296 28 314 26 C 326 30 330 42 326 56 Z" fill="#f1efe9" stroke="#cfcbc2" stroke-width="1.5"/>
    <rect x="298" y="32" width="18" height="12" rx="2" fill="#2f6b4f"/>
    <path d="M 50 92 C 80 74 120 80 150 96 C 120 94 80 92 54 102 Z" fill="#3b3b3b"/>
    <path d="M 26 206 C 20 160 22 110 44 86 C 52 80 60 78 70 78 C 60 110 58 160 66 206 Z" fill="#2f6b4f"/>
    <path d="M 380 205 C 390 170 420 150 450 152 C 474 162 486 184 478 205 Z" fill="#dedad2"/>
    ${stitch('M 388 200 C 396 172 420 158 448 160', '#9c988f', 1.2, '4 3')}
    <path d="M 200 104 C 240 98 262 74 288 58 L 300 64 C 322 94 340 118 352 132 C 320 140 280 140 250 130 C 230 122 212 114 200 104 Z" fill="#e9e6df"/>
    <path d="M 118 192 C 168 150 226 130 306 118 L 314 138 C 244 150 192 170 152 200 Z" fill="#2f6b4f"/>
    <path d="M 150 200 C 196 168 246 152 318 144 L 322 156 C 256 164 208 180 172 204 Z" fill="#e07a5f"/>
    ${eyelets.map(([x, y]) => `<circle cx="${x}" cy="${y}" r="4" fill="#8d8a83"/>`).join('')}
    ${eyelets
      .slice(0, 4)
      .map(
        (
          [x, y],
          i,
        ) => `<path d="M ${x} ${y} L ${eyelets[i + 1][0]} ${f1(Number(eyelets[i + 1][1]) - 14)}" stroke="#fbfaf7" stroke-width="6" stroke-linecap="round"/>
      <path d="M ${x} ${y} L ${eyelets[i + 1][0]} ${f1(Number(eyelets[i + 1][1]) - 14)}" stroke="#c9c5bc" stroke-width="1" stroke-linecap="round"/>`,
      )
      .join('')}
    ${stitch('M 70 200 C 68 160 70 120 78 84', '#1f4a36', 1.2, '4 3')}
    <path d="${upper}" fill="#000" opacity="${tint}"/>`
}

function sneakers(): Drawing {
  const w = 1000
  const h = 560
  const body = `
    <ellipse cx="470" cy="446" rx="380" ry="20" fill="#000" opacity="0.4" filter="url(#blur14)"/>
    <g transform="translate(90 50) scale(1.45)">${sneaker(0.1)}</g>
    <ellipse cx="540" cy="556" rx="400" ry="22" fill="#000" opacity="0.45" filter="url(#blur14)"/>
    <g transform="translate(170 160) scale(1.5)">${sneaker(0)}</g>`
  return { w, h, defs: '', body }
}

/** A loud, multicolour surface: terrazzo chips, colour blocks and spray strokes. */
function busyBackdrop(W: number, H: number): { defs: string; body: string } {
  const next = random(2024)
  const colors = ['#2a9d8f', '#e9c46a', '#e76f51', '#264653', '#f4a6c1', '#8ab17d', '#6c5ce7', '#ff9f1c']
  const pick = () => colors[Math.floor(next() * colors.length)]
  const blocks = Array.from({ length: 7 }, () => {
    const x = next() * W
    const y = next() * H
    const s = (0.25 + next() * 0.4) * Math.max(W, H)
    return `<polygon points="${f1(x)},${f1(y)} ${f1(x + s)},${f1(y + s * 0.3)} ${f1(x + s * 0.4)},${f1(y + s)}" fill="${pick()}" opacity="0.6"/>`
  }).join('')
  const chips = Array.from({ length: 420 }, () => {
    const x = next() * W
    const y = next() * H
    const r = 8 + next() * 30
    const points = Array.from({ length: 5 }, (_, k) => {
      const a = (k / 5) * Math.PI * 2 + next()
      const rr = r * (0.6 + next() * 0.5)
      return `${f1(x + Math.cos(a) * rr)},${f1(y + Math.sin(a) * rr)}`
    }).join(' ')
    return `<polygon points="${points}" fill="${next() < 0.2 ? '#ffffff' : pick()}"/>`
  }).join('')
  const strokes = Array.from({ length: 7 }, () => {
    const p = () => `${f1(next() * W)} ${f1(next() * H)}`
    return `<path d="M ${p()} C ${p()} ${p()} ${p()}" fill="none" stroke="${pick()}" stroke-width="${f1(18 + next() * 40)}" stroke-linecap="round" opacity="0.9"/>`
  }).join('')
  const defs = `<filter id="busyNoise" x="0" y="0" width="100%" height="100%">
      <feTurbulence type="fractalNoise" baseFrequency="0.04" numOctaves="3" seed="5"/>
      <feColorMatrix type="matrix" values="1.6 0 0 0 -0.3  0 1.6 0 0 -0.3  0 0 1.6 0 -0.3  0 0 0 0 0.22"/></filter>`
  const body = `<rect width="${W}" height="${H}" fill="#d8cbb3"/>${blocks}${chips}${strokes}<rect width="${W}" height="${H}" filter="url(#busyNoise)"/>`
  return { defs, body }
}

function linenShirt(side: 'front' | 'back'): Drawing {
  const w = 1000
  const h = 1150
  const blue = '#a9c5e0'
  const torso = `M 380 130 L 250 168 C 268 250 280 320 285 380 C 282 600 280 800 278 990 C 300 1040 400 1085 500 1085
    C 600 1085 700 1040 722 990 C 720 800 718 600 715 380 C 720 320 732 250 750 168 L 620 130 Z`
  const sleeve = 'M 250 168 C 190 360 120 600 76 800 L 176 828 C 210 660 250 500 285 380 C 280 320 268 250 250 168 Z'
  const cuff = 'M 76 800 L 176 828 L 192 776 L 92 748 Z'
  const silhouette = `<path d="${torso}"/><path d="${sleeve}"/>${mirrorPath(w, sleeve)}`
  const defs = `
    ${bodyGradient('linen', blue, '#8eaccb', '#bcd3e9')}
    <filter id="slub" x="0" y="0" width="100%" height="100%">
      <feTurbulence type="fractalNoise" baseFrequency="0.004 0.35" numOctaves="2" seed="12"/>
      <feColorMatrix type="matrix" values="0 0 0 0 1  0 0 0 0 1  0 0 0 0 1  0 0 0 1.2 -0.5"/></filter>
    <clipPath id="shirtClip">${silhouette}</clipPath>`
  const button = (
    x: number,
    y: number,
  ) => `<circle cx="${x}" cy="${y}" r="10" fill="#f4f2ec" stroke="#c9c4b8" stroke-width="1.5"/>
    <circle cx="${x - 3}" cy="${y - 3}" r="1.6" fill="#9a958a"/><circle cx="${x + 3}" cy="${y - 3}" r="1.6" fill="#9a958a"/>
    <circle cx="${x - 3}" cy="${y + 3}" r="1.6" fill="#9a958a"/><circle cx="${x + 3}" cy="${y + 3}" r="1.6" fill="#9a958a"/>`
  const sleeveSide = `
    <path d="${sleeve}" fill="url(#linen)"/>
    <path d="${cuff}" fill="${blue}"/>
    ${seam('M 92 748 L 192 776', 0.3, 2)}
    ${stitch('M 84 792 L 180 818', '#6f8fb0', 1.4, '4 3')}
    ${side === 'front' ? button(132, 786) : seam('M 150 740 L 172 680', 0.3, 2)}
    ${fold('M 200 380 C 180 460 160 540 140 620', 24, 0.1, 0.12, 8, '#2d4a6b')}
    ${fold('M 240 300 C 230 340 220 380 212 420', 14, 0.08, 0.1, 6, '#2d4a6b')}
    ${seam('M 250 168 C 268 250 280 320 285 380', 0.3, 2.5)}`
  const front = `
    <path d="M 478 180 L 522 180 L 522 1082 L 478 1082 Z" fill="${blue}"/>
    ${stitch('M 482 190 L 482 1078', '#6f8fb0', 1.4, '4 3')}${stitch('M 518 190 L 518 1078', '#6f8fb0', 1.4, '4 3')}
    ${[240, 360, 480, 600, 720, 840, 960].map((y) => button(500, y)).join('')}
    <path d="M 560 330 L 660 330 L 660 440 L 610 456 L 560 440 Z" fill="${blue}" stroke="#7d9cbc" stroke-width="2"/>
    ${stitch('M 566 344 L 654 344', '#6f8fb0', 1.4, '4 3')}
    <path d="M 380 130 C 420 104 580 104 620 130 L 600 150 C 570 130 430 130 400 150 Z" fill="#8fadcc"/>
    ${mirrored(
      w,
      `<path d="M 392 136 C 440 140 476 156 500 176 L 448 268 C 420 246 392 228 366 214 C 372 180 380 156 392 136 Z" fill="${blue}" stroke="#7d9cbc" stroke-width="2"/>
      ${stitch('M 388 150 C 380 170 376 190 378 206 C 402 220 424 236 444 252', '#6f8fb0', 1.3, '4 3')}
      <path d="M 366 214 C 392 228 420 246 448 268" stroke="#000" stroke-opacity="0.25" stroke-width="10" fill="none" filter="url(#blur6)"/>`,
    )}
    ${button(500, 190)}`
  const back = `
    <path d="M 380 130 C 420 112 580 112 620 130 L 622 166 C 580 150 420 150 378 166 Z" fill="${blue}" stroke="#7d9cbc" stroke-width="2"/>
    ${stitch('M 384 156 C 430 142 570 142 616 156', '#6f8fb0', 1.3, '4 3')}
    <path d="M 490 132 L 510 132 L 510 148 L 490 148 Z" fill="#8fadcc"/>
    ${seam('M 262 250 C 400 264 600 264 738 250', 0.3, 2.5)}
    ${stitch('M 264 260 C 400 274 600 274 736 260', '#6f8fb0', 1.3, '4 3')}
    ${seam('M 470 262 L 466 360', 0.3, 2)}${seam('M 530 262 L 534 360', 0.3, 2)}
    ${fold('M 480 268 C 478 300 476 330 474 370', 14, 0.16, 0.12)}
    ${fold('M 520 268 C 522 300 524 330 526 370', 14, 0.16, 0.12)}`
  const body = `
    ${mirrored(w, sleeveSide)}
    <path d="${torso}" fill="url(#linen)"/>
    <g clip-path="url(#shirtClip)">
      ${fold('M 300 420 C 340 520 360 640 350 780', 36, 0.1, 0.14, 12, '#2d4a6b')}
      ${fold('M 700 420 C 660 520 640 640 650 780', 36, 0.1, 0.14, 12, '#2d4a6b')}
      ${fold('M 420 1080 C 430 1000 446 940 470 900', 24, 0.08, 0.1, 8, '#2d4a6b')}
      ${side === 'front' ? front : back}
      <rect width="${w}" height="${h}" filter="url(#slub)" opacity="0.35"/>
    </g>
    ${seam('M 278 990 L 278 940', 0.35, 2)}${seam('M 722 990 L 722 940', 0.35, 2)}
    ${stitch('M 284 982 C 310 1030 400 1072 500 1072 C 600 1072 690 1030 716 982', '#6f8fb0', 1.4, '4 3')}`
  return { w, h, defs, body, silhouette }
}

// ---------- catalog ----------

const products: SampleProduct[] = [
  {
    handle: 'classic-graphic-tee',
    title: 'Sunday Supply Graphic Tee',
    vendor: 'Northfield',
    productType: 'T-Shirts',
    cpuOutcome: 'cut-out from white',
    images: [
      {
        file: 'front.jpg',
        alt: 'Navy cotton crew-neck T-shirt with a sun and mountain print and “Sunday Supply Co.” lettering',
        width: 1600,
        height: 1600,
        background: WHITE,
        fill: 0.86,
        dropShadow: 0.16,
        draw: tee,
      },
    ],
  },
  {
    handle: 'breton-striped-long-sleeve',
    title: 'Breton Striped Long-Sleeve Top',
    vendor: 'Maison Lune',
    productType: 'Tops',
    cpuOutcome: 'cut-out from off-white',
    images: [
      {
        file: 'front.jpg',
        alt: 'Ecru long-sleeve boat-neck top with navy Breton stripes and plain cuffs',
        width: 1200,
        height: 1500,
        background: OFF_WHITE,
        fill: 0.86,
        dropShadow: 0.14,
        draw: stripedLongSleeve,
      },
    ],
  },
  {
    handle: 'silk-slip-dress',
    title: 'Champagne Silk Slip Dress',
    vendor: 'Maison Lune',
    productType: 'Dresses',
    cpuOutcome: 'cut-out from white (thin straps: fidelity check must keep them thin)',
    images: [
      {
        file: 'front.jpg',
        alt: 'Champagne silk satin slip dress with thin spaghetti straps, lace-trimmed V neckline and bias-cut midi skirt',
        width: 1000,
        height: 1400,
        background: WHITE,
        fill: 0.9,
        dropShadow: 0.12,
        draw: slipDress,
      },
    ],
  },
  {
    handle: 'northfield-logo-hoodie',
    title: 'Northfield Logo Hoodie',
    vendor: 'Northfield',
    productType: 'Sweatshirts',
    cpuOutcome: 'cut-out from light grey',
    images: [
      {
        file: 'front.jpg',
        alt: 'Burgundy fleece pullover hoodie with a cream circular Northfield logo, drawstrings and kangaroo pocket',
        width: 1800,
        height: 1800,
        background: LIGHT_GREY,
        fill: 0.86,
        dropShadow: 0.16,
        draw: hoodie,
      },
    ],
  },
  {
    handle: 'floral-wrap-dress',
    title: 'Floral Wrap Midi Dress',
    vendor: 'Maison Lune',
    productType: 'Dresses',
    cpuOutcome: 'cut-out from white',
    images: [
      {
        file: 'front.jpg',
        alt: 'Navy wrap midi dress with a pink, coral and cream floral print, flutter sleeves and a side waist tie',
        width: 1366,
        height: 2048,
        background: WHITE,
        fill: 0.9,
        dropShadow: 0.14,
        draw: floralDress,
      },
    ],
  },
  {
    handle: 'straight-leg-jeans',
    title: 'Mid-Wash Straight-Leg Jeans',
    vendor: 'Indigo & Co',
    productType: 'Denim',
    cpuOutcome: 'cut-out from off-white',
    images: [
      {
        file: 'front.jpg',
        alt: 'Mid-wash blue straight-leg jeans with copper rivets, orange topstitching and a five-pocket front',
        width: 1200,
        height: 1600,
        background: OFF_WHITE,
        fill: 0.9,
        dropShadow: 0.14,
        draw: jeans,
      },
    ],
  },
  {
    handle: 'embroidered-cap',
    title: 'Atelier Embroidered Baseball Cap',
    vendor: 'Northfield',
    productType: 'Hats',
    cpuOutcome: 'cut-out from white (product_scene only)',
    images: [
      {
        file: 'front.jpg',
        alt: 'Navy six-panel cotton baseball cap with “ATELIER” embroidered in cream across the front',
        width: 900,
        height: 900,
        background: WHITE,
        fill: 0.86,
        shadow: { y: 0.84, rx: 0.4, ry: 0.05, opacity: 0.22 },
        draw: cap,
      },
    ],
  },
  {
    handle: 'leather-tote-bag',
    title: 'Cognac Leather Tote',
    vendor: 'Atelier Goods',
    productType: 'Bags',
    cpuOutcome: 'alpha cut-out (PNG with transparency)',
    images: [
      {
        file: 'front.png',
        alt: 'Cognac brown leather tote bag with two top handles, gold hardware and contrast stitching',
        width: 1400,
        height: 1400,
        background: null,
        fill: 0.88,
        draw: tote,
      },
    ],
  },
  {
    handle: 'camel-blazer-mannequin',
    title: 'Camel Wool Single-Breasted Blazer',
    vendor: 'Atelier Goods',
    productType: 'Blazers',
    cpuOutcome: 'cut-out from off-white includes the mannequin; mannequin_to_model needs a GPU backend',
    images: [
      {
        file: 'mannequin.jpg',
        alt: 'Camel wool single-breasted blazer with notch lapels and flap pockets, shown on a linen dress form',
        width: 1500,
        height: 2000,
        background: OFF_WHITE,
        fill: 0.92,
        shadow: { y: 0.985, rx: 0.22, ry: 0.012, opacity: 0.3 },
        draw: mannequinBlazer,
      },
    ],
  },
  {
    handle: 'retro-court-sneakers',
    title: 'Retro Court Sneakers',
    vendor: 'Northfield',
    productType: 'Shoes',
    cpuOutcome: 'refused: BACKEND_BUSY_BACKGROUND (needs a mask or a GPU backend)',
    images: [
      {
        file: 'lifestyle.jpg',
        alt: 'Pair of white leather court sneakers with green heel tabs and green and coral side stripes on a colourful terrazzo floor',
        width: 1600,
        height: 1200,
        background: '#d8cbb3',
        backdrop: busyBackdrop,
        fill: 0.84,
        shiftY: 0.04,
        draw: sneakers,
      },
    ],
  },
  {
    handle: 'linen-button-shirt',
    title: 'Sky Blue Linen Shirt',
    vendor: 'Indigo & Co',
    productType: 'Shirts',
    cpuOutcome: 'cut-out from white (two images: front and back)',
    images: [
      {
        file: 'front.jpg',
        alt: 'Sky blue linen long-sleeve shirt, front, with point collar, shell buttons and a chest pocket',
        width: 1400,
        height: 1750,
        background: WHITE,
        fill: 0.88,
        dropShadow: 0.14,
        draw: () => linenShirt('front'),
      },
      {
        file: 'back.jpg',
        alt: 'Sky blue linen long-sleeve shirt, back, with yoke seam, box pleat and curved shirttail hem',
        width: 1400,
        height: 1750,
        background: WHITE,
        fill: 0.88,
        dropShadow: 0.14,
        draw: () => linenShirt('back'),
      },
    ],
  },
]

// ---------- rendering ----------

function composeSvg(image: SampleImage): string {
  const { width: W, height: H } = image
  const drawing = image.draw()
  const scale = Math.min((W * image.fill) / drawing.w, (H * image.fill) / drawing.h)
  const x = (W - drawing.w * scale) / 2
  const y = (H - drawing.h * scale) / 2 + (image.shiftY ?? 0) * H
  const backdrop = image.backdrop?.(W, H)
  const shadow = image.shadow
    ? `<ellipse cx="${W / 2}" cy="${f1(y + drawing.h * scale * image.shadow.y)}" rx="${f1(drawing.w * scale * image.shadow.rx)}"
        ry="${f1(drawing.h * scale * image.shadow.ry)}" fill="#000" opacity="${image.shadow.opacity}" filter="url(#shadowBlur)"/>`
    : ''
  const drop =
    image.dropShadow && drawing.silhouette
      ? `<g transform="translate(6 12)" fill="#000" opacity="${image.dropShadow}" filter="url(#blur14)">${drawing.silhouette}</g>`
      : ''
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
  <defs>
    <filter id="shadowBlur" x="-50%" y="-50%" width="200%" height="200%"><feGaussianBlur stdDeviation="${f1(Math.min(W, H) * 0.03)}"/></filter>
    ${softFilters()}
    ${drawing.defs}
    ${backdrop?.defs ?? ''}
  </defs>
  ${image.background ? `<rect width="${W}" height="${H}" fill="${image.background}"/>` : ''}
  ${backdrop?.body ?? ''}
  ${shadow}
  <g transform="translate(${f1(x)} ${f1(y)}) scale(${scale.toFixed(5)})">${drop}${drawing.body}</g>
</svg>`
}

async function renderImage(image: SampleImage): Promise<Buffer> {
  const svg = Buffer.from(composeSvg(image))
  const pipeline = sharp(svg, { density: 72 }).resize(image.width, image.height)
  if (image.file.endsWith('.png')) return pipeline.png({ compressionLevel: 9, adaptiveFiltering: true }).toBuffer()
  return pipeline
    .flatten({ background: image.background ?? WHITE })
    .jpeg({ quality: JPEG_QUALITY, mozjpeg: true })
    .toBuffer()
}

async function writeProduct(dir: string, product: SampleProduct): Promise<number> {
  const folder = path.join(dir, product.handle)
  await mkdir(folder, { recursive: true })
  let bytes = 0
  for (const image of product.images) {
    const data = await renderImage(image)
    await writeFile(path.join(folder, image.file), data)
    bytes += data.length
    console.log(`  ${product.handle}/${image.file}  ${image.width}×${image.height}  ${(data.length / 1024).toFixed(0)} KB`)
  }
  const json = {
    id: product.handle,
    title: product.title,
    vendor: product.vendor,
    productType: product.productType,
    status: 'active',
    images: product.images.map((i) => ({ file: i.file, alt: i.alt })),
  }
  await writeFile(path.join(folder, 'product.json'), `${JSON.stringify(json, null, 2)}\n`)
  return bytes
}

/** What each sample is for: the demo and the CPU backend's tests lean on these expectations. */
function catalogReadme(): string {
  const rows = products.flatMap((p) =>
    p.images.map(
      (i) =>
        `| ${p.handle} | ${i.file} | ${i.width}×${i.height} | ${i.file.endsWith('.png') ? 'PNG + alpha' : 'JPEG'} | ${i.backdrop ? 'busy multicolour' : (i.background ?? 'transparent')} | ${p.cpuOutcome} |`,
    ),
  )
  return [
    '# Sample catalog',
    '',
    'Generated by `npm run catalog:sample` (scripts/make-sample-catalog.ts); do not edit by hand.',
    'Each folder is one product for the local platform: `product.json` plus its images.',
    '',
    '| handle | file | size | format | background | expected CPU backend outcome |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n')
}

async function main(): Promise<void> {
  const dir = path.resolve(process.argv[2] ?? 'catalog')
  const only = process.argv[3]
  console.log(`Writing sample catalog to ${dir}`)
  let total = 0
  let written = 0
  for (const product of products) {
    if (only && product.handle !== only) continue
    // why: a clean folder per sample product so renamed files do not linger;
    // folders that are not ours to generate are left alone.
    await rm(path.join(dir, product.handle), { recursive: true, force: true })
    total += await writeProduct(dir, product)
    written++
  }
  if (!only) await writeFile(path.join(dir, 'README.md'), catalogReadme())
  console.log(`Done: ${written} products, ${(total / 1024 / 1024).toFixed(2)} MB`)
}

await main()
