// JSON is the only media type: anything else is a 415, a body without a Content-Type is read as
// JSON (conventions.md §7), and bodies stay text until a handler has found the record and checked
// the scope (spec order: 404 and 403 before 400). A byte is never silently replaced: a charset
// other than UTF-8 is a 415 here, and a body that is not valid UTF-8 reaches the handler as
// INVALID_UTF8, which jsonObject answers with a 400 in its turn. Past BODY_LIMIT the answer is a
// 413, and the rest of the body is read and dropped, up to a bound, so that the client gets to read it.
import fp from 'fastify-plugin'
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { Errors } from './errors.ts'

const BODY_METHODS = new Set(['POST', 'PATCH', 'PUT'])
/** How much of a refused body is read and dropped before the connection is cut. */
const DISCARD_BOUND = 64 * 1024 * 1024
const DISCARD_MS = 10_000
const CHARSET = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i
const UTF8 = /^utf-?8$/i
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The body of a request whose bytes are not UTF-8: not text, so jsonObject refuses it (400). */
export const INVALID_UTF8: unique symbol = Symbol('invalid UTF-8')

/** The charset a Content-Type names, if any. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const match = contentType ? CHARSET.exec(contentType) : null
  return match ? (match[1] ?? match[2]) : undefined
}

export const contentTypes = fp(
  async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      const charset = charsetOf(request.headers['content-type'])
      if (charset !== undefined && !UTF8.test(charset)) return done(Errors.unsupportedMediaType(), undefined)
      let text: string | typeof INVALID_UTF8
      try {
        text = strictUtf8.decode(body as Buffer)
      } catch {
        text = INVALID_UTF8
      }
      done(null, text)
    })

    app.addHook('onRequest', (request, _reply, done) => {
      if (BODY_METHODS.has(request.method) && request.headers['content-type'] === undefined) {
        request.headers['content-type'] = 'application/json'
      }
      done()
    })

    // Fastify answers a declared-too-large body with `Connection: close`: Node then closes the
    // socket with the body still arriving, and the kernel's reset can discard the 413 before the
    // client reads it. The connection stays open while the rest is read and dropped (below).
    app.addHook('onSend', (request, reply, payload, done) => {
      if (reply.statusCode === 413 && !request.raw.complete) reply.removeHeader('connection')
      done(null, payload)
    })

    app.addHook('onResponse', (request, reply, done) => {
      done()
      if (reply.statusCode === 413) discardRest(request.raw)
    })
  },
  { name: 'content-types' },
)

/**
 * After an answer given before the body was read to its end (a 413, a refused upload): reads and
 * drops the rest, up to a bound, then closes the connection in order, so the client reads the
 * answer instead of a reset.
 */
export function discardRest(raw: IncomingMessage): void {
  // Read to its end already (by a parser, or an injected request that has no `complete`).
  if (raw.complete || raw.destroyed || raw.readableEnded) return
  let discarded = 0
  // (An injected request's socket is a stand-in without destroy() or end().)
  const cut = () => (raw.socket as { destroy?: () => void } | null)?.destroy?.()
  const timer = setTimeout(cut, DISCARD_MS).unref()
  // Whatever was reading it (a multipart parser) stops; nothing more reaches it.
  raw.unpipe()
  raw.on('data', (chunk: Buffer) => {
    discarded += chunk.length
    if (discarded > DISCARD_BOUND) cut()
  })
  // Everything read: nothing is left to reset, so the close is an orderly one.
  raw.once('end', () => {
    clearTimeout(timer)
    // (An injected request's socket is a stand-in without end().)
    const socket = raw.socket as { end?: () => void } | null
    socket?.end?.()
  })
  raw.resume()
}
