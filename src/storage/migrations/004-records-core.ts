import { sql, type Kysely } from 'kysely'
import type { Engine } from '../database.ts'

// The records core (docs/architecture.md, "Records core"):
// - `change_seq` on every record table: a number from one sequence for the whole database, set by
//   the database itself on every insert and update of a row, whoever writes it (the API, the CLI,
//   or a statement typed into psql). Kept results are checked against the largest one in their
//   scope (records/reuse.ts). On PostgreSQL it is a SEQUENCE: nextval() takes no lock that a
//   transaction holds, so an account's writes do not queue behind one row. SQLite has one writer
//   at a time anyway, so there it is a row of `sequences` bumped by a trigger.
// - `audit_entries`: one row per write of a record, written in the write's transaction.
// - `accounts.changes` goes: it was one row that every write of an account had to update.
// - `app_offerings.openid_connect_discovery`.
const RECORD_TABLES = ['service_instances', 'app_offerings'] as const

export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const int = engine === 'postgres' ? 'bigint' : 'integer'
  const text = engine === 'postgres' ? sql`text collate "C"` : sql`text`

  if (engine === 'postgres') {
    await sql`create sequence record_changes`.execute(db)
    await sql`
      create function record_changed() returns trigger language plpgsql as $$
      begin
        new.change_seq := nextval('record_changes');
        return new;
      end $$`.execute(db)
  } else {
    await db.schema
      .createTable('sequences')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'integer', (c) => c.notNull())
      .execute()
    await db.insertInto('sequences').values({ name: 'record_changes', value: 0 }).execute()
  }

  for (const table of RECORD_TABLES) {
    await db.schema.alterTable(table).addColumn('change_seq', int, (c) => c.notNull().defaultTo(0)).execute()
    if (engine === 'postgres') {
      await sql`update ${sql.table(table)} set change_seq = nextval('record_changes')`.execute(db)
      await sql`create trigger ${sql.id(`${table}_changed`)} before insert or update on ${sql.table(table)} for each row execute function record_changed()`.execute(db)
    } else {
      const bump = sql.raw(`update sequences set value = value + 1 where name = 'record_changes';
        update ${table} set change_seq = (select value from sequences where name = 'record_changes') where id = new.id;`)
      await sql`update ${sql.table(table)} set change_seq = id`.execute(db)
      await sql`update sequences set value = (select coalesce(max(change_seq), 0) from ${sql.table(table)}) + value where name = 'record_changes'`.execute(db)
      await sql`create trigger ${sql.id(`${table}_inserted`)} after insert on ${sql.table(table)} begin ${bump} end`.execute(db)
      // The trigger's own update leaves change_seq moved, so it does not fire itself again.
      await sql`create trigger ${sql.id(`${table}_updated`)} after update on ${sql.table(table)} when new.change_seq = old.change_seq begin ${bump} end`.execute(db)
    }
    await db.schema.createIndex(`${table}_account_change_seq`).on(table).columns(['account_id', 'change_seq']).execute()
  }

  await db.schema
    .createTable('audit_entries')
    .addColumn('id', engine === 'postgres' ? 'bigserial' : 'integer', (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('record_type', text, (c) => c.notNull())
    .addColumn('record_id', int, (c) => c.notNull())
    .addColumn('action', text, (c) => c.notNull())
    .addColumn('created_at', int, (c) => c.notNull())
    .addColumn('created_by_id', int)
    .addColumn('created_by_name', text, (c) => c.notNull().defaultTo(''))
    .addColumn('changes', text, (c) => c.notNull())
    .addColumn('lock_version', int, (c) => c.notNull().defaultTo(0))
    .addColumn('change_seq', int, (c) => c.notNull().defaultTo(0))
    .execute()
  // A record's trail, newest first, and its filters (action, created_at) within it.
  for (const columns of [['id'], ['action', 'id'], ['created_at', 'id'], ['change_seq']]) {
    await db.schema
      .createIndex(`audit_entries_record_${columns.join('_')}`)
      .on('audit_entries')
      .columns(['account_id', 'record_type', 'record_id', ...columns])
      .execute()
  }

  await db.schema.alterTable('accounts').dropColumn('changes').execute()

  // The real API's newer field (app-offerings.md): installs' webhooks use OpenID Connect Discovery.
  await db.schema.alterTable('app_offerings').addColumn('openid_connect_discovery', int, (c) => c.notNull().defaultTo(0)).execute()
}
