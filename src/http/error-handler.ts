// Every error leaves as a body of the error catalogue: known errors as they are, a lost database
// as 503, anything else as a 500 whose details stay in the log (with the request id).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Errors, toApiError } from './errors.ts'
import { isConnectionError } from '../storage/database.ts'

export const errorHandler = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler(async (error, request, reply) => {
      let known = toApiError(error)
      if (!known && isConnectionError(error)) {
        request.log.warn({ err: error }, 'database unavailable')
        known = Errors.serviceUnavailable()
      }
      if (!known) {
        request.log.error({ err: error }, 'unhandled error')
        known = Errors.internal()
      }
      return reply.code(known.statusCode).headers(known.headers).send(known.body)
    })

    app.setNotFoundHandler(async () => {
      throw Errors.notFound()
    })
  },
  { name: 'error-handler' },
)
