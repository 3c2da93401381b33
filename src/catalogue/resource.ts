// A resource is declared once, as a catalogue of fields; everything else about it (body reading,
// rendering, the query whitelist, SQL columns, the OpenAPI schema) is derived here.
import { Type, type TSchema } from 'typebox'
import type { FieldType } from './types.ts'

export type Row = Record<string, unknown>

export interface RenderContext {
  nodeIdDomain: string
}

/** The row keys that carry a reference's target, its name and sourceID, once the store has attached them. */
export const referenceColumns = (field: { name: string }) => ({ name: `${field.name}__name`, sourceId: `${field.name}__source_id` })

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
  /** Columns `compute` reads; without it a collection selecting the field reads every column. */
  uses?: string[]
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
  defaultSort: string
}

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
  recordSchema: TSchema
}

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
  const columns = [...new Set(['id', ...readable.filter((f) => f.column).map((f) => f.column!)])]
  if (!byName.get(spec.defaultSort)?.sortable) throw new Error(`${spec.name}: default sort ${spec.defaultSort} must be sortable`)
  return {
    ...spec,
    fieldList,
    field: (name) => byName.get(name),
    writable: fieldList.filter((f) => !f.readOnly && !f.compute),
    readable,
    collectionFields: readable.filter((f) => f.collection || f.name === 'id'),
    filterable: new Map(fieldList.filter((f) => f.filterable).map((f) => [f.filterKey, f])),
    sortable: new Map(fieldList.filter((f) => f.sortable).map((f) => [f.name, f])),
    columns,
    columnsFor(fields) {
      const needed = new Set(['id'])
      for (const f of fields) {
        if (f.column) needed.add(f.column)
        else if (f.compute && !f.uses) return columns
        else for (const column of f.uses ?? []) needed.add(column)
      }
      return columns.filter((column) => needed.has(column))
    },
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
