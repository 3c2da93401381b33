// Query string -> plan. Pure: no database, no request; the most tested module of the project.
// Grammar (conventions.md §3–6):
//   filter     key=value | key!=value              (several are ANDed)
//   value      ''  -> empty        '!'  -> present       '!v' -> not v      '\!v' -> literal '!v'
//              a,b -> one of (integers, enums)       <v <=v >v >=v, and two of them -> range
//   fields     fields=a,b           sort   sort=a,-b (ties by id)
//   paging     per_page=1..100, page=N, search_after=<cursor>, search_before=<cursor>
import { Errors } from '../errors.ts'
import { ALWAYS_LISTED, type Field, type Resource } from '../catalogue/resource.ts'
import { decodeCursor, sortSignature } from './cursor.ts'
import type { Count } from './paging.ts'

export type Comparison = '<' | '<=' | '>' | '>='

export type Condition =
  | { op: 'eq' | 'ne'; value: unknown }
  | { op: 'empty' | 'present' }
  | { op: 'in' | 'nin'; values: unknown[] }
  | { op: 'range'; bounds: Array<{ cmp: Comparison; value: unknown }> }

export interface Filter {
  field: Field
  condition: Condition
}

export interface SortKey {
  field: Field
  descending: boolean
}

export type Paging =
  | { kind: 'first' }
  | { kind: 'page'; page: number }
  | { kind: 'cursor'; direction: 'after' | 'before'; boundary: unknown[]; page: number; count?: Count }

export interface Plan {
  filters: Filter[]
  /** Fields to render, in catalogue order. */
  fields: Field[]
  /** Sort keys, always ending with id. */
  sort: SortKey[]
  perPage: number
  paging: Paging
  /** Every decoded parameter but the paging ones, in request order: Link URLs keep them. */
  kept: Array<[string, string]>
  /** The query string it was read from: the same text always makes the same plan. */
  source: string
}

export interface ParseOptions {
  cursorSecret: string
  defaultPerPage?: number
  maxPerPage?: number
  /**
   * How many records offset paging (`page=N`) may skip: a database reads every skipped row, so
   * one request could cost hundreds of milliseconds. Deeper than that, cursors go as fast.
   */
  maxOffset?: number
  /** The fields without `?fields=`, when this collection's differ from the resource's (in catalogue order). */
  collectionFields?: Field[]
}

const PAGING = new Set(['page', 'search_after', 'search_before'])
/**
 * The most JSON text one page may render to (characters): a page holds at most as many records
 * as fit when each is as large as its fields allow, so no allowed request makes the server read
 * or hold more. Only large fields bring it below 100: with picture_uri (a 2 MiB image as a data:
 * URL) a page holds 5 records; with the three 64 KB texts, 13.
 */
export const PAGE_TEXT_BUDGET = 16 * 1024 * 1024
const MAX_PARAMETERS = 64

/** Splits and decodes a raw query string as a form would (`+` is a space). */
export function decodeQuery(search: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (const piece of search.replace(/^\?/, '').split('&')) {
    if (piece === '') continue
    const eq = piece.indexOf('=')
    const key = decodeComponent(eq === -1 ? piece : piece.slice(0, eq))
    const value = decodeComponent(eq === -1 ? '' : piece.slice(eq + 1))
    // A parameter without a name (`?=x`, `?&`) says nothing; it is skipped rather than refused.
    if (key !== '') pairs.push([key, value])
    if (pairs.length > MAX_PARAMETERS) throw Errors.badRequest(`Too many query parameters (maximum is ${MAX_PARAMETERS})`)
  }
  return pairs
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    throw Errors.badRequest('Invalid query string: malformed percent-encoding')
  }
}

export function parseQuery(resource: Resource, search: string, options: ParseOptions): Plan {
  const maxPerPage = options.maxPerPage ?? 100
  let perPage = options.defaultPerPage ?? 20
  const collectionFields = options.collectionFields ?? resource.collectionFields
  let fields: Field[] = collectionFields
  let sort: SortKey[] = [resource.defaultOrder]
  let page: number | undefined
  let cursor: { direction: 'after' | 'before'; text: string } | undefined
  const filters: Filter[] = []
  const kept: Array<[string, string]> = []
  const notFilterable: string[] = []

  for (const [key, value] of decodeQuery(search)) {
    if (!PAGING.has(key)) kept.push([key, value])
    switch (key) {
      case 'per_page':
        perPage = Math.min(positiveInteger('per_page', value), maxPerPage)
        break
      case 'page':
        page = positiveInteger('page', value)
        break
      case 'search_after':
      case 'search_before':
        if (cursor) throw Errors.badRequest('Use only one of search_after and search_before')
        cursor = { direction: key === 'search_after' ? 'after' : 'before', text: value }
        break
      case 'fields':
        fields = parseFields(resource, value, collectionFields)
        break
      case 'sort':
        sort = parseSort(resource, value)
        break
      default: {
        const negated = key.endsWith('!')
        const name = negated ? key.slice(0, -1) : key
        const field = resource.filterable.get(name)
        if (!field) notFilterable.push(name)
        else filters.push({ field, condition: parseCondition(field, value, negated) })
      }
    }
  }
  if (notFilterable.length > 0) throw Errors.filterNotAllowed([...new Set(notFilterable)])
  perPage = Math.max(1, Math.min(perPage, Math.floor(PAGE_TEXT_BUDGET / resource.maxRecordText(fields))))
  if (!sort.some((key) => key.field.name === 'id')) sort.push({ field: resource.field('id')!, descending: false })

  let paging: Paging = { kind: 'first' }
  if (cursor) {
    if (page !== undefined) throw Errors.badRequest('A cursor (search_after, search_before) cannot be combined with page')
    const payload = decodeCursor(options.cursorSecret, cursor.text)
    if (!payload) throw Errors.badRequest(`Invalid cursor in search_${cursor.direction}`)
    if (payload.sort !== sortSignature(sort) || !boundaryFits(sort, payload.values)) {
      throw Errors.badRequest(`The cursor in search_${cursor.direction} belongs to another sort order`)
    }
    paging = { kind: 'cursor', direction: cursor.direction, boundary: payload.values, page: payload.page, ...(payload.count && { count: payload.count }) }
  } else if (page !== undefined) {
    if (options.maxOffset !== undefined && (page - 1) * perPage > options.maxOffset) {
      throw Errors.badRequest(`page is too deep: offset paging skips at most ${options.maxOffset.toLocaleString('en')} records; follow the Link header's rel="next" (search_after) instead`)
    }
    paging = { kind: 'page', page }
  }
  return { filters, fields, sort, perPage, paging, kept, source: search }
}

const MAX_PAGE = 1_000_000_000

/** A whole number >= 1; any larger per_page means the maximum, a page beyond MAX_PAGE is refused. */
function positiveInteger(name: string, value: string): number {
  const text = value.trim()
  if (!/^\d+$/.test(text) || Number(text) < 1) throw Errors.badRequest(`${name} must be a whole number of at least 1`)
  if (name === 'page' && Number(text) > MAX_PAGE) throw Errors.badRequest(`page must be at most ${MAX_PAGE}`)
  return Number(text)
}

function parseFields(resource: Resource, value: string, collectionFields: Field[]): Field[] {
  const names = new Set(value.split(',').map((s) => s.trim()).filter(Boolean))
  if (names.size === 0) return collectionFields
  const unknown = [...names].filter((name) => !resource.field(name) || resource.field(name)!.writeOnly)
  if (unknown.length > 0) throw Errors.unknownFields(unknown)
  return resource.readable.filter((f) => ALWAYS_LISTED.has(f.name) || names.has(f.name))
}

function parseSort(resource: Resource, value: string): SortKey[] {
  const keys: SortKey[] = []
  const refused: string[] = []
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const descending = part.startsWith('-')
    const name = descending ? part.slice(1) : part
    const field = resource.sortable.get(name)
    if (!field) refused.push(name || part)
    else if (!keys.some((k) => k.field === field)) keys.push({ field, descending })
  }
  if (refused.length > 0) throw Errors.sortNotAllowed(refused)
  return keys.length > 0 ? keys : [resource.defaultOrder]
}

const RANGE = /^(<=|>=|<|>)([^<>]+)(?:(<=|>=|<|>)([^<>]+))?$/

export function parseCondition(field: Field, raw: string, negatedKey: boolean): Condition {
  const rules = field.type.filter!
  const invalid = () => Errors.invalidFilterValue(field.filterKey, raw)
  const operand = (text: string) => {
    const v = rules.parse(text)
    if (v === undefined) throw invalid()
    return field.type.store(v)
  }

  let condition: Condition
  if (raw === '') condition = { op: 'empty' }
  else if (raw === '!') condition = { op: 'present' }
  else {
    const negated = raw.startsWith('!')
    // `\!` is a literal `!`, also after a negation: `!\!v` is "not !v".
    const rest = negated ? raw.slice(1) : raw
    const body = rest.startsWith('\\!') ? rest.slice(1) : rest
    if (rules.compare && /^[<>]/.test(body)) {
      const m = RANGE.exec(body)
      if (!m || negated) throw invalid()
      const bounds = [{ cmp: m[1] as Comparison, value: operand(m[2]) }]
      if (m[3]) bounds.push({ cmp: m[3] as Comparison, value: operand(m[4]) })
      condition = { op: 'range', bounds }
    } else if (rules.lists && body.includes(',')) {
      condition = { op: negated ? 'nin' : 'in', values: body.split(',').map((part) => operand(part.trim())) }
    } else {
      condition = { op: negated ? 'ne' : 'eq', value: operand(body) }
    }
  }
  return negatedKey ? negate(condition, invalid) : condition
}

function negate(condition: Condition, invalid: () => Error): Condition {
  switch (condition.op) {
    case 'eq':
      return { op: 'ne', value: condition.value }
    case 'ne':
      return { op: 'eq', value: condition.value }
    case 'empty':
      return { op: 'present' }
    case 'present':
      return { op: 'empty' }
    case 'in':
      return { op: 'nin', values: condition.values }
    case 'nin':
      return { op: 'in', values: condition.values }
    case 'range':
      throw invalid()
  }
}

/** Each sort field's type says what a boundary value of it may be (a boolean's is 0 or 1). */
function boundaryFits(sort: SortKey[], values: unknown[]): boolean {
  return values.length === sort.length && sort.every((key, i) => key.field.type.cursor(values[i]))
}
