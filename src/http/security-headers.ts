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
      // A route may only narrow the policy (a download adds `sandbox`); never loosen the rest.
      const narrowed = reply.getHeader('content-security-policy')
      reply.headers(V1_HEADERS)
      if (typeof narrowed === 'string' && narrowed.startsWith(V1_HEADERS['content-security-policy'])) reply.header('content-security-policy', narrowed)
      done(null, payload)
    })
  },
  { name: 'security-headers' },
)
