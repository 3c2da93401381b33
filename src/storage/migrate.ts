// Migrations are code, one module per step, applied in order inside one transaction and recorded
// in a table. A database that has steps this build does not know was written by a newer build:
// the server refuses it rather than run against a schema it does not understand.
//
// Not Kysely's Migrator: it looks for its table by introspecting every schema of the database,
// which takes a table in another schema for its own and fails when another schema is dropped
// meanwhile. Here everything happens in the connection's current schema.
import { sql, type Kysely } from 'kysely'
import type { Database } from './database.ts'
import * as initial from './migrations/001-initial.ts'
import * as accountChanges from './migrations/002-account-changes.ts'
import * as people from './migrations/003-people.ts'
import * as recordsCore from './migrations/004-records-core.ts'
import * as lifecycle from './migrations/005-lifecycle.ts'
import * as webhooks from './migrations/006-webhooks.ts'
import * as attachments from './migrations/007-attachments.ts'

const STEPS: Record<string, { up: typeof initial.up }> = {
  '001-initial': initial,
  '002-account-changes': accountChanges,
  '003-people': people,
  '004-records-core': recordsCore,
  '005-lifecycle': lifecycle,
  '006-webhooks': webhooks,
  '007-attachments': attachments,
}

export const LATEST_MIGRATION = Object.keys(STEPS).at(-1)!

export class NewerDatabaseError extends Error {
  constructor(unknown: string[]) {
    super(`the database has migrations this server does not know (${unknown.join(', ')}): it was migrated by a newer version`)
    this.name = 'NewerDatabaseError'
  }
}

// The table name Kysely's Migrator used, so databases it migrated stay current.
const TABLE = 'kysely_migration'

/** Names of the migrations recorded in the database, [] for a fresh one. */
export async function appliedMigrations(database: Database): Promise<string[]> {
  try {
    const rows = await (database.db as Kysely<any>).selectFrom(TABLE).select('name').execute()
    return rows.map((row) => row.name as string)
  } catch (error) {
    if (isMissingTable(error)) return []
    throw error
  }
}

function isMissingTable(error: unknown): boolean {
  const e = error as { code?: string; message?: string }
  return e.code === '42P01' || /no such table/.test(e.message ?? '')
}

/** Applies pending migrations; returns the names applied (none when already current). */
export async function migrateToLatest(database: Database): Promise<string[]> {
  return (database.db as Kysely<any>).transaction().execute(async (trx) => {
    // One migrator per schema at a time on PostgreSQL (an advisory lock held to the commit). On
    // SQLite a second one waits for the write lock or fails busy; either way nothing half done.
    if (database.engine === 'postgres') await sql`select pg_advisory_xact_lock(hashtext('app-offerings migrate ' || current_schema()))`.execute(trx)
    await trx.schema
      .createTable(TABLE)
      .ifNotExists()
      .addColumn('name', 'varchar(255)', (c) => c.notNull().primaryKey())
      .addColumn('timestamp', 'varchar(255)', (c) => c.notNull())
      .execute()
    const applied = new Set((await trx.selectFrom(TABLE).select('name').execute()).map((row) => row.name as string))
    const unknown = [...applied].filter((name) => !(name in STEPS))
    if (unknown.length > 0) throw new NewerDatabaseError(unknown)
    const done: string[] = []
    for (const [name, step] of Object.entries(STEPS)) {
      if (applied.has(name)) continue
      await step.up(trx, database.engine)
      await trx.insertInto(TABLE).values({ name, timestamp: new Date().toISOString() }).execute()
      done.push(name)
    }
    return done
  })
}

/** True when every known migration is applied and no unknown one is. */
export async function migrationsCurrent(database: Database): Promise<boolean> {
  const applied = await appliedMigrations(database)
  return Object.keys(STEPS).every((name) => applied.includes(name)) && applied.every((name) => name in STEPS)
}
