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

  // App instances: a row of the customer (account_id) naming a published version of a provider's
  // offering; `provider_account` and `reference` are the version's, kept on the row so the
  // provider's reads and the one-instance-per-reference rule are an index each.
  await db.schema
    .createTable('app_instances')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('app_offering_id', int, (c) => c.notNull().references('app_offerings.id'))
    .addColumn('provider_account', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('reference', text, (c) => c.notNull())
    .addColumn('enabled_by_customer', int, (c) => c.notNull().defaultTo(1))
    .addColumn('disabled', int, (c) => c.notNull().defaultTo(0))
    .addColumn('suspended', int, (c) => c.notNull().defaultTo(0))
    .addColumn('suspension_comment', text, (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', int, (c) => c.notNull())
    .addColumn('updated_at', int, (c) => c.notNull())
    .addColumn('lock_version', int, (c) => c.notNull().defaultTo(0))
    .addColumn('change_seq', int, (c) => c.notNull().defaultTo(0))
    .execute()
  // One instance per customer and offering reference, whatever the version.
  await db.schema.createIndex('app_instances_account_reference_key').on('app_instances').columns(['account_id', 'reference']).unique().execute()
  for (const columns of [['id'], ['app_offering_id'], ['created_at', 'id'], ['updated_at', 'id']]) {
    await db.schema.createIndex(`app_instances_account_${columns.join('_')}`).on('app_instances').columns(['account_id', ...columns]).execute()
  }
  // What the provider reads: its instances, and its watermark.
  for (const columns of [['id'], ['reference', 'id'], ['change_seq']]) {
    await db.schema.createIndex(`app_instances_provider_${columns.join('_')}`).on('app_instances').columns(['provider_account', ...columns]).execute()
  }
  await changeSeqTriggers(db, engine, 'app_instances')

  // UI extensions and their immutable versions (one active at a time per extension).
  await db.schema
    .createTable('ui_extensions')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('html', text, (c) => c.notNull().defaultTo(''))
    .addColumn('css', text, (c) => c.notNull().defaultTo(''))
    .addColumn('javascript', text, (c) => c.notNull().defaultTo(''))
    .addColumn('versions', int, (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', int, (c) => c.notNull())
    .addColumn('updated_at', int, (c) => c.notNull())
    .addColumn('lock_version', int, (c) => c.notNull().defaultTo(0))
    .addColumn('change_seq', int, (c) => c.notNull().defaultTo(0))
    .execute()
  for (const columns of [['id'], ['name', 'id'], ['created_at', 'id'], ['updated_at', 'id']]) {
    await db.schema.createIndex(`ui_extensions_account_${columns.join('_')}`).on('ui_extensions').columns(['account_id', ...columns]).execute()
  }
  await changeSeqTriggers(db, engine, 'ui_extensions')

  await db.schema
    .createTable('ui_extension_versions')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('ui_extension_id', int, (c) => c.notNull().references('ui_extensions.id'))
    .addColumn('version_nr', int, (c) => c.notNull())
    .addColumn('status', text, (c) => c.notNull())
    .addColumn('activated_at', int, (c) => c.notNull())
    .addColumn('archived_at', int)
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('html', text, (c) => c.notNull().defaultTo(''))
    .addColumn('css', text, (c) => c.notNull().defaultTo(''))
    .addColumn('javascript', text, (c) => c.notNull().defaultTo(''))
    .addColumn('lock_version', int, (c) => c.notNull().defaultTo(0))
    .addColumn('change_seq', int, (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.createIndex('ui_extension_versions_account_id').on('ui_extension_versions').columns(['account_id', 'id']).execute()
  // Numbers are unique per extension, and at most one version is active.
  await db.schema.createIndex('ui_extension_versions_number_key').on('ui_extension_versions').columns(['ui_extension_id', 'version_nr']).unique().execute()
  await db.schema
    .createIndex('ui_extension_versions_active_key')
    .on('ui_extension_versions')
    .column('ui_extension_id')
    .unique()
    .where(sql.ref('status'), '=', sql.lit('active'))
    .execute()
  await db.schema.createIndex('ui_extension_versions_account_extension_id').on('ui_extension_versions').columns(['account_id', 'ui_extension_id', 'id']).execute()
  await changeSeqTriggers(db, engine, 'ui_extension_versions')
}

/** The change_seq triggers and index of migration 004, for a table made after it (006 uses it too). */
export async function changeSeqTriggers(db: Kysely<any>, engine: Engine, table: string): Promise<void> {
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
