// `source` on create: the body's, else the X-Xurrent-Source / X-4me-Source header, else the
// User-Agent, else "API" (app-offerings.md). A value from a header is cut to the field's limit.
import type { FastifyRequest } from 'fastify'
import type { Write } from './routes.ts'

export const SOURCE_MAX = 30

export function defaultSource(write: Write): void {
  if (write.mode !== 'create' || write.body.failed('source')) return
  if (write.body.values.get('source') != null) return
  const fromHeaders = headerValue(write.request, 'x-xurrent-source') ?? headerValue(write.request, 'x-4me-source') ?? headerValue(write.request, 'user-agent')
  write.body.values.set('source', fromHeaders ? [...fromHeaders].slice(0, SOURCE_MAX).join('') : 'API')
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const raw = request.headers[name]
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim()
  return value && value.isWellFormed() && !value.includes('\u0000') ? value : undefined
}
