// Work that only one process may do at a time when several start together (migrations, the
// first-start bootstrap): on PostgreSQL under a session advisory lock, held on one connection.
import { sql } from 'kysely'
import type { Database } from '../storage/database.ts'

export async function underStartupLock<T>(database: Database, work: () => Promise<T>): Promise<T> {
  if (database.engine !== 'postgres') return work()
  return database.db.connection().execute(async (connection) => {
    // One lock per schema: deployments (and test runs) in other schemas do not wait for each other.
    const key = sql`hashtext('app-offerings startup ' || current_schema())`
    await sql`select pg_advisory_lock(${key})`.execute(connection)
    try {
      return await work()
    } finally {
      await sql`select pg_advisory_unlock(${key})`.execute(connection)
    }
  })
}
