// Builds the Fastify application: cross-cutting HTTP behaviour first, then the /v1 tree with
// authentication in front of every resource. Nothing else happens here.
import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Logger } from 'pino'
import { authentication } from './http/auth.ts'
import { Errors, toApiError } from './http/errors.ts'
import './http/services.ts'
import type { Services } from './http/services.ts'
import { isConnectionError } from './storage/database.ts'
import appOfferings from './resources/app-offerings/index.ts'
import serviceInstances from './resources/service-instances/index.ts'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/
const BODY_METHODS = new Set(['POST', 'PATCH', 'PUT'])
const V1_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'",
}

export async function buildApp(services: Services, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: services.config.bodyLimit,
    trustProxy: services.config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    return503OnClosing: true,
    routerOptions: { maxParamLength: 256 },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('services', services)

  // Bodies stay text until a handler has found the record and checked the scope (spec order:
  // 404 and 403 before 400). JSON is the only media type; anything else is a 415.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body))
  app.addHook('onRequest', async (request) => {
    // A body without a Content-Type is read as JSON (conventions.md §7).
    if (BODY_METHODS.has(request.method) && request.headers['content-type'] === undefined) {
      request.headers['content-type'] = 'application/json'
    }
  })

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
    if (request.url.startsWith('/v1')) reply.headers(V1_HEADERS)
  })

  app.addHook('onResponse', async (request, reply) => {
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
  })

  app.setErrorHandler(async (error, request: FastifyRequest, reply: FastifyReply) => {
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

  await app.register(
    async (v1) => {
      authentication(v1)
      v1.setNotFoundHandler(async () => {
        throw Errors.notFound()
      })
      v1.get('/', { config: { public: true }, schema: { hide: true } }, async () => ({}))
      await v1.register(appOfferings)
      await v1.register(serviceInstances)
    },
    { prefix: '/v1' },
  )
  return app
}
