// Records as JSON text. Rendering a record (datetimes, nodeIDs, escaping) costs more than the rest
// of a small request, so each record's rendered fields are kept, per process, under its id and
// version. Every update bumps lock_version, so a kept field is used only while the database still
// holds that version: every answer reads at least the record's head (id, lock_version and its
// references) first. References are rendered on each answer from their targets' current rows.
import { referenceColumns, type Field, type RenderContext, type Resource, type Row } from '../catalogue/resource.ts'
import type { RecordStore } from './records.ts'

interface Rendered {
  account: string
  version: number
  /** The JSON value of each readable field rendered so far, by catalogue index (not references). */
  fields: Array<string | undefined>
  /** The last object made of it: for which fields, with which references' texts. */
  last?: { fields: Field[]; references: string; text: string }
}

export class Presenter {
  private readonly kept = new Map<number, Rendered>()
  private readonly keys: string[]

  constructor(
    private readonly resource: Resource,
    private readonly store: RecordStore,
    private readonly context: RenderContext,
    /** At most this many records are kept; 0 renders every record on every answer. */
    private readonly capacity: number,
  ) {
    this.keys = resource.fieldList.map((field) => `${JSON.stringify(field.name)}:`)
  }

  /**
   * Rows of a page as JSON objects with `fields`, in catalogue order. Each row has its head, the
   * columns of `fields` and its references' targets attached (RecordStore.collection).
   */
  render(account: string, rows: readonly Row[], fields: Field[]): string[] {
    const references = new Map<string, string>()
    return rows.map((row) => this.assemble(this.lookup(account, row, fields) ?? this.remember(account, row, fields), row, fields, references))
  }

  /**
   * One record with every readable field, and the version it shows (for its ETag): from its
   * head (RecordStore.head) when it is kept at that version, else read in full. Undefined when
   * the record is gone.
   */
  async one(account: string, head: Row): Promise<{ text: string; version: number } | undefined> {
    const fields = this.resource.readable
    let row = head
    let record = this.lookup(account, head, fields)
    if (!record) {
      const read = await this.store.find(account, Number(head.id))
      if (!read) return undefined
      // The record may have changed since its head was read: its own targets, then.
      if (!this.takeTargets(read, head, fields)) await this.store.attachReferences(account, [read], fields)
      row = read
      record = this.remember(account, read, fields, true)
    }
    return { text: this.assemble(record, row, fields, new Map()), version: record.version }
  }

  /** The record kept at the row's version, if it has every one of these fields rendered. */
  private lookup(account: string, row: Row, fields: Field[]): Rendered | undefined {
    const kept = this.kept.get(Number(row.id))
    if (!kept || kept.version !== Number(row.lock_version) || kept.account !== account) return undefined
    for (const field of fields) if (kept.fields[field.index] === undefined && field.type.kind !== 'reference') return undefined
    return kept
  }

  /**
   * Renders these fields of the row (which has their columns) and keeps them with the record,
   * beside those kept at the same version unless the row is `whole`: a whole row starts anew.
   */
  private remember(account: string, row: Row, fields: Field[], whole = false): Rendered {
    const id = Number(row.id)
    const version = Number(row.lock_version)
    const kept = this.kept.get(id)
    const record = !whole && kept && kept.version === version && kept.account === account ? kept : { account, version, fields: [] }
    for (const field of fields) {
      if (field.type.kind === 'reference' || record.fields[field.index] !== undefined) continue
      const value = field.compute ? field.compute(row, this.context) : field.type.render(row[field.column!])
      // The common values share one string each instead of a copy per record.
      record.fields[field.index] = value === null ? 'null' : value === true ? 'true' : value === false ? 'false' : JSON.stringify(value)
    }
    if (this.capacity > 0 && record !== kept) {
      // Oldest first: a Map iterates in insertion order, and a changed record is inserted anew.
      this.kept.delete(id)
      if (this.kept.size >= this.capacity) this.kept.delete(this.kept.keys().next().value!)
      this.kept.set(id, record)
    }
    return record
  }

  /** Copies the head's reference targets to the row when both point at the same ones. */
  private takeTargets(row: Row, head: Row, fields: Field[]): boolean {
    // References whose targets are not stored anywhere render null either way.
    const stored = fields.filter((field) => field.type.target?.table)
    for (const field of stored) {
      if (row[field.column!] !== head[field.column!] || !(referenceColumns(field).name in head)) return false
    }
    for (const field of stored) {
      const columns = referenceColumns(field)
      row[columns.name] = head[columns.name]
      row[columns.sourceId] = head[columns.sourceId]
    }
    return true
  }

  /**
   * The record's JSON object with `fields`. `references` keeps each target's text for the answer
   * being made (a page shares a few targets); the object made last is reused while the fields
   * (the same list: the default ones, or all) and the references' texts are the same.
   */
  private assemble(record: Rendered, row: Row, fields: Field[], references: Map<string, string>): string {
    const targets: string[] = []
    for (const field of fields) {
      if (field.type.kind !== 'reference') continue
      const key = `${field.index}:${row[field.column!]}`
      let text = references.get(key)
      if (text === undefined) references.set(key, (text = renderReference(row, field)))
      targets.push(text)
    }
    const joined = targets.join(',')
    if (record.last?.fields === fields && record.last.references === joined) return record.last.text
    let text = '{'
    let t = 0
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]
      if (i > 0) text += ','
      text += this.keys[field.index] + (field.type.kind === 'reference' ? targets[t++] : record.fields[field.index])
    }
    text += '}'
    record.last = { fields, references: joined, text }
    return text
  }
}

/** `{"id":..,"name":..,"sourceID":..}` from the target columns the store attached, or null. */
function renderReference(row: Row, field: Field): string {
  const id = row[field.column!]
  const target = referenceColumns(field)
  const name = row[target.name]
  if (id == null || name == null) return 'null'
  const sourceId = row[target.sourceId]
  return `{"id":${Number(id)},"name":${JSON.stringify(name)}${sourceId ? `,"sourceID":${JSON.stringify(sourceId)}` : ''}}`
}
