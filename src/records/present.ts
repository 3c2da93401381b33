// Rows -> JSON text, field by field from the catalogue, in catalogue order. Pure: no I/O, nothing
// kept. A row carries the columns of the fields asked for and its references' targets (store.ts).
import { referenceColumns, type Field, type RenderContext, type Resource, type Row } from '../catalogue/resource.ts'

export class Presenter {
  /** `"name":` for each field, by catalogue index. */
  private readonly keys: string[]

  constructor(
    readonly resource: Resource,
    private readonly context: RenderContext,
  ) {
    this.keys = resource.fieldList.map((field) => `${JSON.stringify(field.name)}:`)
  }

  /** One record with these fields (every readable one by default). */
  record(row: Row, fields: readonly Field[] = this.resource.readable): string {
    let text = '{'
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]
      const value = this.value(row, field)
      // A computed field that does not apply to this record (undefined) is left out.
      if (value === undefined) continue
      if (text.length > 1) text += ','
      text += this.keys[field.index] + value
    }
    return `${text}}`
  }

  /** A collection page: a JSON array of records with these fields. */
  page(rows: readonly Row[], fields: readonly Field[]): string {
    let text = '['
    for (let i = 0; i < rows.length; i++) text += (i > 0 ? ',' : '') + this.record(rows[i], fields)
    return `${text}]`
  }

  /** The field's value in the row, as JSON text; undefined when a computed field does not apply to it. */
  value(row: Row, field: Field): string | undefined {
    if (field.type.kind === 'reference') return renderReference(row, field)
    const value = field.compute ? field.compute(row, this.context) : field.type.render(row[field.column!])
    if (value === undefined) return undefined
    return value === null ? 'null' : value === true ? 'true' : value === false ? 'false' : JSON.stringify(value)
  }
}

/** `{"id":..,"name":..,"sourceID":..}` from the target columns the store attached, or null. */
function renderReference(row: Row, field: Field): string {
  const id = row[field.column!]
  const target = referenceColumns(field)
  const name = row[target.name]
  if (id == null || name == null) return 'null'
  const sourceId = row[target.sourceId]
  let more = ''
  for (const column of field.targetColumns ?? []) more += `,${JSON.stringify(column)}:${JSON.stringify(row[`${field.name}__${column}`] ?? null)}`
  return `{"id":${Number(id)},"name":${JSON.stringify(name)}${more}${sourceId ? `,"sourceID":${JSON.stringify(sourceId)}` : ''}}`
}
