// Migrations are code, one module per step, applied in order by Kysely's Migrator and recorded in
// its table. A database that has steps this build does not know was written by a newer build:
// the server refuses it rather than run against a schema it does not understand.
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely'
import type { Database } from './database.ts'
import * as initial from './migrations/001-initial.ts'
import * as accountChanges from './migrations/002-account-changes.ts'

const STEPS: Record<string, typeof initial> = {
  '001-initial': initial,
  '002-account-changes': accountChanges,
}

export const LATEST_MIGRATION = Object.keys(STEPS).at(-1)!

export class NewerDatabaseError extends Error {
  constructor(unknown: string[]) {
    super(`the database has migrations this server does not know (${unknown.join(', ')}): it was migrated by a newer version`)
    this.name = 'NewerDatabaseError'
  }
}

async function migrator(database: Database): Promise<Migrator> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const migrations: Record<string, Migration> = {}
      for (const [name, step] of Object.entries(STEPS)) {
        migrations[name] = { up: (db) => step.up(db, database.engine) }
      }
      return migrations
    },
  }
  // Unless told a schema, Kysely takes a migration table in any schema as its own: a fresh
  // PostgreSQL schema beside one that has the table would never get its own.
  return new Migrator({ db: database.db, provider, migrationTableSchema: await currentSchema(database) })
}

async function currentSchema(database: Database): Promise<string | undefined> {
  if (database.engine !== 'postgres') return undefined
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(database.db)
  return rows[0]?.schema ?? undefined
}

/** Names of the migrations recorded in the database, [] for a fresh one. */
export async function appliedMigrations(database: Database): Promise<string[]> {
  try {
    const rows = await (database.db as Kysely<any>).selectFrom('kysely_migration').select('name').execute()
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
  const unknown = (await appliedMigrations(database)).filter((name) => !(name in STEPS))
  if (unknown.length > 0) throw new NewerDatabaseError(unknown)
  const { error, results } = await (await migrator(database)).migrateToLatest()
  if (error) throw error
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

/** True when every known migration is applied and no unknown one is. */
export async function migrationsCurrent(database: Database): Promise<boolean> {
  const applied = await appliedMigrations(database)
  return Object.keys(STEPS).every((name) => applied.includes(name)) && applied.every((name) => name in STEPS)
}
