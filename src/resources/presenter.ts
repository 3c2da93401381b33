// Records as JSON text. Rendering a record (datetimes, nodeIDs, escaping) and reading all its
// columns cost more than the rest of a request, so each record's rendered fields are kept, per
// process, under its id and version: a read selects only ids and versions (`heads`), and reads
// and renders in full only the records that are new or changed since they were last rendered.
// Every write bumps lock_version, so a kept rendering is used only while the database still
// holds that version; references are rendered on each answer from their targets' current rows.
import { referenceColumns, type Field, type RenderContext, type Resource, type Row } from '../catalogue/resource.ts'
import type { RecordStore } from './records.ts'

interface Rendered {
  account: string
  version: number
  /** The JSON value of each readable field by catalogue index; references are rendered per answer. */
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
   * Each head (id, lock_version and the reference columns of `fields`, attached) as the JSON
   * object of its record with `fields`, in catalogue order. Heads whose record is gone are left out.
   */
  async render(account: string, heads: readonly Row[], fields: Field[]): Promise<string[]> {
    return (await this.present(account, heads, fields)).map((record) => record.text)
  }

  /** One record with every readable field, and the version it shows (for its ETag). */
  async one(account: string, head: Row): Promise<{ text: string; version: number } | undefined> {
    return (await this.present(account, [head], this.resource.readable))[0]
  }

  private async present(account: string, heads: readonly Row[], fields: Field[]): Promise<Array<{ text: string; version: number }>> {
    const found: Array<Rendered | undefined> = heads.map((head) => this.lookup(account, head))
    // Records not kept at the head's version are read in full; a full row stands in for its
    // head (it may be newer than the head read before it). Heads are shared: never changed.
    const rows = heads.slice()
    const missing = heads.filter((_, i) => found[i] === undefined).map((head) => Number(head.id))
    if (missing.length > 0) {
      const read = await this.store.rows(account, missing)
      await this.store.attachReferences(account, read, fields)
      const byId = new Map(read.map((row) => [Number(row.id), row]))
      heads.forEach((head, i) => {
        const row = found[i] ? undefined : byId.get(Number(head.id))
        if (row) [rows[i], found[i]] = [row, this.remember(account, row)]
      })
    }
    const references = new Map<string, string>()
    const records: Array<{ text: string; version: number }> = []
    rows.forEach((row, i) => {
      const record = found[i]
      if (record) records.push({ text: this.assemble(record, row, fields, references), version: record.version })
    })
    return records
  }

  /** Renders a full row (every column RecordStore reads) and keeps it. */
  remember(account: string, row: Row): Rendered {
    const fields: Array<string | undefined> = []
    for (const field of this.resource.readable) {
      if (field.type.kind === 'reference') continue
      const value = field.compute ? field.compute(row, this.context) : field.type.render(row[field.column!])
      fields[field.index] = JSON.stringify(value)
    }
    const rendered = { account, version: Number(row.lock_version), fields }
    if (this.capacity > 0) {
      // Oldest first: a Map iterates in insertion order, and a changed record is inserted anew.
      this.kept.delete(Number(row.id))
      if (this.kept.size >= this.capacity) this.kept.delete(this.kept.keys().next().value!)
      this.kept.set(Number(row.id), rendered)
    }
    return rendered
  }

  private lookup(account: string, head: Row): Rendered | undefined {
    const kept = this.kept.get(Number(head.id))
    return kept && kept.version === Number(head.lock_version) && kept.account === account ? kept : undefined
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
