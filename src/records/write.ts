// The one write path. Every write of a record, whoever makes it (a REST route, the CLI's seeding,
// the webhook worker, later GraphQL), is a unit of work here:
//   body -> catalogue (coercion, Rails-worded errors) -> the resource's rules -> references ->
//   effects prepared (slow work such as key generation) ->
//   one transaction {companion records, row, version, audit entry, key rows and outbox events}
// and answers the record as that transaction wrote it, so a commit is never followed by a
// second read that could fail (a saved create answered 503 would be retried into a 422).
import { sql } from 'kysely'
import { readBody, requireFields, type Mode } from '../catalogue/body.ts'
import type { Field, Resource, Row } from '../catalogue/resource.ts'
import { Messages } from '../catalogue/types.ts'
import { Errors } from '../errors.ts'
import type { Account } from '../storage/accounts.ts'
import { isForeignKeyViolation, isUniqueViolation, nowSeconds } from '../storage/database.ts'
import { changes, writeAudit, type AuditEntry } from './audit.ts'
import { notifyOutbox } from './outbox.ts'
import { visibleRows } from './sharing.ts'
import type { Effects, PreparedCreate, Rules, Unit, Write, WriteContext, WriteServices } from './rules.ts'
import { RecordStore, type RecordQueries } from './store.ts'

/** Rows per INSERT and per transaction when many records are written at once (seeding). */
const ROWS_PER_STATEMENT = 200
const ROWS_PER_TRANSACTION = 20_000

/** A record for createMany: its body, and the epoch seconds it was made and changed at, if not now. */
export interface ImportedRecord {
  body: Record<string, unknown>
  createdAt?: number
  updatedAt?: number
}

export class RecordWriter {
  readonly resource: Resource
  /** What an answer renders: every column, and the version. */
  private readonly returned: string[]

  /** Writers of the records a write brings along (records/rules.ts, Write.prepareCreate), by table. */
  private readonly companions = new Map<string, RecordWriter>()

  constructor(
    private readonly store: RecordStore,
    private readonly rules: Rules = {},
    // Only resources whose rules seal keys or write events need real ones.
    private readonly services: WriteServices = { secretKey: '', nodeIdDomain: 'localhost' },
  ) {
    this.resource = store.resource
    this.returned = [...this.resource.columns, 'lock_version']
  }

  private companion(resource: Resource, rules: Rules): RecordWriter {
    let writer = this.companions.get(resource.table)
    if (!writer) this.companions.set(resource.table, (writer = new RecordWriter(new RecordStore(this.store.database, resource), rules, this.services)))
    return writer
  }

  /**
   * Body -> the columns to write and the changes of its links (attachments), or a 422 with every
   * failing field. `knownTargets` remembers references already found (many records in one call
   * point at the same few).
   */
  private async columns(account: Account, input: Record<string, unknown>, mode: Mode, context: WriteContext, existing?: Row, knownTargets?: Set<string>): Promise<{ columns: Row; links: unknown }> {
    const { columns, links } = await this.prepare(account, input, mode, context, existing, knownTargets)
    return { columns, links }
  }

  /** The columns to write, the changes of its links and the write's effects (records/rules.ts), all decided before any transaction. */
  private async prepare(account: Account, input: Record<string, unknown>, mode: Mode, context: WriteContext, existing?: Row, knownTargets?: Set<string>, internal: Row = {}): Promise<{ columns: Row; links: unknown; effects: Effects | void }> {
    const body = readBody(this.resource, input, mode)
    const write: Write = {
      mode,
      body,
      account,
      context,
      existing,
      services: this.services,
      targets: new Map(),
      prepareCreate: (resource, rules, owner, companionBody, internal) => this.companion(resource, rules).prepareCreate(owner, companionBody, context, internal),
    }
    this.rules.prepare?.(write)
    requireFields(this.resource, body, mode)
    const derived: Row = {}
    for (const field of this.resource.writable) {
      const id = body.values.get(field.name)
      if (field.type.kind !== 'reference' || id == null || body.failed(field.name)) continue
      const shared = this.rules.references?.[field.name]
      if (shared) {
        // A target another account may share with the writer; the rules judge it.
        const target = await this.store.visibleTarget(account.id, field, id as number, shared.sharing)
        if (!target) body.fail(field.name, Messages.mustExist)
        else {
          write.targets.set(field.name, target)
          Object.assign(derived, shared.check(write, target) ?? {})
        }
      } else if (!(await this.targetExists(account.id, field, id as number, knownTargets))) body.fail(field.name, Messages.mustExist)
    }
    // Attachments are judged with the other fields: one 422 names every field that fails.
    const links = this.rules.links ? await this.rules.links.check(write, this.store.db) : undefined
    if (!body.ok) throw Errors.validationFailed(body.errorList())
    const columns: Row = { ...internal }
    for (const [column, value] of Object.entries(derived)) if (!existing || existing[column] !== value) columns[column] = value
    for (const [name, value] of body.values) {
      const field = this.resource.field(name)!
      if (!field.column) continue
      const stored = field.type.store(value)
      if (!existing || existing[field.column] !== stored) columns[field.column] = stored
    }
    const effects = this.rules.effects && (mode === 'create' || Object.keys(columns).length > 0 || links !== undefined) ? await this.rules.effects(write, columns) : undefined
    return { columns, links, effects }
  }

  private async targetExists(account: string, field: Field, id: number, known?: Set<string>): Promise<boolean> {
    const key = `${field.name}:${id}`
    if (known?.has(key)) return true
    const exists = await this.store.targetExists(account, field, id)
    if (exists) known?.add(key)
    return exists
  }

  /** Runs a write; a unique constraint failure is the resource's field error (or a 409). */
  private async transaction<T>(work: (trx: RecordQueries) => Promise<T>, unit?: Omit<Unit, 'trx'>): Promise<T> {
    try {
      const result = await this.store.db.transaction().execute(work)
      // Committed: a worker of this process sends the new events now rather than at its next poll.
      if (unit && unit.events > 0) notifyOutbox()
      return result
    } catch (error) {
      if (isUniqueViolation(error)) throw this.rules.unique ? Errors.validationFailed([this.rules.unique]) : Errors.conflict()
      throw error
    }
  }

  /** Creates a record; answers it as committed, references attached. */
  async create(account: Account, input: Record<string, unknown>, context: WriteContext): Promise<Row> {
    const prepared = await this.prepareCreate(account, input, context)
    const unit = { account, context, now: nowSeconds(), events: 0 }
    return this.transaction(async (trx) => {
      const row = await prepared.write(Object.assign(unit, { trx }))
      await this.store.attachReferences(account.id, [row], this.resource.references, trx)
      await this.store.attachOwners(account.id, [row], trx)
      return row
    }, unit)
  }

  /**
   * A create read and judged now (body, rules, references, effects prepared), written later in a
   * unit of work: the row, its audit entry and its effects. `create` is this in a transaction of
   * its own; another write's effects use it for the records they bring along.
   */
  async prepareCreate(account: Account, input: Record<string, unknown>, context: WriteContext, internal: Row = {}): Promise<PreparedCreate> {
    const { columns, links, effects } = await this.prepare(account, input, 'create', context, undefined, undefined, internal)
    return {
      write: async (unit, known = {}) => {
        const added = (await effects?.before?.(unit)) ?? {}
        const row = await unit.trx
          .insertInto(this.resource.table)
          .values({ ...columns, ...known, ...added, account_id: account.id, created_at: unit.now, updated_at: unit.now })
          .returning(this.returned)
          .executeTakeFirstOrThrow()
        const linked = links === undefined ? {} : await this.rules.links!.apply(unit.trx, account.id, row, links, unit.now)
        await writeAudit(unit.trx, [this.entry(account, row, 'create', context, unit.now, undefined, linked)])
        await this.rules.links?.load(unit.trx, [row])
        // The outbox events of a create (app_instance.create, webhook.verify) and what else follows.
        await effects?.after?.(unit, row)
        return row
      },
    }
  }

  /**
   * Applies a body to a stored record (read by the caller, who has checked it may be changed).
   * With `expectedVersion` the update applies only to that version: a 409 otherwise, nothing
   * changed. A body that changes nothing writes nothing and answers the record as it is.
   */
  async update(account: Account, existing: Row, input: Record<string, unknown>, context: WriteContext, expectedVersion?: number): Promise<Row> {
    const { columns, links, effects } = await this.prepare(account, input, 'update', context, existing)
    if (Object.keys(columns).length === 0 && links === undefined) return existing
    const now = nowSeconds()
    const unit = { account, context, now, events: 0 }
    return this.transaction(async (trx) => {
      // The owner, or an account the resource's sharing lets write (the caller read it so).
      const owner = existing.account_id === undefined ? account.id : String(existing.account_id)
      const added = (await effects?.before?.(Object.assign(unit, { trx }))) ?? {}
      let query = trx
        .updateTable(this.resource.table)
        .set({ ...columns, ...added, updated_at: now, lock_version: sql`lock_version + 1` })
        .where((eb) => (owner === account.id || !this.store.sharing ? eb('account_id', '=', account.id) : visibleRows(eb, account.id, this.store.sharing)))
        .where('id', '=', Number(existing.id))
      if (expectedVersion !== undefined) query = query.where('lock_version', '=', expectedVersion)
      const guard = this.rules.guard?.(columns)
      if (guard) query = query.where(guard.where)
      const row = await query.returning(this.returned).executeTakeFirst()
      if (!row) {
        if (expectedVersion !== undefined) throw Errors.conflict()
        // The record is there (the caller read it, and nothing deletes records): the guard refused.
        throw guard ? Errors.validationFailed([guard.error]) : Errors.notFound()
      }
      const linked = links === undefined ? {} : await this.rules.links!.apply(trx, String(row.account_id ?? owner), row, links, now)
      await writeAudit(trx, [this.entry(account, row, 'update', context, now, existing, linked)])
      await this.rules.links?.load(trx, [row])
      // An update's outbox events (app_instance.update, webhook.verify on a new URI), in this transaction.
      await effects?.after?.(Object.assign(unit, { trx }), row)
      await this.store.attachReferences(account.id, [row], this.resource.references, trx)
      await this.store.attachOwners(account.id, [row], trx)
      return row
    }, unit)
  }

  /**
   * Deletes a record of the account (read by the caller) with the rows that belong to it
   * (`Rules.deletable.dependents`), in one transaction with a `delete` entry naming its last
   * values; a 422 while a `blockers` row points at it, nothing deleted.
   */
  async delete(account: Account, existing: Row, context: WriteContext): Promise<void> {
    const rules = this.rules.deletable
    if (!rules) throw new Error(`${this.resource.name} cannot be deleted`)
    const id = Number(existing.id)
    const now = nowSeconds()
    await this.transaction(async (trx) => {
      for (const blocker of rules.blockers) {
        const used = await trx.selectFrom(blocker.table).select('id').where(blocker.column, '=', id).limit(1).executeTakeFirst()
        if (used) throw Errors.validationFailed([blocker.error])
      }
      // Dependents first: they point at the row (foreign keys are checked at once on both engines).
      for (const dependent of rules.dependents) await trx.deleteFrom(dependent.table).where(dependent.column, '=', id).execute()
      let gone: Row | undefined
      try {
        gone = await trx.deleteFrom(this.resource.table).where('account_id', '=', account.id).where('id', '=', id).returning(['id']).executeTakeFirst()
      } catch (error) {
        // A blocker written since the check above (a webhook made with this policy meanwhile).
        if (isForeignKeyViolation(error) && rules.blockers.length > 0) throw Errors.validationFailed([rules.blockers[0].error])
        throw error
      }
      if (!gone) throw Errors.notFound()
      const last = changes(this.resource, undefined, existing)
      const entry: AuditEntry = { resource: this.resource, account: account.id, recordId: id, action: 'delete', actor: context.actor, at: now, changes: Object.fromEntries(Object.entries(last).map(([name, [, value]]) => [name, [value, null]])) }
      await writeAudit(trx, [entry])
    })
  }

  /**
   * Creates many records through the same rules, many rows per statement: all of them, or, at
   * the first invalid body, none of the transaction it would have been in. An item may carry
   * the times it was made at elsewhere, as an import does. Answers how many.
   */
  async createMany(account: Account, inputs: Iterable<ImportedRecord>, context: WriteContext, progress?: (done: number) => void): Promise<number> {
    // Rows go in by the hundred: a resource whose writes bring effects along is written one by one.
    if (this.rules.effects) throw new Error(`${this.resource.name} cannot be written in bulk: its writes have effects`)
    const known = new Set<string>()
    let batch: Row[] = []
    let done = 0
    const flush = async () => {
      const now = nowSeconds()
      const rows = batch
      batch = []
      await this.transaction(async (trx) => {
        for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
          const values = rows.slice(i, i + ROWS_PER_STATEMENT).map((columns) => ({ created_at: now, updated_at: now, ...columns, account_id: account.id }))
          // Each returned row carries its own values, so no entry depends on the order rows come back in.
          const written = await trx.insertInto(this.resource.table).values(values).returning(this.returned).execute()
          await writeAudit(trx, written.map((row) => this.entry(account, row, 'create', context, now, undefined)))
        }
      })
      done += rows.length
      progress?.(done)
    }
    for (const { body, createdAt, updatedAt } of inputs) {
      const { columns, links } = await this.columns(account, body, 'create', context, undefined, known)
      // Many rows per statement: a body with attachments belongs to create(), one record at a time.
      if (links !== undefined) throw new Error('createMany does not write attachments')
      if (createdAt !== undefined) columns.created_at = createdAt
      if (updatedAt !== undefined) columns.updated_at = updatedAt
      batch.push(columns)
      if (batch.length >= ROWS_PER_TRANSACTION) await flush()
    }
    if (batch.length > 0) await flush()
    return done
  }

  /**
   * Publishes a draft (lifecycle.md): one transaction that takes the next version number from
   * the draft row (`version = version + 1 ... RETURNING`, which holds the row's lock to the
   * commit on PostgreSQL, so parallel publishes of one draft get 1, 2, 3, ...), inserts a copy of
   * the draft with `draft_id` and that number, and writes a `publish` entry on the draft
   * (`{version: [previous, new]}`) and a `create` entry on the version. The draft stays as it was
   * (neither its lock_version nor its updated_at moves). A record that is not a draft, or a draft
   * that fails validation as it stands, is a 422 and nothing is written.
   *
   * No outbox event follows a publish (lifecycle.md names none).
   */
  async publish(account: Account, draft: Row, context: WriteContext): Promise<Row> {
    const rules = this.rules.publish
    if (!rules) throw new Error(`${this.resource.name} cannot be published`)
    if (draft.draft_id != null) throw Errors.validationFailed([rules.notDraft])
    await this.columns(account, this.asBody(draft), 'create', context)
    const stored = this.resource.tableColumns.map((column) => column.name)
    const now = nowSeconds()
    return this.transaction(async (trx) => {
      const current = await trx
        .updateTable(this.resource.table)
        .set({ version: sql`version + 1` })
        .where('account_id', '=', account.id)
        .where('id', '=', Number(draft.id))
        .where('draft_id', 'is', null)
        .returning(stored)
        .executeTakeFirst()
      if (!current) throw Errors.notFound()
      const copy: Row = {}
      for (const name of stored) if (!['id', 'lock_version', 'change_seq'].includes(name)) copy[name] = current[name]
      const version = Number(current.version)
      const row = await trx
        .insertInto(this.resource.table)
        .values({ ...copy, draft_id: Number(current.id), version, created_at: now, updated_at: now })
        .returning(this.returned)
        .executeTakeFirstOrThrow()
      // The version shares the draft's attachments: their references are copied, not their files.
      const linked = (await this.rules.links?.copy(trx, current, row, now)) ?? {}
      await writeAudit(trx, [
        { resource: this.resource, account: account.id, recordId: Number(current.id), action: 'publish', actor: context.actor, at: now, changes: { version: [version > 1 ? version - 1 : null, version] } },
        this.entry(account, row, 'create', context, now, undefined, linked),
      ])
      await this.rules.links?.load(trx, [row])
      await this.store.attachReferences(account.id, [row], this.resource.references, trx)
      await this.store.attachOwners(account.id, [row], trx)
      return row
    })
  }

  /**
   * Activates a record (a UI extension, lifecycle.md): one transaction that takes the next
   * version number from the record's row (`versions = versions + 1 ... RETURNING`, which holds
   * its lock to the commit on PostgreSQL), archives the active version, and inserts an immutable
   * version with the record's current `copy` columns. Entries: `publish` on the record
   * (`{version_nr: [previous, new]}`), `update` on the archived version and `create` on the new
   * one. Answers the new version.
   */
  async activate(account: Account, record: Row, context: WriteContext): Promise<Row> {
    const spec = this.rules.activate
    if (!spec) throw new Error(`${this.resource.name} cannot be activated`)
    const versions = spec.versions
    const returned = [...versions.columns, 'lock_version']
    const now = nowSeconds()
    const entry = (row: Row, action: AuditEntry['action'], changed: Record<string, [unknown, unknown]>): AuditEntry => ({ resource: versions, account: account.id, recordId: Number(row.id), action, actor: context.actor, at: now, changes: changed })
    return this.transaction(async (trx) => {
      const current = await trx
        .updateTable(this.resource.table)
        .set({ versions: sql`versions + 1` })
        .where('account_id', '=', account.id)
        .where('id', '=', Number(record.id))
        .returning(['id', 'versions', ...spec.copy])
        .executeTakeFirst()
      if (!current) throw Errors.notFound()
      const number = Number(current.versions)
      const [activeKey, activeValue] = Object.entries(spec.active)[0]
      const archived = await trx
        .updateTable(versions.table)
        .set({ ...spec.archived, archived_at: now, lock_version: sql`lock_version + 1` })
        .where('account_id', '=', account.id)
        .where(spec.parentColumn, '=', Number(record.id))
        .where(activeKey, '=', activeValue as string)
        .returning(['id'])
        .execute()
      const copied = Object.fromEntries(spec.copy.map((column) => [column, current[column]]))
      const row = await trx
        .insertInto(versions.table)
        .values({ ...copied, ...spec.active, account_id: account.id, [spec.parentColumn]: Number(record.id), version_nr: number, activated_at: now })
        .returning(returned)
        .executeTakeFirstOrThrow()
      await writeAudit(trx, [
        { resource: this.resource, account: account.id, recordId: Number(record.id), action: 'publish', actor: context.actor, at: now, changes: { version_nr: [number > 1 ? number - 1 : null, number] } },
        ...archived.map((old) => entry(old, 'update', { [activeKey]: [activeValue, Object.values(spec.archived)[0]] })),
        entry(row, 'create', { version_nr: [null, number], [activeKey]: [null, activeValue] }),
      ])
      return row
    })
  }

  /** A stored record as the body that would create it: what publishing validates. */
  private asBody(row: Row): Record<string, unknown> {
    const body: Record<string, unknown> = {}
    for (const field of this.resource.writable) if (field.column && field.type.column) body[field.input] = field.type.render(row[field.column])
    return body
  }

  private entry(account: Account, row: Row, action: 'create' | 'update', context: WriteContext, at: number, before: Row | undefined, linked: Record<string, [unknown, unknown]> = {}): AuditEntry {
    // The entry lives with the record, in its owner's account, whoever wrote it.
    const owner = row.account_id === undefined ? account.id : String(row.account_id)
    return { resource: this.resource, account: owner, recordId: Number(row.id), action, actor: context.actor, at, changes: { ...changes(this.resource, before, row), ...linked } }
  }
}
