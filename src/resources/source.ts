// `source` on create: the body's, else what the client calls itself (X-Xurrent-Source,
// X-4me-Source or User-Agent, cut to the field's limit by the route), else "Xurrent API" (app-offerings.md:
// the real API's documented default, "4me API" before the rename).
import type { Write } from '../records/rules.ts'

export const SOURCE_MAX = 30

export function defaultSource(write: Write): void {
  if (write.mode !== 'create' || write.body.failed('source')) return
  if (write.body.values.get('source') != null) return
  write.body.values.set('source', write.context.source ?? 'Xurrent API')
}
