// JSON is the only media type: anything else is a 415, a body without a Content-Type is read as
// JSON (conventions.md §7), and bodies stay text until a handler has found the record and checked
// the scope (spec order: 404 and 403 before 400). Past BODY_LIMIT the answer is a 413, and the
// rest of the body is read and dropped, up to a bound, so that the client gets to read it.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

const BODY_METHODS = new Set(['POST', 'PATCH', 'PUT'])
/** How much of a refused body is read and dropped before the connection is cut. */
const DISCARD_BOUND = 64 * 1024 * 1024
const DISCARD_MS = 10_000

export const contentTypes = fp(
  async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body))

    app.addHook('onRequest', (request, _reply, done) => {
      if (BODY_METHODS.has(request.method) && request.headers['content-type'] === undefined) {
        request.headers['content-type'] = 'application/json'
      }
      done()
    })

    app.addHook('onResponse', (request, reply, done) => {
      done()
      const raw = request.raw
      if (reply.statusCode !== 413 || raw.complete || raw.destroyed) return
      let discarded = 0
      const cut = () => raw.socket?.destroy()
      const timer = setTimeout(cut, DISCARD_MS).unref()
      raw.on('data', (chunk: Buffer) => {
        discarded += chunk.length
        if (discarded > DISCARD_BOUND) cut()
      })
      raw.once('end', () => clearTimeout(timer))
      raw.resume()
    })
  },
  { name: 'content-types' },
)
