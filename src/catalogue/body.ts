// Reads a request body against a resource's catalogue: coercion, type rules and required fields,
// giving values by field name and at most one Rails-worded error per field.
import type { Field, Resource } from './resource.ts'
import { Messages } from './types.ts'

export type Mode = 'create' | 'update'

export class BodyResult {
  readonly values = new Map<string, unknown>()
  private readonly errors = new Map<string, string>()
  /** Required fields a rule will derive once another field is valid: no blank error for them. */
  readonly derived = new Set<string>()

  constructor(private readonly resource: Resource) {}

  fail(field: string, message: string): void {
    if (!this.errors.has(field)) this.errors.set(field, message)
  }

  failed(field: string): boolean {
    return this.errors.has(field)
  }

  get ok(): boolean {
    return this.errors.size === 0
  }

  /** `[field, message]` pairs in the order of the fields table. */
  errorList(): Array<[string, string]> {
    const order = (name: string) => this.resource.field(name)?.index ?? Number.MAX_SAFE_INTEGER
    return [...this.errors].sort((a, b) => order(a[0]) - order(b[0]))
  }
}

/** Coerces and checks the writable fields present in the body; fills defaults on create. */
export function readBody(resource: Resource, body: Record<string, unknown>, mode: Mode): BodyResult {
  const result = new BodyResult(resource)
  for (const field of resource.writable) {
    if (!Object.hasOwn(body, field.input)) {
      if (mode === 'create' && field.default !== undefined) result.values.set(field.name, field.default)
      continue
    }
    const coerced = field.type.coerce(body[field.input])
    if ('error' in coerced) {
      result.fail(field.name, coerced.error)
      continue
    }
    if (coerced.value !== null && field.type.check) {
      const message = field.type.check(coerced.value)
      if (message) {
        result.fail(field.name, message)
        continue
      }
    }
    result.values.set(field.name, coerced.value === null && field.default !== undefined ? field.default : coerced.value)
  }
  return result
}

/**
 * Required fields must have a value: on create, from the body or a rule; on update, a required
 * field in the body may not be blanked. A missing reference "must exist" as Rails says it.
 */
export function requireFields(resource: Resource, result: BodyResult, mode: Mode): void {
  for (const field of resource.writable) {
    if (!field.required || result.failed(field.name) || result.derived.has(field.name)) continue
    const present = result.values.has(field.name)
    const value = result.values.get(field.name)
    if ((mode === 'create' && (!present || value === null)) || (mode === 'update' && present && value === null)) {
      result.fail(field.name, blankMessage(field))
    }
  }
}

const blankMessage = (field: Field) => (field.type.kind === 'reference' ? Messages.mustExist : Messages.blank)
