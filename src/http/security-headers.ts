// The headers every /v1 answer carries (conventions.md §10): nothing is cached, nothing is
// sniffed, and a browser runs nothing from an API answer. Registered in the /v1 context.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

export const V1_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'",
}

export const securityHeaders = fp(
  async (app: FastifyInstance) => {
    app.addHook('onSend', (_request, reply, payload, done) => {
      reply.headers(V1_HEADERS)
      done(null, payload)
    })
  },
  { name: 'security-headers' },
)
