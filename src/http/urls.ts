import type { FastifyRequest } from 'fastify'

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/

/**
 * Base of absolute URLs: PUBLIC_URL when configured, else the request's protocol and Host
 * (forwarding headers count only with TRUST_PROXY, which Fastify applies to protocol and host).
 */
export function baseUrl(request: FastifyRequest): string {
  const configured = request.server.services.config.publicUrl
  if (configured) return configured.href.replace(/\/$/, '')
  const host = HOST.test(request.host) ? request.host : 'localhost'
  return `${request.protocol}://${host}`
}

/** The raw query string of a request, without the '?'. */
export function rawQuery(request: FastifyRequest): string {
  const q = request.url.indexOf('?')
  return q === -1 ? '' : request.url.slice(q + 1)
}
