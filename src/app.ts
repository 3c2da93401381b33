// Builds the Fastify application as a list of plugins, in the order they act on a request:
// cross-cutting HTTP behaviour first, then the operational routes and the documentation, then
// the /v1 tree with authentication and rate limits in front of every resource.
import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Logger } from 'pino'
import './http/services.ts'
import type { Services } from './http/services.ts'
import { authentication } from './http/auth.ts'
import { Errors } from './http/errors.ts'
import { contentTypes } from './http/content-types.ts'
import { cors } from './http/cors.ts'
import { errorHandler } from './http/error-handler.ts'
import { clientErrorHandler, frameworkErrors } from './http/early-errors.ts'
import { health } from './http/health.ts'
import { discoveryRoutes, jwksRoutes } from './http/jwks.ts'
import { openapi, openapiDocument } from './http/openapi.ts'
import { canonicalUrl } from './http/paths.ts'
import { people } from './http/people.ts'
import { counters, rateLimit } from './http/rate-limit.ts'
import { requestLog } from './http/request-log.ts'
import { securityHeaders } from './http/security-headers.ts'
import { sendTimeout } from './http/send-timeout.ts'
import { recordRoutes } from './http/routes/records.ts'
import { attachmentRoutes } from './http/routes/attachments.ts'
import { Sweeper } from './platform/sweeper.ts'
import { Uploads } from './records/uploads.ts'
import { openFileStores } from './storage/files/files.ts'
import { RESOURCES } from './resources/index.ts'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export async function buildApp(services: Services, logger: Logger): Promise<FastifyInstance> {
  const { config } = services
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request, written by the request-log plugin.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    requestTimeout: config.requestTimeoutSeconds * 1000,
    // Node enforces both timeouts only when it sweeps its connections (every 30 s by default):
    // sweep often enough that a slow client is cut soon after its time is up.
    http: { connectionsCheckingInterval: Math.min(config.requestTimeoutSeconds, 5) * 1000 },
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    return503OnClosing: true,
    routerOptions: { maxParamLength: 256 },
    // Errors before routing and those Node's parser answers get 4me bodies too (early-errors.ts).
    frameworkErrors,
    clientErrorHandler,
    // `/v1/app_offerings/`, `/v1/app_offerings/12.json`, `?ids=1,2`: see http/paths.ts.
    rewriteUrl: (req) => canonicalUrl(req.url ?? '/'),
  }).withTypeProvider<TypeBoxTypeProvider>()
  // Headers must arrive well within the request timeout.
  app.server.headersTimeout = Math.min(config.requestTimeoutSeconds, 10) * 1000

  // Route schemas describe requests for the OpenAPI document; the field catalogues validate
  // them (4me coercion and Rails-worded errors are not JSON Schema), so Ajv accepts everything.
  app.setValidatorCompiler(() => () => true)
  app.decorate('services', services)
  // Uploaded files: their store, chosen by ATTACHMENT_STORAGE, and the sweeper of those no record uses.
  const uploads = new Uploads(services.database, openFileStores(services.database, config.attachments), services.secretKey, config.attachments)
  app.decorate('uploads', uploads)
  const sweeper = new Sweeper(uploads, config.attachments.sweepIntervalSeconds, app.log)
  app.addHook('onReady', async () => sweeper.start())
  app.addHook('onClose', () => sweeper.stop())

  await app.register(requestLog)
  await app.register(sendTimeout)
  await app.register(cors)
  await app.register(contentTypes)
  await app.register(errorHandler)
  await app.register(counters)
  await app.register(openapi)
  await app.register(health)
  // The issuers' OpenID Connect discovery documents (webhook deliveries), public like /healthz.
  await app.register(discoveryRoutes)

  await app.register(
    async (v1) => {
      await v1.register(securityHeaders)
      await v1.register(authentication)
      await v1.register(rateLimit)
      // Under /v1 an unknown path needs a token first, like any other.
      v1.setNotFoundHandler(async () => {
        throw Errors.notFound()
      })
      v1.get('/', { config: { public: true }, schema: { tags: ['operations'], summary: 'The API root', security: [] } }, async () => ({}))
      await v1.register(openapiDocument)
      for (const { resource, rules } of RESOURCES) await v1.register(recordRoutes(resource, rules))
      await v1.register(jwksRoutes)
      await v1.register(attachmentRoutes(uploads, RESOURCES.filter(({ rules }) => rules.links)))
      await v1.register(people)
    },
    { prefix: '/v1' },
  )
  return app
}
