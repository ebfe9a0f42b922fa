// Recognises an upload from its first bytes, before any decoder sees it.
// why: decoders (libvips, librsvg, poppler) parse whatever they are handed;
// deciding the format ourselves means SVG, PDF and friends never reach them.

export type AcceptedFormat = 'jpeg' | 'png' | 'webp' | 'avif'

export type Sniffed =
  | { kind: 'accepted'; format: AcceptedFormat }
  | { kind: 'svg' }
  | { kind: 'unsupported'; format: string }
  | { kind: 'not-image'; what: string }

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
const AVIF_BRANDS = new Set(['avif', 'avis'])
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1'])
/** How much of a text file is searched for an `<svg` root. */
const TEXT_WINDOW = 4096

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false
  for (let i = 0; i < signature.length; i++) if (bytes[offset + i] !== signature[i]) return false
  return true
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, Math.min(end, bytes.length)))
}

/** ISO-BMFF `ftyp` box: major brand plus compatible brands (AVIF, HEIC, MP4 all use it). */
function ftypBrands(bytes: Uint8Array): string[] | undefined {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== 'ftyp') return undefined
  const boxSize = Math.min(bytes.length, ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0)
  const brands = [ascii(bytes, 8, 12)]
  for (let at = 16; at + 4 <= boxSize; at += 4) brands.push(ascii(bytes, at, at + 4))
  return brands
}

function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 512)
  let printable = 0
  for (let i = 0; i < n; i++) {
    const b = bytes[i]
    if (b === 0) return false
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b !== 127)) printable++
  }
  return printable / n > 0.95
}

function sniffMarkup(bytes: Uint8Array): Sniffed | undefined {
  const head = new TextDecoder('utf-8', { fatal: false })
    .decode(bytes.subarray(0, TEXT_WINDOW))
    .replace(/^\uFEFF/, '')
    .trimStart()
  if (!head.startsWith('<')) return undefined
  // why: an SVG may open with an XML declaration, comments or a DOCTYPE
  // (where XXE payloads live) before its root, so search, don't just peek.
  if (/<svg[\s>/]/i.test(head) || /<!DOCTYPE\s+svg/i.test(head)) return { kind: 'svg' }
  return { kind: 'not-image', what: /<html[\s>]/i.test(head) ? 'a web page' : 'an XML document' }
}

export function sniffImage(bytes: Uint8Array): Sniffed {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: 'accepted', format: 'jpeg' }
  if (startsWith(bytes, PNG_SIGNATURE)) return { kind: 'accepted', format: 'png' }
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return { kind: 'accepted', format: 'webp' }
  const brands = ftypBrands(bytes)
  if (brands) {
    if (brands.some((b) => AVIF_BRANDS.has(b))) return { kind: 'accepted', format: 'avif' }
    if (brands.some((b) => HEIC_BRANDS.has(b))) return { kind: 'unsupported', format: 'HEIC' }
    return { kind: 'not-image', what: 'a video or other media file' }
  }
  const magic4 = ascii(bytes, 0, 4)
  if (magic4 === 'GIF8') return { kind: 'unsupported', format: 'GIF' }
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return { kind: 'unsupported', format: 'TIFF' }
  if (magic4 === '8BPS') return { kind: 'unsupported', format: 'Photoshop (PSD)' }
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return { kind: 'unsupported', format: 'ICO' }
  if (startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20])) return { kind: 'unsupported', format: 'JPEG 2000' }
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) {
    return { kind: 'unsupported', format: 'JPEG XL' }
  }
  if (magic4.startsWith('BM') && bytes.length >= 26) return { kind: 'unsupported', format: 'BMP' }
  if (magic4 === '%PDF') return { kind: 'not-image', what: 'a PDF document' }
  if (startsWith(bytes, [0x1f, 0x8b])) return { kind: 'not-image', what: 'a compressed archive' }
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return { kind: 'not-image', what: 'a ZIP archive or Office document' }
  const markup = sniffMarkup(bytes)
  if (markup) return markup
  return { kind: 'not-image', what: looksLikeText(bytes) ? 'a text file' : 'an unknown kind of file' }
}

function u32be(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0
}

/**
 * Whether the file's own structure says it stops before its end marker.
 * why: decoders report truncation and corruption with the same generic
 * "read error" for some formats; the container tells the two apart.
 */
export function endsEarly(bytes: Uint8Array, format: AcceptedFormat): boolean {
  switch (format) {
    case 'png': {
      let at = 8
      while (at + 8 <= bytes.length) {
        const next = at + 12 + u32be(bytes, at)
        if (next > bytes.length) return true
        if (ascii(bytes, at + 4, at + 8) === 'IEND') return false
        at = next
      }
      return true
    }
    case 'jpeg': {
      let end = bytes.length
      // why: some encoders pad after the end-of-image marker; padding is not data.
      while (end > 2 && bytes[end - 1] === 0x00) end--
      return !(bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9)
    }
    case 'webp': {
      // RIFF sizes are little-endian and exclude the 8-byte RIFF header.
      const riffSize = (bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24)) >>> 0
      return bytes.length < 12 || riffSize + 8 > bytes.length
    }
    case 'avif': {
      let at = 0
      while (at + 8 <= bytes.length) {
        const size = u32be(bytes, at)
        if (size < 8) return false // 0 = "to end of file", 1 = 64-bit size: trust the decoder
        at += size
      }
      return at > bytes.length
    }
  }
}
