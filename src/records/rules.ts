// What a resource adds to the write path besides its catalogue: its own rules. They see the body
// as read by the catalogue and the context of the write, never an HTTP request, so the REST
// routes, the CLI and workers run the same rules.
import type { BodyResult, Mode } from '../catalogue/body.ts'
import type { Resource, Row } from '../catalogue/resource.ts'
import type { Filter } from '../query/parse.ts'
import type { FieldError } from '../errors.ts'
import type { Account } from '../storage/accounts.ts'
import type { Database } from '../storage/database.ts'
import type { Sharing } from './sharing.ts'
import type { RecordQueries, Scope } from './store.ts'

/** Who writes: the person behind the token (audit entries name them as `created_by`). */
export interface Actor {
  id: number | null
  name: string
}

export interface WriteContext {
  actor: Actor
  /** What the client calls itself (X-Xurrent-Source, X-4me-Source or User-Agent): `source`'s fallback. */
  source?: string
}

/** A write on its way to the database, as the resource's rules see it. */
export interface Write {
  mode: Mode
  body: BodyResult
  account: Account
  context: WriteContext
  /** The stored record, on update. */
  existing?: Row
  services: WriteServices
  /** The targets of shared references as the records core found them (Rules.references), by field name. */
  targets: Map<string, Row>
  /**
   * Another resource's create, prepared now (body read, its rules run, slow work such as key
   * generation done, before any transaction opens) and written later in this write's unit of
   * work: the records a write brings along (an install's webhook policy and webhook).
   */
  prepareCreate(resource: Resource, rules: Rules, account: Account, body: Record<string, unknown>, internal?: Row): Promise<PreparedCreate>
}

/** What the records core is given besides the database: the deployment's secret and nodeID domain. */
export interface WriteServices {
  secretKey: string
  nodeIdDomain: string
}

/** A write's transaction, as its effects see it. */
export interface Unit {
  trx: RecordQueries
  account: Account
  context: WriteContext
  /** The write's time (epoch seconds). */
  now: number
  /** Outbox events written in this unit (records/outbox.ts): the worker is woken after the commit. */
  events: number
}

/** A create made ready outside a transaction, written inside one (`columns`: more to store, such as ids known only then). */
export interface PreparedCreate {
  write(unit: Unit, columns?: Row): Promise<Row>
}

/**
 * What a write brings along in its own transaction, decided before the transaction opens:
 * `before` writes other records and answers columns to add to the row (their ids); `after` sees
 * the row as written and writes what follows from it (outbox events, key pairs).
 */
export interface Effects {
  before?(unit: Unit): Promise<Row | void>
  after?(unit: Unit, row: Row): Promise<void>
}

/**
 * Rows of another table that belong to a record and change with it (attachments): checked with
 * the body, written in the record's transaction with its audit entry, copied by a publish, and
 * loaded with the record for the fields that render them.
 */
export interface RecordLinks<Changes = unknown> {
  /** The fields whose rendering needs the linked rows. */
  readonly renders: ReadonlySet<string>
  /** Reads the body's link fields (failing them in the body); what to change, or undefined for nothing. */
  check(write: Write, db: RecordQueries): Promise<Changes | undefined>
  /** Applies the changes to the written row, in the write's transaction; answers the audit's changes. */
  apply(trx: RecordQueries, account: string, row: Row, changes: Changes, now: number): Promise<Record<string, [unknown, unknown]>>
  /** A published copy shares the draft's links (in the publish's transaction); answers the audit's changes. */
  copy(trx: RecordQueries, from: Row, to: Row, now: number): Promise<Record<string, [unknown, unknown]>>
  /** Adds the linked rows to records that were read (`database`: outside a transaction, for statements built once). */
  load(db: RecordQueries, rows: Row[], database?: Database): Promise<void>
}

export interface Rules {
  /** Defaults and cross-field rules: after coercion, before the required check. */
  prepare?(write: Write): void
  /** The field error that a unique constraint failure stands for. */
  unique?: FieldError
  /**
   * Path segments after the collection that select a subset: name -> condition, or a condition
   * on the rows other accounts share with the working account too (records/sharing.ts).
   */
  predefinedFilters?: Record<string, Scope | { where?: Scope; shared: Sharing; only?: boolean }>
  /** Who besides the owner reads the resource's records (records/sharing.ts). */
  sharing?: {
    /** Who reads a record by id. */
    byId: Sharing
    /** Every collection reads under it (the provider reads an app instance's lists too). */
    lists?: Sharing
    /** The field that renders a row's owner: a shared collection shows it by default. */
    owner: string
    /** Whose rows carry their owner's name: other accounts' (default), or all. */
    ownerNames?: 'others' | 'all'
    /** Readers may write (the rules say which fields) and read the audit trail. */
    readersWrite?: boolean
  }
  /**
   * Reference fields whose target may be a record another account shares with the writer (the
   * sharing says which), and what the rules require of it: `check` sees the target row, may fail
   * fields, and answers further columns to store (a denormalized owner, say).
   */
  references?: Record<string, { sharing: Sharing; check(write: Write, target: Row): Row | void }>
  /**
   * A condition an update that writes these columns must still meet when it runs (checked in
   * the UPDATE itself, so a concurrent write cannot slip past what `prepare` saw), and the field
   * error when it no longer does.
   */
  guard?(columns: Row): { where: Scope; error: FieldError } | undefined
  /**
   * Records may be published (RecordWriter.publish): a copy with `draft_id` and `version`. The
   * message when the record named is not a draft.
   */
  publish?: { notDraft: FieldError }
  /**
   * Records may be activated (RecordWriter.activate): an immutable version in `versions`, with
   * `parentColumn` = the record, the next `version_nr`, the `copy` columns of the record and
   * `active` values, while the previous active version takes the `archived` values.
   */
  activate?: { versions: Resource; parentColumn: string; copy: string[]; active: Row; archived: Row }
  /**
   * Collections of another resource under a record of this one (`/app_offerings/:id/app_instances`):
   * the record's owner reads the child records bound to it, as the child's readers may.
   */
  children?: Array<{ name: string; resource: Resource; rules: Rules; bind(parent: Row): Filter[] }>
  /**
   * The write's effects (see Effects): asked once the body has been read and the columns to
   * write are known, before the transaction; slow work (generating a key pair) belongs here.
   */
  effects?(write: Write, columns: Row): Promise<Effects | void>
  /**
   * Records may be deleted (RecordWriter.delete, DELETE answers 204): refused with `error` while
   * a row of a `blockers` table points at the record, and the rows of `dependents` tables that
   * belong to it go with it, in one transaction.
   */
  deletable?: {
    blockers: Array<{ table: string; column: string; error: FieldError }>
    dependents: Array<{ table: string; column: string }>
  }
  /** Rows of another table written and read with the record (its attachments). */
  links?: RecordLinks<any>
  /**
   * The record takes a picture as an upload (`POST .../:id/avatar`): the file part's name, the
   * most bytes it may have, and the value of `field` it becomes (undefined: not an allowed image).
   */
  picture?: { field: string; part: string; maxBytes: number; fromBytes(bytes: Buffer): string | undefined }
}
