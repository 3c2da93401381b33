// Conditional requests (conventions.md §10). An ETag is a digest of the representation sent, as
// Rails' Rack::ETag makes it (W/ and the first 32 hex digits of its SHA-256): it changes whenever
// the body would, a renamed referenced record included, on records and collections alike.
import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Row } from '../catalogue/resource.ts'
import { Errors } from '../errors.ts'

export function etag(body: string): string {
  return `W/"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`
}

/** Sets the body's ETag on the answer and returns it. */
export function tag(reply: FastifyReply, body: string): string {
  const value = etag(body)
  reply.header('etag', value)
  return value
}

/** The entity tags of a list header, without their weak prefixes ('*' as is). */
function tags(value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  const text = Array.isArray(value) ? value.join(',') : (value ?? '')
  return [...text.matchAll(/(?:W\/)?("[^"]*"|\*)/g)].map((m) => m[1])
}

/** True when If-None-Match names this tag (or *): the answer is a 304. */
export function notModified(request: FastifyRequest, current: string): boolean {
  if (request.headers['if-none-match'] === undefined) return false
  const given = tags(request.headers['if-none-match'])
  return given.includes('*') || given.includes(current.slice(2))
}

/**
 * The version an update must still find, from If-Match compared weakly with the tag of the
 * record as it would be sent now (`body`): undefined without the header or with `*`; a stale
 * tag is a 409 before anything is read from the body.
 */
export function expectedVersion(request: FastifyRequest, body: string, row: Row): number | undefined {
  if (request.headers['if-match'] === undefined) return undefined
  const given = tags(request.headers['if-match'])
  if (given.includes('*')) return undefined
  if (!given.includes(etag(body).slice(2))) throw Errors.conflict()
  return Number(row.lock_version)
}
