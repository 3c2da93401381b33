// picture_uri: an http(s) URL of at most 2,048 characters, or a data: URL of a JPG, GIF, WEBP,
// PNG or SVG image of at most 2 MiB once decoded.
import { codePoints, isHttpUrl } from '../../catalogue/types.ts'

const MAX_URL = 2048
const MAX_IMAGE_BYTES = 2 * 1024 * 1024
/** The longest picture_uri as JSON text: a data: URL of 2 MiB in base64 (which has nothing to escape). */
export const MAX_PICTURE_TEXT = 2 + 'data:image/svg+xml;base64,'.length + Math.ceil(MAX_IMAGE_BYTES / 3) * 4
const DATA_URL = /^data:image\/(jpeg|jpg|gif|webp|png|svg\+xml);base64,([A-Za-z0-9+/]*={0,2})$/

export function isPictureUri(value: string): boolean {
  if (value.startsWith('data:')) {
    const match = DATA_URL.exec(value)
    if (!match) return false
    const data = match[2]
    const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0
    return data.length % 4 === 0 && (data.length / 4) * 3 - padding <= MAX_IMAGE_BYTES
  }
  return codePoints(value) <= MAX_URL && isHttpUrl(value)
}
