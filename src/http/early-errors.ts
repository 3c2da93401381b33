// Errors answered before any route is found: a URL that does not decode or a parameter past its
// length (Fastify's frameworkErrors), and requests Node's HTTP parser refuses (clientErrorHandler:
// a malformed request line or header, headers too large, a request that took too long). They get
// the 4me error body, an X-Request-Id and the /v1 security headers like every other answer, never
// Fastify's default body.
import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ApiError, Errors } from './errors.ts'
import { V1_HEADERS } from './security-headers.ts'

/** The catalogue error for an error Fastify raises before routing. */
export function earlyError(error: FastifyError): ApiError {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return Errors.badRequest('Invalid URL: malformed percent-encoding')
    case 'FST_ERR_MAX_PARAM_LENGTH':
      // No record has an id that long.
      return Errors.notFound()
    default:
      return Errors.internal()
  }
}

/** Fastify's `frameworkErrors` option. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const known = earlyError(error)
  if (known.statusCode >= 500) request.log.error({ err: error }, 'error before routing')
  void reply
    .code(known.statusCode)
    .headers({ ...known.headers, ...V1_HEADERS, 'x-request-id': request.id })
    .send(known.body)
}

const CLIENT_ERRORS: Record<string, () => ApiError> = {
  ERR_HTTP_REQUEST_TIMEOUT: () => new ApiError(408, 'REQUEST_TIMEOUT', 'Request Timeout'),
  HPE_HEADER_OVERFLOW: () => new ApiError(431, 'HEADERS_TOO_LARGE', 'Request Header Fields Too Large'),
}

/** Fastify's `clientErrorHandler` option: what Node's parser refuses, answered and the socket closed. */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const known = CLIENT_ERRORS[error.code ?? '']?.() ?? Errors.badRequest('Bad Request')
  const body = JSON.stringify(known.body)
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-request-id': randomUUID(),
    ...V1_HEADERS,
    ...known.headers,
    connection: 'close',
  }
  if (socket.writable) {
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
    socket.write(`HTTP/1.1 ${known.statusCode} ${STATUS_CODES[known.statusCode]}\r\n${head}\r\n${body}`)
  }
  socket.destroy(error)
}
