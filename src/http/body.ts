// Request bodies reach handlers as text (see app.ts), so that a handler can answer 404 and 403
// before it judges the JSON. Here the text becomes an object, or a 400 (a body that was not valid
// UTF-8 arrives as INVALID_UTF8, see content-types.ts, and is a 400 here, in the spec's order).
import sjson from 'secure-json-parse'
import type { FastifyRequest } from 'fastify'
import { Errors } from './errors.ts'

export function jsonObject(request: FastifyRequest): Record<string, unknown> {
  const text = request.body
  if (text === undefined || text === null || text === '') return {}
  // Anything but text (INVALID_UTF8 included) is not a JSON string.
  if (typeof text !== 'string') throw Errors.invalidJson()
  let parsed: unknown
  try {
    parsed = sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' })
  } catch {
    throw Errors.invalidJson()
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw Errors.invalidJson()
  return parsed as Record<string, unknown>
}
