// One JSON log line per request, written when the answer has gone out, and the request id on
// every answer. The line names the token by id; the token itself never reaches the log.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

export const requestLog = fp(
  async (app: FastifyInstance) => {
    // Callback-style hooks: on every request, a promise per hook is measurable.
    app.addHook('onSend', (request, reply, payload, done) => {
      reply.header('x-request-id', request.id)
      done(null, payload)
    })

    app.addHook('onResponse', (request, reply, done) => {
      request.log.info(
        {
          account: request.auth?.account.id,
          tokenId: request.auth?.tokenId,
          method: request.method,
          route: request.routeOptions.url,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request',
      )
      done()
    })
  },
  { name: 'request-log' },
)
