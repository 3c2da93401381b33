import { parseArgs, type ParseArgsConfig } from 'node:util'
import { loadConfig } from '../config.ts'
import { openDatabase, type Database } from '../storage/database.ts'
import { migrateToLatest } from '../storage/migrate.ts'

export class UsageError extends Error {}

export function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`)
  return value
}

/** Runs a command against the configured database, migrated first. */
export async function withDatabase<T>(run: (database: Database) => Promise<T>): Promise<T> {
  const config = loadConfig()
  const database = openDatabase(config.databaseUrl)
  try {
    await migrateToLatest(database)
    return await run(database)
  } finally {
    await database.close()
  }
}
