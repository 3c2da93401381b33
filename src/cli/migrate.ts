import { loadConfig } from '../config.ts'
import { openDatabase } from '../storage/database.ts'
import { migrateToLatest } from '../storage/migrate.ts'

export async function migrateCommand(): Promise<number> {
  const database = openDatabase(loadConfig().databaseUrl)
  try {
    const applied = await migrateToLatest(database)
    process.stdout.write(applied.length > 0 ? `applied ${applied.join(', ')}\n` : 'database is up to date\n')
    return 0
  } finally {
    await database.close()
  }
}
