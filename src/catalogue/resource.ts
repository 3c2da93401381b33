// A resource is declared once, as a catalogue of fields; everything else about it (body reading,
// rendering, the query whitelist, SQL columns, the OpenAPI schema) is derived here.
import { Type, type TSchema } from 'typebox'
import type { ColumnType, FieldType } from './types.ts'

export type Row = Record<string, unknown>

export interface RenderContext {
  nodeIdDomain: string
}

/** The row keys that carry a reference's target, its name and sourceID, once the store has attached them. */
export const referenceColumns = (field: { name: string }) => ({ name: `${field.name}__name`, sourceId: `${field.name}__source_id` })

/**
 * The row key that carries the base of the absolute URLs a row renders (PUBLIC_URL, or the
 * request's origin), set by whoever answers with it: an attachment's download URI.
 */
export const ROW_BASE_URL = 'base__url'

/** The row key that carries the owner account's name on a row another account shares (records/sharing.ts). */
export const OWNER_NAME = 'account__name'

export interface FieldSpec {
  type: FieldType
  /** Column name; defaults to the field name in snake case. null: not stored. */
  column?: string | null
  required?: boolean
  readOnly?: boolean
  writeOnly?: boolean
  filterable?: boolean
  sortable?: boolean
  /** Part of a collection answer without `?fields=`. */
  collection?: boolean
  /** Value on create when the body leaves the field out. */
  default?: unknown
  /** Computes a read-only value from the row. */
  compute?: (row: Row, context: RenderContext) => unknown
  /** Turns the rendered value of a stored field into what is answered (a text naming its attachments' URIs). */
  decorate?: (rendered: unknown, row: Row) => unknown
  /** Columns `compute` reads; without it a collection selecting the field reads every column. */
  uses?: string[]
  /** A reference whose target is in another account: the column of the row that names that account (default account_id). */
  targetOwner?: string
  /** More columns of a reference's target to render, after its name (`reference` of an app offering). */
  targetColumns?: string[]
  description?: string
}

export interface Field extends FieldSpec {
  name: string
  /** Position in the fields table: validation errors are reported in this order. */
  index: number
  column: string | null
  /** The body key: `<name>_id` for references. */
  input: string
  /** The query parameter that filters on it: `<name>_id` for references. */
  filterKey: string
}

export interface ResourceSpec<Table extends string = string> {
  /** Collection path segment and table: `app_offerings`. */
  name: string
  table: Table
  /** Type name inside nodeIDs: `AppOffering`. */
  nodeType: string
  fields: Record<string, FieldSpec>
  /** A sortable field, `-` in front for descending. */
  defaultSort: string
  /** Its name is translatable: a reference to it carries `localized_name` (conventions.md §7). */
  localizedName?: boolean
  /** Columns of the table that no field renders (a published version's draft, say), by name. */
  internal?: Record<string, { type: FieldType; notNull?: boolean; indexed?: boolean }>
  /**
   * The columns every query of the table fixes by equality, which its indexes lead with:
   * the account, and for an audit trail the record too.
   */
  indexPrefix?: string[]
}

/** A column of a resource's table, as the catalogue declares it (the schema test holds the migrations to it). */
export interface ColumnSpec {
  name: string
  type: ColumnType
  /** Filterable or sortable: an index (account_id, column, id) bounds what a query on it reads. */
  indexed: boolean
}

/** Columns every resource table has besides its catalogue's (see records/store.ts). */
export const RECORD_COLUMNS: ColumnSpec[] = [
  { name: 'account_id', type: { sql: 'text', notNull: true }, indexed: false },
  { name: 'lock_version', type: { sql: 'integer', notNull: true }, indexed: false },
  // A number from one sequence for the whole database, moved by the database itself on every
  // insert and update of the row (migration 004): what kept results are checked against.
  { name: 'change_seq', type: { sql: 'integer', notNull: true }, indexed: true },
]

export interface Resource<Table extends string = string> extends ResourceSpec<Table> {
  fieldList: Field[]
  field(name: string): Field | undefined
  writable: Field[]
  readable: Field[]
  collectionFields: Field[]
  /** Filter parameter -> field. */
  filterable: Map<string, Field>
  sortable: Map<string, Field>
  /** Columns every query selects: what rendering any readable field needs. */
  columns: string[]
  /** Columns that rendering these fields needs (id always). */
  columnsFor(fields: Field[]): string[]
  /** The longest JSON object a record with these fields renders to. */
  maxRecordText(fields: readonly Field[]): number
  /** The default sort as a field and a direction. */
  defaultOrder: { field: Field; descending: boolean }
  /** A column that no field renders, as a field the records core may filter on (an audit entry's record). */
  internalField(name: string): Field
  /** Readable references whose targets are stored: what a read joins to render them. */
  references: Field[]
  indexPrefix: string[]
  /** Every column of the table, id first: the catalogue's, the internal ones and RECORD_COLUMNS. */
  tableColumns: ColumnSpec[]
  recordSchema: TSchema
}

/** Fields every record of every answer carries. */
export const ALWAYS_LISTED = new Set(['id', 'nodeID'])

const snakeCase = (name: string) => name.replace(/ID$/, '_id').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

export function defineResource<Table extends string>(spec: ResourceSpec<Table>): Resource<Table> {
  const fieldList: Field[] = Object.entries(spec.fields).map(([name, f], index) => {
    const isReference = f.type.kind === 'reference'
    const column = f.column === undefined ? (f.compute || f.writeOnly ? null : isReference ? `${snakeCase(name)}_id` : snakeCase(name)) : f.column
    const input = isReference ? `${name}_id` : name
    return { ...f, name, index, column, input, filterKey: input }
  })
  for (const f of fieldList) {
    if ((f.filterable || f.sortable) && !f.column) throw new Error(`${spec.name}.${f.name}: a filter or sort needs a column`)
  }
  const byName = new Map(fieldList.map((f) => [f.name, f]))
  const readable = fieldList.filter((f) => !f.writeOnly)
  // What rendering any readable field needs: their columns, and the columns computed ones use.
  // Internal columns too: what the rules see of a stored record (a published version's draft).
  const columns = [...new Set(['id', ...readable.flatMap((f) => (f.column ? [f.column, ...(f.targetOwner ? [f.targetOwner] : [])] : (f.uses ?? []))), ...Object.keys(spec.internal ?? {})])]
  const internal = new Map(
    Object.entries(spec.internal ?? {}).map(([name, c], i): [string, Field] => [name, { type: c.type, name, index: -1 - i, column: name, input: name, filterKey: name }]),
  )
  const descending = spec.defaultSort.startsWith('-')
  const sortField = byName.get(descending ? spec.defaultSort.slice(1) : spec.defaultSort)
  if (!sortField?.sortable) throw new Error(`${spec.name}: default sort ${spec.defaultSort} must be sortable`)
  let references: Field[] | undefined
  const tableColumns: ColumnSpec[] = [
    ...fieldList
      .filter((f) => f.column && f.type.column)
      .map((f) => ({
        name: f.column!,
        // Required fields, and the timestamps every record has, are never NULL.
        type: { ...f.type.column!, notNull: f.type.column!.notNull || !!f.required || (!!f.readOnly && f.type.kind !== 'reference') },
        indexed: !!(f.filterable || f.sortable),
      })),
    ...Object.entries(spec.internal ?? {}).map(([name, c]) => ({ name, type: { ...c.type.column!, notNull: c.type.column!.notNull || !!c.notNull }, indexed: !!c.indexed })),
    ...RECORD_COLUMNS,
  ]
  return {
    ...spec,
    indexPrefix: spec.indexPrefix ?? ['account_id'],
    fieldList,
    field: (name) => byName.get(name),
    writable: fieldList.filter((f) => !f.readOnly && !f.compute),
    readable,
    // id and nodeID are in every collection answer, whatever ?fields= says (conventions.md §5).
    collectionFields: readable.filter((f) => f.collection || ALWAYS_LISTED.has(f.name)),
    filterable: new Map(fieldList.filter((f) => f.filterable).map((f) => [f.filterKey, f])),
    sortable: new Map(fieldList.filter((f) => f.sortable).map((f) => [f.name, f])),
    columns,
    columnsFor(fields) {
      const needed = new Set(['id'])
      for (const f of fields) {
        if (f.column) {
          needed.add(f.column)
          if (f.targetOwner) needed.add(f.targetOwner)
        } else if (f.compute && !f.uses) return columns
        else for (const column of f.uses ?? []) needed.add(column)
      }
      return columns.filter((column) => needed.has(column))
    },
    maxRecordText: (fields) => fields.reduce((sum, f) => sum + f.name.length + 4 + f.type.maxText, 2),
    defaultOrder: { field: sortField, descending },
    internalField(name) {
      const field = internal.get(name)
      if (!field) throw new Error(`${spec.name} has no internal column ${name}`)
      return field
    },
    // Named lazily: two resources may reference each other.
    get references() {
      return (references ??= readable.filter((f) => f.type.kind === 'reference' && f.type.target?.() != null))
    },
    tableColumns,
    recordSchema: Type.Object(
      Object.fromEntries(readable.map((f) => [f.name, nullable(f, f.type.schema())])),
      { additionalProperties: false },
    ),
  }
}

function nullable(field: Field, schema: TSchema): TSchema {
  const described = { ...schema, ...(field.description && { description: field.description }), ...(field.readOnly && { readOnly: true }) }
  if (field.required || field.type.kind === 'boolean' || field.name === 'id' || field.readOnly && field.type.kind === 'datetime') return described as TSchema
  return Type.Union([described as TSchema, Type.Null()])
}
