// What a resource adds to the write path besides its catalogue: its own rules. They see the body
// as read by the catalogue and the context of the write, never an HTTP request, so the REST
// routes, the CLI and workers run the same rules.
import type { BodyResult, Mode } from '../catalogue/body.ts'
import type { Row } from '../catalogue/resource.ts'
import type { FieldError } from '../errors.ts'
import type { Account } from '../storage/accounts.ts'
import type { Sharing } from './sharing.ts'
import type { Scope } from './store.ts'

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
  predefinedFilters?: Record<string, Scope | { where: Scope; shared: true }>
  /** What the resource's rows show to the customers that trust their owner. */
  sharing?: Sharing
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
}
