// Every error leaves as a body of the error catalogue: known errors as they are, a lost database
// or a storage fault (a full or read-only disk, platform/faults.ts) as 503, anything else as a 500
// whose details stay in the log (with the request id). A write that succeeds ends a storage fault.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Errors, toApiError } from './errors.ts'
import { isConnectionError, isStatementTimeout } from '../storage/database.ts'
import { isStorageFault, StorageHealth } from '../platform/faults.ts'

const WRITES = new Set(['POST', 'PATCH', 'PUT', 'DELETE'])

export const errorHandler = fp(
  async (app: FastifyInstance) => {
    const storage = new StorageHealth(app.services.database, app.log)
    app.decorate('storageHealth', storage)

    app.setErrorHandler(async (error, request, reply) => {
      let known = toApiError(error)
      if (!known && isConnectionError(error)) {
        request.log.warn({ err: error }, 'database unavailable')
        known = Errors.serviceUnavailable()
      }
      if (!known && isStatementTimeout(error)) {
        request.log.warn({ err: error }, 'a statement took longer than REQUEST_TIMEOUT and was cancelled')
        known = Errors.serviceUnavailable()
      }
      if (!known && isStorageFault(error)) {
        // Logged by StorageHealth when the fault is new, with its cause; not once per request.
        await storage.failed(error, request.log)
        known = Errors.serviceUnavailable()
      }
      if (!known) {
        request.log.error({ err: error }, 'unhandled error')
        known = Errors.internal()
      }
      return reply.code(known.statusCode).headers(known.headers).send(known.body)
    })

    // During a storage fault, the first write that succeeds ends it (no cost otherwise).
    app.addHook('onResponse', (request, reply, done) => {
      if (storage.fault() !== undefined && WRITES.has(request.method) && reply.statusCode < 300) storage.succeeded()
      done()
    })

    app.setNotFoundHandler(async () => {
      throw Errors.notFound()
    })
  },
  { name: 'error-handler' },
)
