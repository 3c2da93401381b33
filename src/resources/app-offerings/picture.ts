// picture_uri: an http(s) URL of at most 2,048 characters, or a data: URL of a JPG, GIF, WEBP,
// PNG or SVG image of at most 2 MiB once decoded. What a data: URL holds is judged by its bytes,
// not by the type it claims: a PNG labelled image/jpeg is stored as image/png, and bytes that are
// none of the five image types are refused. An SVG is text a browser could run script from
// (opened on its own, or inlined): one that carries script, event handlers, javascript: URLs,
// foreign content, entities or references to anything outside itself is refused.
import { codePoints, isHttpUrl } from '../../catalogue/types.ts'

const MAX_URL = 2048
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024
/** The longest picture_uri as JSON text: a data: URL of 2 MiB in base64 (which has nothing to escape). */
export const MAX_PICTURE_TEXT = 2 + 'data:image/svg+xml;base64,'.length + Math.ceil(MAX_IMAGE_BYTES / 3) * 4
const DATA_URL = /^data:image\/(jpeg|jpg|gif|webp|png|svg\+xml);base64,([A-Za-z0-9+/]*={0,2})$/

export type ImageType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | 'image/svg+xml'

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** The image type the bytes are, whatever their name or label says; undefined for anything else. */
export function sniffImage(bytes: Uint8Array): ImageType | undefined {
  const starts = (...magic: number[]) => magic.every((byte, i) => bytes[i] === byte)
  const ascii = (from: number, text: string) => [...text].every((c, i) => bytes[from + i] === c.charCodeAt(0))
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png'
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg'
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'image/gif'
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp'
  if (isSvg(bytes)) return 'image/svg+xml'
  return undefined
}

/** SVG text: an optional XML declaration, comments and doctype, then the <svg> element. */
function isSvg(bytes: Uint8Array): boolean {
  let text: string
  try {
    text = strictUtf8.decode(bytes)
  } catch {
    return false
  }
  return /^\uFEFF?\s*(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>[]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>/]/i.test(text)
}

// What an SVG may not carry: anything that runs, loads or expands.
const ACTIVE_SVG = [
  /<\s*script/i, /<\s*foreignObject/i, /<\s*(iframe|embed|object|audio|video|handler|listener)\b/i,
  /\son[a-z-]+\s*=/i, /javascript\s*:/i, /vbscript\s*:/i, /<!ENTITY/i, /<!DOCTYPE[^>]*\[/i, /&#/,
  /@import/i, /<\s*(set|animate)[^>]*attributeName\s*=\s*["']?\s*(xlink:)?href/i,
]
// References must stay inside the image (`#id`); an href may also hold a raster image.
const HREF = /href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*))/gi
const CSS_URL = /url\s*\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*))\)/gi
const RASTER = /^data:image\/(png|jpeg|gif|webp);/i

/** Whether an SVG image is inert: nothing in it can run script or fetch anything. */
export function isInertSvg(bytes: Uint8Array): boolean {
  const text = Buffer.from(bytes).toString('utf8')
  if (ACTIVE_SVG.some((pattern) => pattern.test(text))) return false
  const values = (pattern: RegExp) => [...text.matchAll(pattern)].map((m) => (m[1] ?? m[2] ?? m[3] ?? '').trim())
  return values(HREF).every((href) => href.startsWith('#') || RASTER.test(href)) && values(CSS_URL).every((url) => url.startsWith('#'))
}

/** The image a data: URL holds, with the type its bytes are; undefined when it is not an allowed one. */
export function readImage(bytes: Uint8Array): ImageType | undefined {
  if (bytes.length === 0 || bytes.length > MAX_IMAGE_BYTES) return undefined
  const type = sniffImage(bytes)
  if (type === 'image/svg+xml' && !isInertSvg(bytes)) return undefined
  return type
}

export function imageDataUrl(type: ImageType, bytes: Uint8Array): string {
  return `data:${type};base64,${Buffer.from(bytes).toString('base64')}`
}

/** A data: URL's bytes, when it is one in the allowed form and size. */
function dataUrlBytes(value: string): Buffer | undefined {
  const match = DATA_URL.exec(value)
  if (!match) return undefined
  const data = match[2]
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0
  if (data.length % 4 !== 0 || (data.length / 4) * 3 - padding > MAX_IMAGE_BYTES) return undefined
  return Buffer.from(data, 'base64')
}

export function isPictureUri(value: string): boolean {
  if (value.startsWith('data:')) {
    const bytes = dataUrlBytes(value)
    return bytes !== undefined && readImage(bytes) !== undefined
  }
  return codePoints(value) <= MAX_URL && isHttpUrl(value)
}

/** A valid picture_uri as stored: a data: URL labelled with the type its bytes are. */
export function labelledPicture(value: string): string {
  if (!value.startsWith('data:')) return value
  const bytes = dataUrlBytes(value)!
  const type = readImage(bytes)!
  return value.startsWith(`data:${type};`) ? value : imageDataUrl(type, bytes)
}
