import type { Kysely } from 'kysely'
import type { Engine } from '../database.ts'

// A per-account change counter that every write of a record increases (in the write's own
// transaction). Collection counts are cached under it, so every server process sharing the
// database sees a cached count go stale at the same moment.
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('changes', engine === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
}
