// Keyset cursors: the sort key values of a page's boundary record, the sort they belong to, the
// page number they lead to and the count of the walk's first page, as base64url JSON with an
// HMAC. A cursor that was not made by this deployment, or was changed on the way, does not decode.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { SortKey } from './parse.ts'
import type { Count } from './paging.ts'

export interface CursorPayload {
  sort: string
  values: unknown[]
  page: number
  /** What the walk's first page counted (a cursor made before counts were carried has none). */
  count?: Count
}

const MAC_BYTES = 16
const MAX_CURSOR_LENGTH = 4096

export function sortSignature(sort: SortKey[]): string {
  return sort.map((key) => (key.descending ? '-' : '') + key.field.name).join(',')
}

function mac(secret: string, data: string): Buffer {
  return createHmac('sha256', secret).update('cursor:').update(data).digest().subarray(0, MAC_BYTES)
}

export function encodeCursor(secret: string, payload: CursorPayload): string {
  const count = payload.count?.scope ? [payload.count.total, payload.count.throttled ? 1 : 0, payload.count.scope] : []
  const data = Buffer.from(JSON.stringify([payload.sort, payload.values, payload.page, ...count])).toString('base64url')
  return `${data}.${mac(secret, data).toString('base64url')}`
}

export function decodeCursor(secret: string, text: string): CursorPayload | undefined {
  if (text.length > MAX_CURSOR_LENGTH) return undefined
  const dot = text.indexOf('.')
  if (dot < 1) return undefined
  const data = text.slice(0, dot)
  const given = Buffer.from(text.slice(dot + 1), 'base64url')
  const expected = mac(secret, data)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  try {
    const parsed: unknown = JSON.parse(Buffer.from(data, 'base64url').toString())
    if (!Array.isArray(parsed) || (parsed.length !== 3 && parsed.length !== 6)) return undefined
    const [sort, values, page, total, throttled, scope] = parsed
    if (typeof sort !== 'string' || !Array.isArray(values) || !Number.isSafeInteger(page) || page < 1) return undefined
    if (parsed.length === 3) return { sort, values, page }
    if (!Number.isSafeInteger(total) || total < 0 || (throttled !== 0 && throttled !== 1) || typeof scope !== 'string') return undefined
    return { sort, values, page, count: { total, throttled: throttled === 1, scope } }
  } catch {
    return undefined
  }
}
