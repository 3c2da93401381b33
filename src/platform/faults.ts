// Storage faults: the database answers, but cannot write (a full or read-only disk, an I/O error,
// the server out of memory or connections). They are operational, not bugs: a request that meets
// one answers 503 with Retry-After, the cause is logged once (not once per request), and /readyz
// reports it until a write succeeds again.
//
// A full disk on SQLite is also *masked*: SQLite rolls the transaction back by itself on
// SQLITE_FULL (and SQLITE_IOERR, SQLITE_NOMEM, ...), Kysely's Kysely.transaction() then issues its
// own ROLLBACK, which fails with "cannot rollback - no transaction is active", and that error
// replaces the original one. So that error is taken for a storage fault whose cause is learnt by
// a write probe (see StorageHealth.probe).
import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../storage/database.ts'

/** What a storage fault is, in words for the log and /readyz; undefined when the error is no storage fault. */
export function storageFaultCause(error: unknown): string | undefined {
  const e = error as { code?: unknown; message?: unknown } | null
  const code = typeof e?.code === 'string' ? e.code : ''
  if (code === 'SQLITE_FULL') return 'disk full (SQLITE_FULL)'
  if (code.startsWith('SQLITE_IOERR')) return `I/O error (${code})`
  if (code.startsWith('SQLITE_READONLY')) return `read-only (${code})`
  if (code === 'SQLITE_NOMEM') return 'out of memory (SQLITE_NOMEM)'
  if (code === 'SQLITE_CANTOPEN') return 'cannot open the database file (SQLITE_CANTOPEN)'
  if (code === '53100') return 'disk full (PostgreSQL 53100 disk_full)'
  if (code === '53200') return 'out of memory (PostgreSQL 53200 out_of_memory)'
  if (code === '53300') return 'too many connections (PostgreSQL 53300 too_many_connections)'
  if (code === '25006') return 'read-only (PostgreSQL 25006 read_only_sql_transaction)'
  if (code === '58030') return 'I/O error (PostgreSQL 58030 io_error)'
  if (code === 'ENOSPC' || code === 'EDQUOT') return `disk full (${code})`
  if (code === 'EROFS') return 'read-only (EROFS)'
  if (code === 'EIO') return 'I/O error (EIO)'
  return undefined
}

/** True for an error that says the storage cannot write now, rather than a bug. */
export function isStorageFault(error: unknown): boolean {
  return storageFaultCause(error) !== undefined || isMaskedRollback(error)
}

/**
 * Kysely's ROLLBACK after SQLite rolled the transaction back itself: the original error (a
 * storage fault; SQLite only rolls back by itself on those) is lost.
 */
export function isMaskedRollback(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null
  return typeof e?.message === 'string' && /cannot rollback - no transaction is active/.test(e.message)
}

const PROBE_KEY = 'write_probe'
const MASKED = 'a write failed and SQLite rolled its transaction back (the cause was masked and the probe write succeeded)'

/** Whether writes fail right now, as the last write or probe found. */
export class StorageHealth {
  private cause: string | undefined
  private probing: Promise<void> | undefined

  constructor(
    private readonly database: Database,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** The cause of the current fault, or undefined while writes succeed. */
  fault(): string | undefined {
    return this.cause
  }

  /** A request met a storage fault: remembered, and logged when it is new (with its real cause). */
  async failed(error: unknown, log: FastifyBaseLogger = this.log): Promise<void> {
    const cause = storageFaultCause(error)
    if (cause) return this.set(cause, error, log)
    // Masked: learn the cause from a write of our own.
    await this.probe()
    if (!this.cause) this.set(MASKED, error, log)
  }

  /** A write succeeded: the fault, if any, is over. */
  succeeded(): void {
    if (this.cause === undefined) return
    this.log.info({ cause: this.cause }, 'storage fault over: writes succeed again')
    this.cause = undefined
  }

  /**
   * Writes one row (settings.write_probe, the time) and records the outcome: how /readyz finds out
   * that space has returned when no client write arrives (a server out of rotation gets none).
   */
  probe(): Promise<void> {
    this.probing ??= this.write().finally(() => (this.probing = undefined))
    return this.probing
  }

  private async write(): Promise<void> {
    try {
      const value = String(Date.now())
      await this.database.db
        .insertInto('settings')
        .values({ key: PROBE_KEY, value })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
        .execute()
      this.succeeded()
    } catch (error) {
      const cause = storageFaultCause(error)
      if (cause) this.set(cause, error, this.log)
      // Anything else (the database unreachable, say) is not what this probe is about.
      else this.log.debug({ err: error }, 'storage probe failed')
    }
  }

  private set(cause: string, error: unknown, log: FastifyBaseLogger): void {
    if (this.cause === cause) return
    this.cause = cause
    log.error({ err: error, cause }, `storage fault: ${cause}; writes answer 503 until one succeeds again`)
  }
}
