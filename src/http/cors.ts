// Browsers may call the API only from the origins in CORS_ORIGINS; without it no CORS headers
// are sent at all. Preflight requests are answered before authentication (they carry no token).
import fp from 'fastify-plugin'
import fastifyCors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'

const REQUEST_HEADERS = ['authorization', 'content-type', 'x-4me-account', 'x-xurrent-account', 'x-4me-source', 'x-xurrent-source', 'x-request-id', 'if-match', 'if-none-match']
const EXPOSED_HEADERS = [
  'link', 'location', 'etag', 'retry-after', 'x-request-id',
  'x-pagination-per-page', 'x-pagination-current-page', 'x-pagination-total-pages', 'x-pagination-total-entries', 'x-pagination-throttled',
  'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset',
]

export const cors = fp(
  async (app: FastifyInstance) => {
    const origins = app.services.config.corsOrigins
    if (origins.length === 0) return
    await app.register(fastifyCors, {
      origin: origins.includes('*') ? '*' : origins,
      methods: ['GET', 'POST', 'PATCH', 'PUT'],
      allowedHeaders: REQUEST_HEADERS,
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600,
    })
  },
  { name: 'cors' },
)
