// Attachments of a record's texts (attachments.md, step 3): the `<text>_attachments` lists of a
// body, checked against `uploads` and applied in the write's own transaction (records/write.ts),
// so an attachment change is a change of the record: a new lock_version, updated_at and an audit
// entry `{<text>_attachments: [before, after]}`. Publishing copies the references into the
// version; the files stay where they are, stored once.
//
// An upload belongs to the account that uploaded it and to the first offering (its draft and
// versions) that attaches it: `uploads.claimed_by`, set by one conditional UPDATE in the write's
// transaction, so two records racing for one key get one success and one 422.
import type { Kysely } from 'kysely'
import { ROW_BASE_URL, type Row } from '../catalogue/resource.ts'
import { integer, Messages, truthy } from '../catalogue/types.ts'
import { Errors } from '../errors.ts'
import type { Database } from '../storage/database.ts'
import { prepared } from '../storage/prepared.ts'
import type { RecordLinks, Write } from './rules.ts'
import type { RecordQueries } from './store.ts'

/** The row key that carries a record's attachments once loaded. */
export const ATTACHED = 'attachments__rows'
/** Attachments per text, so a record's answer stays bounded. */
export const MAX_PER_TEXT = 50

export interface Attached {
  id: number
  upload_id: number
  key: string
  name: string
  size: number
  content_type: string
  inline: boolean
  field: string
}

interface Item {
  key: string
  filesize?: number
  inline: boolean
  destroy: boolean
}

export interface AttachmentChanges {
  add: Array<{ uploadId: number; field: string; inline: boolean }>
  change: Array<{ id: number; field: string; inline: boolean }>
  remove: number[]
  /** The text each claimed upload was listed under: the field a lost race is reported on. */
  claims: Map<number, string>
}

/** `/v1/attachments/<id>/download` with the given base: where a client downloads an attachment. */
export const downloadPath = (id: number) => `/v1/attachments/${id}/download`
/** A download URI inside a text, as a client that read the text sends it back. */
const DOWNLOAD_IMAGE = /!\[([^\]]*)\]\((?:https?:\/\/[^\s()]*)?\/v1\/attachments\/(\d+)\/download\)/g

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

export class AttachmentLinks implements RecordLinks {
  readonly renders: ReadonlySet<string>
  /** The statement that reads one record's attachments, per database. */
  private readonly single = new WeakMap<Database, (id: number) => Promise<Row[]>>()

  constructor(
    /** The record type attachments are kept under (the resource's name). */
    private readonly recordType: string,
    /** The texts that carry attachments, each with its `<text>_attachments` list. */
    private readonly texts: string[],
  ) {
    this.renders = new Set([...texts, 'attachments'])
  }

  private family(row: Row): string {
    return `${this.recordType}:${Number(row.draft_id ?? row.id)}`
  }

  async check(write: Write, db: RecordQueries): Promise<AttachmentChanges | undefined> {
    const { body, existing, account } = write
    const current: Attached[] = (existing?.[ATTACHED] as Attached[] | undefined) ?? []
    // A text sent back as read names its images by download URI: stored by key again.
    for (const text of this.texts) {
      const value = body.values.get(text)
      if (typeof value !== 'string' || current.length === 0) continue
      body.values.set(text, value.replace(DOWNLOAD_IMAGE, (whole, alt: string, id: string) => {
        const attached = current.find((a) => a.id === Number(id) && a.field === text)
        return attached ? `![${alt}](${attached.key})` : whole
      }))
    }
    const lists = new Map<string, Item[]>()
    for (const text of this.texts) {
      const field = `${text}_attachments`
      if (!body.values.has(field) || body.failed(field)) continue
      const items = (body.values.get(field) as Record<string, unknown>[]).map(readItem)
      if (items.some((item) => item === undefined)) body.fail(field, Messages.invalid)
      else lists.set(text, items as Item[])
    }
    if (lists.size === 0) return undefined

    const keys = [...new Set([...lists.values()].flat().map((item) => item.key))]
    // (`in ()` is no SQL PostgreSQL takes: an empty list asks nothing.)
    const found = keys.length === 0 ? [] : await (db as unknown as Kysely<any>).selectFrom('uploads').select(['id', 'key', 'account_id', 'size', 'claimed_by']).where('key', 'in', keys).execute()
    const uploads = new Map(found.map((u) => [u.key as string, u]))
    const family = existing ? this.family(existing) : undefined
    const changes: AttachmentChanges = { add: [], change: [], remove: [], claims: new Map() }
    for (const [text, items] of lists) {
      const field = `${text}_attachments`
      // The text's attachments as they will be: by upload, the last mention of a key wins.
      const after = new Map(current.filter((a) => a.field === text).map((a) => [a.upload_id, { inline: a.inline, field: text }]))
      let ok = true
      for (const item of items) {
        const upload = uploads.get(item.key)
        const attached = upload && current.find((a) => a.upload_id === Number(upload.id))
        if (item.destroy) {
          // Nothing to remove on a record being made; elsewhere it must be one of this text's.
          if (!existing) continue
          if (!attached || attached.field !== text) ok = false
          else after.delete(attached.upload_id)
          continue
        }
        const mine = upload && upload.account_id === account.id && (upload.claimed_by == null || upload.claimed_by === family)
        if (!mine || (item.filesize !== undefined && item.filesize !== Number(upload.size))) {
          ok = false
          continue
        }
        after.set(Number(upload.id), { inline: item.inline, field: text })
      }
      if (!ok) {
        body.fail(field, Messages.invalid)
        continue
      }
      if (after.size > MAX_PER_TEXT) {
        body.fail(field, `is too long (maximum is ${MAX_PER_TEXT} attachments)`)
        continue
      }
      for (const a of current) {
        if (a.field !== text) continue
        if (!after.has(a.upload_id)) changes.remove.push(a.id)
      }
      for (const [uploadId, wanted] of after) {
        const attached = current.find((a) => a.upload_id === uploadId)
        if (!attached) {
          changes.add.push({ uploadId, ...wanted })
          changes.claims.set(uploadId, field)
        } else if (attached.field !== wanted.field || attached.inline !== wanted.inline) {
          changes.change.push({ id: attached.id, ...wanted })
        }
      }
    }
    // An upload moved from one text to another is listed under both: the removal must not win.
    changes.remove = changes.remove.filter((id) => !changes.change.some((c) => c.id === id))
    return changes.add.length + changes.change.length + changes.remove.length > 0 ? changes : undefined
  }

  async apply(trx: RecordQueries, account: string, row: Row, changes: AttachmentChanges, now: number): Promise<Record<string, [unknown, unknown]>> {
    const db = trx as unknown as Kysely<any>
    const before = await this.list(db, [Number(row.id)])
    const family = this.family(row)
    for (const [uploadId, field] of changes.claims) {
      const claimed = await db
        .updateTable('uploads')
        .set({ claimed_by: family })
        .where('id', '=', uploadId)
        .where('account_id', '=', account)
        .where((eb) => eb.or([eb('claimed_by', 'is', null), eb('claimed_by', '=', family)]))
        .executeTakeFirst()
      // Attached elsewhere (or swept) since the check: the whole write is undone.
      if (Number(claimed.numUpdatedRows) !== 1) throw Errors.validationFailed([[field, Messages.invalid]])
    }
    if (changes.remove.length > 0) await db.deleteFrom('attachments').where('record_type', '=', this.recordType).where('record_id', '=', Number(row.id)).where('id', 'in', changes.remove).execute()
    for (const c of changes.change) {
      await db.updateTable('attachments').set({ field: c.field, inline: c.inline ? 1 : 0 }).where('record_type', '=', this.recordType).where('record_id', '=', Number(row.id)).where('id', '=', c.id).execute()
    }
    if (changes.add.length > 0) {
      await db
        .insertInto('attachments')
        .values(changes.add.map((a) => ({ account_id: account, record_type: this.recordType, record_id: Number(row.id), field: a.field, inline: a.inline ? 1 : 0, upload_id: a.uploadId, created_at: now })))
        .execute()
    }
    // A row just inserted has version 0: its entry is a create's, whose old values are null.
    return this.auditChanges(Number(row.lock_version) === 0 ? undefined : before, await this.list(db, [Number(row.id)]))
  }

  async copy(trx: RecordQueries, from: Row, to: Row, now: number): Promise<Record<string, [unknown, unknown]>> {
    const db = trx as unknown as Kysely<any>
    await db
      .insertInto('attachments')
      .columns(['account_id', 'record_type', 'record_id', 'field', 'inline', 'upload_id', 'created_at'])
      .expression((eb) =>
        eb
          .selectFrom('attachments')
          .select((s) => ['account_id', 'record_type', s.val(Number(to.id)).as('record_id'), 'field', 'inline', 'upload_id', s.val(now).as('created_at')])
          .where('record_type', '=', this.recordType)
          .where('record_id', '=', Number(from.id))
          .orderBy('id'),
      )
      .execute()
    return this.auditChanges(undefined, await this.list(db, [Number(to.id)]))
  }

  async load(db: RecordQueries, rows: Row[], database?: Database): Promise<void> {
    if (rows.length === 0) return
    // One record read by id, the most frequent read: a statement built once (storage/prepared.ts).
    const all =
      database && rows.length === 1
        ? (await this.preparedFor(database)(Number(rows[0].id))).map(toAttached)
        : await this.list(db as unknown as Kysely<any>, rows.map((row) => Number(row.id)))
    const byRecord = new Map<number, Attached[]>()
    for (const a of all) {
      const list = byRecord.get(a.record_id) ?? []
      list.push(a)
      byRecord.set(a.record_id, list)
    }
    for (const row of rows) row[ATTACHED] = byRecord.get(Number(row.id)) ?? []
  }

  private query(db: Kysely<any>, recordIds: unknown) {
    return db
      .selectFrom('attachments as a')
      .innerJoin('uploads as u', 'u.id', 'a.upload_id')
      .select(['a.id', 'a.record_id', 'a.field', 'a.inline', 'a.upload_id', 'u.key', 'u.name', 'u.size', 'u.content_type'])
      .where('a.record_type', '=', this.recordType)
      .where('a.record_id', Array.isArray(recordIds) ? 'in' : '=', recordIds)
      .orderBy('a.id')
  }

  private async list(db: Kysely<any>, recordIds: number[]): Promise<Array<Attached & { record_id: number }>> {
    return (await this.query(db, recordIds).execute()).map(toAttached)
  }

  private preparedFor(database: Database): (id: number) => Promise<Row[]> {
    let statement = this.single.get(database)
    if (!statement) this.single.set(database, (statement = prepared(database, 1, (id) => this.query(database.db as unknown as Kysely<any>, id))))
    return statement
  }

  /**
   * `{<text>_attachments: [before, after]}` for every text whose attachments changed, each a list
   * of `{key, inline}`; `before` undefined for a record being made (its old values are null).
   */
  private auditChanges(before: Attached[] | undefined, after: Attached[]): Record<string, [unknown, unknown]> {
    const changed: Record<string, [unknown, unknown]> = {}
    for (const text of this.texts) {
      const of = (list: Attached[]) => list.filter((a) => a.field === text).map((a) => ({ key: a.key, inline: a.inline }))
      const [old, now] = [of(before ?? []), of(after)]
      if (JSON.stringify(old) !== JSON.stringify(now)) changed[`${text}_attachments`] = [before === undefined ? null : old, now]
    }
    return changed
  }
}

function toAttached(r: Row): Attached & { record_id: number } {
  return {
    id: Number(r.id),
    record_id: Number(r.record_id),
    upload_id: Number(r.upload_id),
    key: String(r.key),
    name: String(r.name),
    size: Number(r.size),
    content_type: String(r.content_type),
    inline: Number(r.inline) === 1,
    field: String(r.field),
  }
}

/** One item of a `<text>_attachments` list, or undefined when it is not one (the Ruby SDK sends scalars as strings). */
function readItem(input: Record<string, unknown>): Item | undefined {
  const key = input.key
  // Text a key column can hold and compare: PostgreSQL refuses NUL outright (a 500, otherwise).
  if (typeof key !== 'string' || key === '' || key.length > 1024 || !key.isWellFormed() || key.includes('\u0000')) return undefined
  const flag = (value: unknown) => (value === undefined || value === null ? false : typeof value === 'boolean' ? value : typeof value === 'string' || typeof value === 'number' ? truthy(String(value)) : undefined)
  const inline = flag(input.inline)
  const destroy = flag(input._destroy)
  if (inline === undefined || destroy === undefined) return undefined
  let filesize: number | undefined
  if (input.filesize !== undefined && input.filesize !== null && input.filesize !== '') {
    const coerced = integer({ min: 0 }).coerce(input.filesize)
    if ('error' in coerced || (coerced.value as number) < 0) return undefined
    filesize = coerced.value as number
  }
  return { key, filesize, inline, destroy }
}

/** The `attachments` field: every attachment of the texts, with an absolute download URI. */
export function renderAttachments(row: Row): unknown {
  const base = String(row[ROW_BASE_URL] ?? '')
  return ((row[ATTACHED] as Attached[] | undefined) ?? []).map((a) => ({
    id: a.id,
    name: a.name,
    size: a.size,
    content_type: a.content_type,
    inline: a.inline,
    field: a.field,
    uri: `${base}${downloadPath(a.id)}`,
  }))
}

/**
 * A text as answered: each `![](<key>)` of one of its attachments names the attachment's download
 * URI instead, so a client can show the image (the key is no URL); sent back, it is stored by key again.
 */
export function renderText(text: string, row: Row, field: string): string {
  const attached = ((row[ATTACHED] as Attached[] | undefined) ?? []).filter((a) => a.field === field && text.includes(a.key))
  if (attached.length === 0) return text
  const base = String(row[ROW_BASE_URL] ?? '')
  const uris = new Map(attached.map((a) => [a.key, `${base}${downloadPath(a.id)}`]))
  const pattern = new RegExp(`(!\\[[^\\]]*\\]\\()(${attached.map((a) => escapeRegExp(a.key)).join('|')})\\)`, 'g')
  return text.replace(pattern, (_whole, open: string, key: string) => `${open}${uris.get(key)})`)
}
