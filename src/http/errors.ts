// The error catalogue: every error the API answers is made here, with its status, a stable code
// for logs and tests, and the exact 4me body. Handlers throw these; one handler renders them.

export type FieldError = [field: string, message: string]

export class ApiError extends Error {
  readonly statusCode: number
  readonly code: string
  readonly errors: FieldError[] | undefined
  readonly headers: Record<string, string>

  constructor(statusCode: number, code: string, message: string, options: { errors?: FieldError[]; headers?: Record<string, string> } = {}) {
    super(message)
    this.name = 'ApiError'
    this.statusCode = statusCode
    this.code = code
    this.errors = options.errors
    this.headers = options.headers ?? {}
  }

  get body(): { message: string; errors?: FieldError[] } {
    return this.errors ? { message: this.message, errors: this.errors } : { message: this.message }
  }
}

export const Errors = {
  invalidJson: () => new ApiError(400, 'INVALID_JSON', 'Invalid JSON string posted'),
  badRequest: (message: string) => new ApiError(400, 'BAD_REQUEST', message),
  sortNotAllowed: (fields: string[]) => new ApiError(400, 'SORT_NOT_ALLOWED', `Sorting not allowed on fields: ${fields.join(', ')}`),
  filterNotAllowed: (fields: string[]) => new ApiError(400, 'FILTER_NOT_ALLOWED', `Filtering not allowed on fields: ${fields.join(', ')}`),
  invalidFilterValue: (field: string, value: string) =>
    new ApiError(400, 'INVALID_FILTER_VALUE', `Invalid filter value for ${field}: ${value}`),
  unknownFields: (fields: string[]) => new ApiError(400, 'UNKNOWN_FIELDS', `Unknown fields: ${fields.join(', ')}`),
  unauthorized: () => new ApiError(401, 'UNAUTHORIZED', 'Unauthorized'),
  forbidden: () => new ApiError(403, 'FORBIDDEN', 'Forbidden'),
  notFound: () => new ApiError(404, 'NOT_FOUND', 'Not Found'),
  methodNotAllowed: (allowed: string[]) =>
    new ApiError(405, 'METHOD_NOT_ALLOWED', 'Method Not Allowed', { headers: { allow: allowed.join(', ') } }),
  conflict: () => new ApiError(409, 'CONFLICT', 'Conflict'),
  payloadTooLarge: () => new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Payload Too Large'),
  unsupportedMediaType: () => new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported Media Type'),
  validationFailed: (errors: FieldError[]) => new ApiError(422, 'VALIDATION_FAILED', 'Validation Failed', { errors }),
  tooManyRequests: (retryAfterSeconds: number) =>
    new ApiError(429, 'TOO_MANY_REQUESTS', 'Too Many Requests', { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) } }),
  internal: () => new ApiError(500, 'INTERNAL', 'Internal Server Error'),
  serviceUnavailable: (retryAfterSeconds = 5) =>
    new ApiError(503, 'SERVICE_UNAVAILABLE', 'Service Unavailable', { headers: { 'retry-after': String(retryAfterSeconds) } }),
} as const

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
