// Fastify's and node's errors mapped onto the catalogue (src/errors.ts): the HTTP edge of it.
import { ApiError, Errors } from '../errors.ts'

export { ApiError, Errors, type FieldError } from '../errors.ts'

// Fastify's own errors, by code, mapped onto the catalogue.
const FASTIFY_ERRORS: Record<string, () => ApiError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: Errors.invalidJson,
  FST_ERR_CTP_EMPTY_JSON_BODY: Errors.invalidJson,
  FST_ERR_CTP_BODY_TOO_LARGE: Errors.payloadTooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: Errors.unsupportedMediaType,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => Errors.badRequest('Invalid Content-Length'),
  FST_ERR_CTP_INVALID_TYPE: Errors.unsupportedMediaType,
  FST_ERR_BAD_URL: () => Errors.badRequest('Invalid URL: malformed percent-encoding'),
}

/** The catalogue error for anything thrown while answering; undefined means a bug (500). */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error
  const e = error as { code?: string; statusCode?: number } | null
  if (e?.code && FASTIFY_ERRORS[e.code]) return FASTIFY_ERRORS[e.code]()
  if (e?.statusCode === 413) return Errors.payloadTooLarge()
  if (e?.statusCode === 415) return Errors.unsupportedMediaType()
  if (e?.statusCode === 400 && (error as Error).name === 'SyntaxError') return Errors.invalidJson()
  return undefined
}
