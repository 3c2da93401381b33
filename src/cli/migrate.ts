import { migrateToLatest } from '../storage/migrate.ts'
import { noMoreThan, parse, withDatabase } from './args.ts'

export async function migrateCommand(args: string[]): Promise<number> {
  noMoreThan(parse(args, {}).positionals, 0, 'migrate')
  const applied = await withDatabase((database) => migrateToLatest(database), { migrate: false })
  process.stdout.write(applied.length > 0 ? `applied ${applied.join(', ')}\n` : 'database is up to date\n')
  return 0
}
