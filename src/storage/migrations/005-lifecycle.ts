import { sql, type Kysely } from 'kysely'
import type { Engine } from '../database.ts'

// Publishing (lifecycle.md, "Drafts and published versions"; docs/architecture.md, "Lifecycle"):
// - `app_offerings.version`: on a published version its number (1, 2, ... per reference); on a
//   draft the number of its latest published version (0 before the first publish). Publishing
//   takes the next number by `update ... set version = version + 1 ... returning` on the draft
//   row, which holds that row's lock to the commit on PostgreSQL (SQLite has one writer), so
//   parallel publishes get distinct numbers; the unique index below makes a duplicate impossible.
export async function up(db: Kysely<any>, _engine: Engine): Promise<void> {
  await db.schema.alterTable('app_offerings').addColumn('version', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  await db.schema
    .createIndex('app_offerings_published_reference_version_key')
    .on('app_offerings')
    .columns(['reference', 'version'])
    .unique()
    .where(sql.ref('draft_id'), 'is not', null)
    .execute()
}
