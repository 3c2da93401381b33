// Conditional requests on single records (conventions.md §10). A record's weak ETag is its
// version counter, which every update increases: two updates in one second give two tags.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Errors } from './errors.ts'

interface Versioned {
  lock_version?: unknown
}

export function etag(row: Versioned): string {
  return `W/"${Number(row.lock_version)}"`
}

/** Sets the record's ETag on the answer. */
export function tag(reply: FastifyReply, row: Versioned): void {
  reply.header('etag', etag(row))
}

/** The entity tags of a list header, without their weak prefixes ('*' as is). */
function tags(value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  const text = Array.isArray(value) ? value.join(',') : (value ?? '')
  return [...text.matchAll(/(?:W\/)?("[^"]*"|\*)/g)].map((m) => m[1])
}

const opaque = (row: Versioned) => etag(row).slice(2)

/** True when If-None-Match names the record's current tag (or *): the answer is a 304. */
export function notModified(request: FastifyRequest, row: Versioned): boolean {
  const given = tags(request.headers['if-none-match'])
  return given.includes('*') || given.includes(opaque(row))
}

/**
 * The version an update must still find, from If-Match: undefined without the header or with
 * `*`; a stale tag is a 409 before anything is read from the body.
 */
export function expectedVersion(request: FastifyRequest, row: Versioned): number | undefined {
  if (request.headers['if-match'] === undefined) return undefined
  const given = tags(request.headers['if-match'])
  if (given.includes('*')) return undefined
  if (!given.includes(opaque(row))) throw Errors.conflict()
  return Number(row.lock_version)
}
