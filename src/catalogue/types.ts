// Field types. Each knows how to read a body value (including the official Ruby SDK's strings),
// which Rails-worded message a bad value gets, how its column stores it, how it is rendered, how a
// filter value is read, and its JSON schema. Every resource's fields are built from these.
import { Type, type TSchema } from 'typebox'
import type { Resource } from './resource.ts'

export type Coerced = { value: unknown } | { error: string }

/** The filter operators a type admits (conventions.md §4). */
export interface FilterRules {
  /** `a,b,c` is a list (integers, enums); elsewhere a comma is an ordinary character. */
  lists: boolean
  /** `<`, `<=`, `>`, `>=` and ranges (integers, datetimes). */
  compare: boolean
  /** Reads one operand from its text; undefined means the value is malformed. */
  parse(raw: string): unknown
}

export interface FieldType {
  readonly kind: string
  /** Body value -> value (null for blank) or a validation message. */
  coerce(input: unknown): Coerced
  /** Rules on a coerced, non-null value: limits, formats. */
  check?(value: unknown): string | undefined
  /** Column value -> API value. */
  render(stored: unknown): unknown
  /** Value -> column value. */
  store(value: unknown): unknown
  /** What a blank value is stored as: '' for strings, NULL for the rest. */
  readonly blank: '' | null
  readonly filter: FilterRules | undefined
  /** JSON schema of the rendered value (without null). */
  schema(): TSchema
  /** The column that stores it (none for computed values and write-only lists). */
  readonly column: ColumnType | undefined
  /** Whether a stored value can stand in a cursor as the boundary of a sort on this field. */
  cursor(stored: unknown): boolean
  /** The longest JSON text a value renders to (escapes included): what bounds a page's size. */
  readonly maxText: number
  /** References only: the resource of the target records (null: none can exist yet). */
  readonly target?: () => Resource | null
}

/** How a type is stored: both engines keep the same values (see storage/schema.ts). */
export interface ColumnType {
  sql: 'text' | 'integer'
  /** A blank value is '' or 0 rather than NULL (strings, enums, booleans). */
  notNull: boolean
}

const TEXT_COLUMN: ColumnType = { sql: 'text', notNull: true }
const INTEGER_COLUMN: ColumnType = { sql: 'integer', notNull: false }
const isText = (stored: unknown) => typeof stored === 'string'
const isWhole = (stored: unknown) => Number.isSafeInteger(stored)

export const Messages = {
  blank: "can't be blank",
  invalid: 'is invalid',
  notIncluded: 'is not included in the list',
  taken: 'has already been taken',
  mustExist: 'must exist',
  tooLong: (max: number, unit: 'characters' | 'bytes' = 'characters') => `is too long (maximum is ${max} ${unit})`,
  atLeast: (min: number) => `must be greater than or equal to ${min}`,
  atMost: (max: number) => `must be less than or equal to ${max}`,
} as const

const TRUTHY = new Set(['true', '1', 't', 'y', 'yes', 'on'])

/** The real API's boolean rule: the truthy words (any case) are true, any other string false. */
export function truthy(text: string): boolean {
  return TRUTHY.has(text.toLowerCase())
}

const isScalar = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

/** Unicode code points, which is what a character limit counts. */
export function codePoints(text: string): number {
  // A string iterates by code point; an unpaired surrogate counts as one.
  let n = 0
  for (const _ of text) n++
  return n
}

/** Text the database can hold exactly: no NUL and no lone surrogate. */
function storable(text: string): boolean {
  return text.isWellFormed() && !text.includes('\u0000')
}

function scalarText(input: unknown): string | undefined {
  if (typeof input === 'string') return input
  if (typeof input === 'number' && Number.isFinite(input)) return String(input)
  if (typeof input === 'boolean') return String(input)
  return undefined
}

// A value no text can hold (NUL: PostgreSQL refuses it outright) is a malformed filter value.
const textFilter: FilterRules = { lists: false, compare: false, parse: (raw) => (storable(raw) ? raw : undefined) }

/** JSON.stringify writes a control character as six characters (\u001f): the worst a character can grow. */
const ESCAPED = 6

interface StringOptions {
  /** Maximum length in characters (code points). */
  max?: number
  /** For a string with no `max`: the longest JSON text a value `format` admits renders to. */
  formatMax?: number
  /** Maximum length in UTF-8 bytes (texts). */
  maxBytes?: number
  /** Strip leading and trailing white space before validating. */
  trim?: boolean
  /** Extra format rule on the non-blank value. */
  format?: (value: string) => boolean
}

export function string(options: StringOptions = {}): FieldType {
  return {
    kind: options.maxBytes ? 'text' : 'string',
    blank: '',
    filter: textFilter,
    coerce(input) {
      if (input === null) return { value: null }
      let text = scalarText(input)
      if (text === undefined || !storable(text)) return { error: Messages.invalid }
      if (options.trim) text = text.trim()
      return { value: text === '' ? null : text }
    },
    check(value) {
      const text = value as string
      if (options.max !== undefined && text.length > options.max && codePoints(text) > options.max) return Messages.tooLong(options.max)
      if (options.maxBytes !== undefined && Buffer.byteLength(text) > options.maxBytes) return Messages.tooLong(options.maxBytes, 'bytes')
      if (options.format && !options.format(text)) return Messages.invalid
      return undefined
    },
    render: (stored) => (stored === '' || stored == null ? null : stored),
    store: (value) => value ?? '',
    column: TEXT_COLUMN,
    cursor: isText,
    // A code point is at most two UTF-16 units, a UTF-8 byte at most one.
    maxText: options.formatMax ?? 2 + ESCAPED * (options.max !== undefined ? 2 * options.max : (options.maxBytes ?? 2048)),
    schema: () =>
      Type.String({
        ...(options.max !== undefined && { maxLength: options.max }),
        ...(options.maxBytes !== undefined && { description: `at most ${options.maxBytes} bytes of UTF-8` }),
      }),
  }
}

function parseInteger(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) ? input : undefined
  if (typeof input === 'string' && /^\s*[-+]?\d{1,15}\s*$/.test(input)) return Number(input)
  return undefined
}

export function integer(options: { min?: number; max?: number } = {}): FieldType {
  return {
    kind: 'integer',
    blank: null,
    filter: { lists: true, compare: true, parse: (raw) => parseInteger(raw) },
    coerce(input) {
      if (input === null || input === '') return { value: null }
      const n = parseInteger(input)
      return n === undefined ? { error: Messages.invalid } : { value: n }
    },
    check(value) {
      const n = value as number
      if (options.min !== undefined && n < options.min) return Messages.atLeast(options.min)
      if (options.max !== undefined && n > options.max) return Messages.atMost(options.max)
      return undefined
    },
    render: (stored) => (stored == null ? null : Number(stored)),
    store: (value) => value ?? null,
    column: INTEGER_COLUMN,
    cursor: isWhole,
    maxText: 16,
    schema: () => Type.Integer({ ...(options.min !== undefined && { minimum: options.min }), ...(options.max !== undefined && { maximum: options.max }) }),
  }
}

/** Minutes: an integer, a numeric string, or "hhh:mm". */
export function duration(options: { min: number; max: number }): FieldType {
  const base = integer(options)
  return {
    ...base,
    kind: 'duration',
    coerce(input) {
      if (typeof input === 'string') {
        const clock = /^\s*(\d{1,6}):([0-5]\d)\s*$/.exec(input)
        if (clock) return { value: Number(clock[1]) * 60 + Number(clock[2]) }
      }
      return base.coerce(input)
    },
    schema: () => Type.Integer({ minimum: options.min, maximum: options.max, description: 'minutes; "hhh:mm" is accepted on input' }),
  }
}

export function boolean(): FieldType {
  return {
    kind: 'boolean',
    blank: null,
    filter: { lists: false, compare: false, parse: (raw) => truthy(raw) },
    coerce(input) {
      if (typeof input === 'boolean') return { value: input }
      if (input === null) return { value: false }
      const text = scalarText(input)
      return text === undefined ? { error: Messages.invalid } : { value: truthy(text) }
    },
    render: (stored) => stored === 1 || stored === true,
    store: (value) => (value ? 1 : 0),
    column: { sql: 'integer', notNull: true },
    cursor: (stored) => stored === 0 || stored === 1,
    maxText: 5,
    schema: () => Type.Boolean(),
  }
}

export function enumeration(values: readonly string[]): FieldType {
  const allowed = new Set(values)
  return {
    kind: 'enum',
    blank: '',
    filter: { lists: true, compare: false, parse: (raw) => (allowed.has(raw) ? raw : undefined) },
    coerce(input) {
      if (input === null || input === '') return { value: null }
      if (!isScalar(input)) return { error: Messages.invalid }
      return allowed.has(String(input)) ? { value: String(input) } : { error: Messages.notIncluded }
    },
    render: (stored) => (stored === '' || stored == null ? null : stored),
    store: (value) => value ?? '',
    column: TEXT_COLUMN,
    cursor: (stored) => stored === '' || allowed.has(stored as string),
    maxText: 2 + Math.max(4, ...values.map((v) => v.length)),
    schema: () => Type.String({ enum: [...values] }),
  }
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/i

/** Epoch seconds of an ISO 8601 datetime with Z or an offset, or of a bare date (midnight UTC). */
export function parseDatetime(raw: string): number | undefined {
  // A '+' in a query string decodes to a space: " 01:00" is the offset "+01:00".
  const text = raw.trim().replace(/ (\d{2}:?\d{2})$/, '+$1')
  const m = DATETIME.exec(text)
  if (!m) return undefined
  const [, y, mo, d, h = '00', mi = '00', s = '00', zone] = m
  if (m[4] !== undefined && zone === undefined) return undefined
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s))
  const check = new Date(ms)
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined
  let offset = 0
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!
    offset = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]))
  }
  return Math.floor(ms / 1000) - offset * 60
}

/** `YYYY-MM-DDTHH:MM:SS+00:00`, as the real API renders times. */
export function formatDatetime(seconds: number): string {
  // A list renders two datetimes per record: the date part is kept per day, the clock is arithmetic.
  const day = Math.floor(seconds / 86_400)
  let date = DATES.get(day)
  if (date === undefined) {
    if (DATES.size >= 4096) DATES.clear()
    date = new Date(day * 86_400_000).toISOString().slice(0, 11)
    DATES.set(day, date)
  }
  const clock = seconds - day * 86_400
  return `${date}${two(Math.floor(clock / 3600))}:${two(Math.floor(clock / 60) % 60)}:${two(clock % 60)}+00:00`
}

const DATES = new Map<number, string>()
const two = (n: number) => (n < 10 ? `0${n}` : `${n}`)

export function datetime(): FieldType {
  return {
    kind: 'datetime',
    blank: null,
    filter: { lists: false, compare: true, parse: (raw) => parseDatetime(raw) },
    coerce(input) {
      if (input === null || input === '') return { value: null }
      const seconds = typeof input === 'string' ? parseDatetime(input) : undefined
      return seconds === undefined ? { error: Messages.invalid } : { value: seconds }
    },
    render: (stored) => (stored == null ? null : formatDatetime(Number(stored))),
    store: (value) => value ?? null,
    column: INTEGER_COLUMN,
    cursor: isWhole,
    maxText: 27,
    schema: () => Type.String({ format: 'date-time' }),
  }
}

export interface ReferenceValue {
  id: number
  name: string
  sourceID?: string | null
}

/**
 * A reference to another record, written as `<field>_id` with the numeric id. Whether the id
 * exists (in the working account) is answered by the records core, which loads the target. The
 * target is named lazily, so two resources may reference each other.
 */
export function reference(target: () => Resource | null): FieldType {
  const id = integer({ min: 1 })
  return {
    kind: 'reference',
    target,
    blank: null,
    filter: id.filter,
    coerce(input) {
      const result = id.coerce(input)
      if ('error' in result) return result
      return result.value !== null && (result.value as number) < 1 ? { error: Messages.mustExist } : result
    },
    render: (stored) => stored ?? null,
    store: (value) => value ?? null,
    column: INTEGER_COLUMN,
    cursor: isWhole,
    // {"id","name","localized_name","sourceID","nodeID"}: texts of at most 128 characters each.
    maxText: 160 + 3 * (2 + ESCAPED * 2 * 128),
    schema: () =>
      Type.Object({
        id: Type.Integer(),
        name: Type.String(),
        localized_name: Type.Optional(Type.String({ description: 'where the target\'s name is translatable' })),
        sourceID: Type.Optional(Type.String()),
        nodeID: Type.String(),
      }),
  }
}

/** An absolute http(s) URI that may contain the placeholder `{account}`. */
export function isUriTemplate(text: string): boolean {
  return isHttpUrl(text.replaceAll('{account}', 'account'))
}

export function isHttpUrl(text: string): boolean {
  if (/\s/.test(text)) return false
  try {
    const url = new URL(text)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}

/** Read-only values computed from the record (nodeID, aggregated lists), at most `maxText` long. */
export function computed(schema: () => TSchema, maxText = 1024): FieldType {
  return {
    kind: 'computed',
    blank: null,
    filter: undefined,
    coerce: () => ({ error: Messages.invalid }),
    render: (stored) => stored,
    store: () => undefined,
    column: undefined,
    cursor: () => false,
    maxText,
    schema,
  }
}

/** A write-only list of objects (attachment keys); the resource decides what an item means. */
export function objectList(check: (items: Record<string, unknown>[]) => string | undefined): FieldType {
  return {
    kind: 'list',
    blank: null,
    filter: undefined,
    coerce(input) {
      if (input === null || input === '') return { value: [] }
      if (!Array.isArray(input) || !input.every((item) => item !== null && typeof item === 'object' && !Array.isArray(item))) {
        return { error: Messages.invalid }
      }
      return { value: input }
    },
    check: (value) => check(value as Record<string, unknown>[]),
    render: () => undefined,
    store: () => undefined,
    column: undefined,
    cursor: () => false,
    maxText: 0,
    schema: () => Type.Array(Type.Object({ key: Type.String() })),
  }
}

/**
 * A list of short strings (a webhook's `app_offering_references`), stored as JSON text. Not
 * filterable: nothing asks to find records by one of their items.
 */
export function stringList(options: { maxItems: number; max: number }): FieldType {
  const item = string({ max: options.max, trim: true })
  return {
    kind: 'list',
    blank: '',
    filter: undefined,
    coerce(input) {
      if (input === null || input === '') return { value: [] }
      if (!Array.isArray(input)) return { error: Messages.invalid }
      const values: string[] = []
      for (const raw of input) {
        const coerced = item.coerce(raw)
        if ('error' in coerced) return coerced
        if (coerced.value !== null && !values.includes(coerced.value as string)) values.push(coerced.value as string)
      }
      return { value: values }
    },
    check(value) {
      const list = value as string[]
      if (list.length > options.maxItems) return Messages.tooLong(options.maxItems, 'characters').replace('characters', 'items')
      for (const text of list) {
        const problem = item.check!(text)
        if (problem) return problem
      }
      return undefined
    },
    render: (stored) => (stored === '' || stored == null ? [] : JSON.parse(stored as string)),
    store: (value) => JSON.stringify(value ?? []),
    column: TEXT_COLUMN,
    cursor: () => false,
    maxText: 2 + options.maxItems * (3 + ESCAPED * 2 * options.max),
    schema: () => Type.Array(Type.String({ maxLength: options.max })),
  }
}
