import { parseArgs, type ParseArgsConfig } from 'node:util'
import { loadConfig } from '../config.ts'
import { openDatabase, type Database } from '../storage/database.ts'
import { migrateToLatest } from '../storage/migrate.ts'
import { explainStartupError } from './startup-errors.ts'

export class UsageError extends Error {}

/** An argument that opens a quote it never closes: a shell line quoted wrongly. */
function unbalancedQuote(arg: string): boolean {
  const doubles = arg.split('"').length - 1
  // A single quote inside a word is an apostrophe ("O'Brien"); only a leading one opens a quote.
  const singles = arg.split("'").length - 1
  return doubles % 2 === 1 || (/^(--[\w-]+=)?'/.test(arg) && singles % 2 === 1)
}

export function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  const quoted = args.find(unbalancedQuote)
  if (quoted !== undefined) throw new UsageError(`unbalanced quote in argument: ${quoted}`)
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (error) {
    const e = error as Error & { code?: string }
    const option = /'([^']+)'/.exec(e.message)?.[1]
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) throw new UsageError(`unknown option: ${option}`)
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) throw new UsageError(`option ${option.split(' ')[0]} needs a value`)
    throw new UsageError(e.message)
  }
}

export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`)
  return value
}

/** Refuses positional arguments beyond the first `count`. */
export function noMoreThan(positionals: string[], count: number, command: string): void {
  if (positionals.length > count) throw new UsageError(`${command}: unexpected argument "${positionals[count]}"`)
}

/**
 * Runs a command against the configured database, migrated first. Failing to open or reach the
 * database is reported naming DATABASE_URL and the file or host (see startup-errors.ts).
 */
export async function withDatabase<T>(run: (database: Database) => Promise<T>, options: { migrate?: boolean } = {}): Promise<T> {
  const config = loadConfig()
  let database: Database | undefined
  try {
    database = openDatabase(config.databaseUrl)
    if (options.migrate !== false) await migrateToLatest(database)
    return await run(database)
  } catch (error) {
    throw explainStartupError(error, config.databaseUrl)
  } finally {
    await database?.close().catch(() => {})
  }
}
