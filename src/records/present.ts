// Rows -> JSON text, field by field from the catalogue, in catalogue order. Pure: no I/O, nothing
// kept. A row carries the columns of the fields asked for and its references' targets (store.ts).
import { encodeNodeId } from '../catalogue/node-id.ts'
import { referenceColumns, type Field, type RenderContext, type Resource, type Row } from '../catalogue/resource.ts'

export class Presenter {
  /** `"name":` for each field, by catalogue index. */
  private readonly keys: string[]
  /** The field a disabled record shows in any collection (conventions.md §5), if the resource has one. */
  private readonly disabled: Field | undefined
  /** A page's fields with `disabled` added, by the fields asked for. */
  private readonly withDisabled = new WeakMap<readonly Field[], Field[]>()

  constructor(
    readonly resource: Resource,
    private readonly context: RenderContext,
  ) {
    this.keys = resource.fieldList.map((field) => `${JSON.stringify(field.name)}:`)
    const disabled = resource.field('disabled')
    this.disabled = disabled?.type.kind === 'boolean' ? disabled : undefined
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

  /**
   * A collection page: a JSON array of records with these fields, and `"disabled": true` on a
   * disabled record whatever the fields (the real API's rule, so a client can tell it apart).
   */
  page(rows: readonly Row[], fields: readonly Field[]): string {
    const flagged = this.disabled && !fields.includes(this.disabled) ? this.flagged(fields) : undefined
    const column = this.disabled?.column
    let text = '['
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]
      text += (i > 0 ? ',' : '') + this.record(row, flagged && this.disabled!.type.render(row[column!]) === true ? flagged : fields)
    }
    return `${text}]`
  }

  private flagged(fields: readonly Field[]): Field[] {
    let list = this.withDisabled.get(fields)
    if (!list) {
      list = [...fields, this.disabled!].sort((a, b) => a.index - b.index)
      this.withDisabled.set(fields, list)
    }
    return list
  }

  /** The field's value in the row, as JSON text; undefined when a computed field does not apply to it. */
  value(row: Row, field: Field): string | undefined {
    if (field.type.kind === 'reference') return this.reference(row, field)
    let value = field.compute ? field.compute(row, this.context) : field.type.render(row[field.column!])
    if (field.decorate && value != null) value = field.decorate(value, row)
    if (value === undefined) return undefined
    return value === null ? 'null' : value === true ? 'true' : value === false ? 'false' : JSON.stringify(value)
  }

  /**
   * `{"id":..,"name":..,"localized_name":..,<target columns>,"sourceID":..,"nodeID":..}` from the
   * target columns the store attached (localized_name where the target's name is translatable,
   * the field's own target columns such as an offering's reference, sourceID when it has one),
   * or null.
   */
  private reference(row: Row, field: Field): string {
    const id = row[field.column!]
    const columns = referenceColumns(field)
    const target = field.type.target?.()
    const name = row[columns.name]
    if (id == null || name == null || !target) return 'null'
    const sourceId = row[columns.sourceId]
    const quoted = JSON.stringify(name)
    let more = ''
    for (const column of field.targetColumns ?? []) more += `,${JSON.stringify(column)}:${JSON.stringify(row[`${field.name}__${column}`] ?? null)}`
    return `{"id":${Number(id)},"name":${quoted}${target.localizedName ? `,"localized_name":${quoted}` : ''}${more}${sourceId ? `,"sourceID":${JSON.stringify(sourceId)}` : ''},"nodeID":"${encodeNodeId(this.context.nodeIdDomain, target.nodeType, Number(id))}"}`
  }
}
