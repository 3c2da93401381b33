import { sql, type Kysely } from 'kysely'
import type { Engine } from '../database.ts'

// Publishing (lifecycle.md, "Drafts and published versions"; docs/architecture.md, "Lifecycle"):
// - `app_offerings.version`: on a published version its number (1, 2, ... per reference); on a
//   draft the number of its latest published version (0 before the first publish). Publishing
//   takes the next number by `update ... set version = version + 1 ... returning` on the draft
//   row, which holds that row's lock to the commit on PostgreSQL (SQLite has one writer), so
//   parallel publishes get distinct numbers; the unique index below makes a duplicate impossible.
// - `trusts`: a customer account (account_id) trusts a provider account; one row per pair, never
//   deleted (untrusting sets `trusted` to 0, which moves change_seq), with the change_seq
//   triggers of migration 004.
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const text = engine === 'postgres' ? sql`text collate "C"` : sql`text`
  const id = engine === 'postgres' ? 'bigserial' : 'integer'
  const int = engine === 'postgres' ? 'bigint' : 'integer'

  await db.schema.alterTable('app_offerings').addColumn('version', int, (c) => c.notNull().defaultTo(0)).execute()
  await db.schema
    .createIndex('app_offerings_published_reference_version_key')
    .on('app_offerings')
    .columns(['reference', 'version'])
    .unique()
    .where(sql.ref('draft_id'), 'is not', null)
    .execute()

  await db.schema
    .createTable('trusts')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('provider_account', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('trusted', int, (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', int, (c) => c.notNull())
    .addColumn('updated_at', int, (c) => c.notNull())
    .addColumn('lock_version', int, (c) => c.notNull().defaultTo(0))
    .addColumn('change_seq', int, (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.createIndex('trusts_account_provider_account_key').on('trusts').columns(['account_id', 'provider_account']).unique().execute()
  await db.schema.createIndex('trusts_account_id').on('trusts').columns(['account_id', 'id']).execute()
  await changeSeqTriggers(db, engine, 'trusts')
}

/** The change_seq triggers and index of migration 004, for a table made after it. */
async function changeSeqTriggers(db: Kysely<any>, engine: Engine, table: string): Promise<void> {
  if (engine === 'postgres') {
    await sql`create trigger ${sql.id(`${table}_changed`)} before insert or update on ${sql.table(table)} for each row execute function record_changed()`.execute(db)
  } else {
    const bump = sql.raw(`update sequences set value = value + 1 where name = 'record_changes';
        update ${table} set change_seq = (select value from sequences where name = 'record_changes') where id = new.id;`)
    await sql`create trigger ${sql.id(`${table}_inserted`)} after insert on ${sql.table(table)} begin ${bump} end`.execute(db)
    await sql`create trigger ${sql.id(`${table}_updated`)} after update on ${sql.table(table)} when new.change_seq = old.change_seq begin ${bump} end`.execute(db)
  }
  await db.schema.createIndex(`${table}_account_change_seq`).on(table).columns(['account_id', 'change_seq']).execute()
}
