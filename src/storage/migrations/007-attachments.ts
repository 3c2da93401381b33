import { sql, type Kysely } from 'kysely'
import type { Engine } from '../database.ts'

// Attachments (attachments.md; docs/architecture.md, "Attachments"):
// - `uploads`: a file an account uploaded, under the key the client refers to it by; where its
//   bytes are (`storage` and the server-made `object` name in it); its size, type and SHA-256.
//   `claimed_by` is set by the first record that attaches it (`app_offerings:<draft id>`): an
//   upload belongs to one offering and the versions published from it, and the claim is one
//   conditional UPDATE, so two records racing for one key cannot both win.
// - `attachments`: an upload attached to a text of a record (`field`), shown inline or listed.
//   Its id is what the API shows and downloads by. A published version has rows of its own
//   naming the same uploads: references copied, files stored once.
// - `file_chunks`: the content of files kept inside the database (ATTACHMENT_STORAGE=database).
// Times are epoch seconds and ids are per table, as in every other table; every query is scoped
// by account, so indexes lead with it.
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const text = engine === 'postgres' ? sql`text collate "C"` : sql`text`
  const id = engine === 'postgres' ? 'bigserial' : 'integer'
  const int = engine === 'postgres' ? 'bigint' : 'integer'
  const bytes = engine === 'postgres' ? 'bytea' : 'blob'

  await db.schema
    .createTable('uploads')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('key', text, (c) => c.notNull().unique())
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('size', int, (c) => c.notNull())
    .addColumn('content_type', text, (c) => c.notNull())
    .addColumn('sha256', text, (c) => c.notNull())
    .addColumn('storage', text, (c) => c.notNull())
    .addColumn('object', text, (c) => c.notNull())
    .addColumn('claimed_by', text)
    .addColumn('created_at', int, (c) => c.notNull())
    .execute()
  await db.schema.createIndex('uploads_account_id').on('uploads').columns(['account_id', 'id']).execute()
  // The sweeper walks the oldest uploads first.
  await db.schema.createIndex('uploads_created_at').on('uploads').columns(['created_at', 'id']).execute()

  await db.schema
    .createTable('attachments')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('record_type', text, (c) => c.notNull())
    .addColumn('record_id', int, (c) => c.notNull())
    .addColumn('field', text, (c) => c.notNull())
    .addColumn('inline', int, (c) => c.notNull().defaultTo(0))
    .addColumn('upload_id', int, (c) => c.notNull().references('uploads.id'))
    .addColumn('created_at', int, (c) => c.notNull())
    .execute()
  // An upload is attached to a record once (in one of its texts).
  await db.schema.createIndex('attachments_record_upload_key').on('attachments').columns(['record_type', 'record_id', 'upload_id']).unique().execute()
  await db.schema.createIndex('attachments_account_record').on('attachments').columns(['account_id', 'record_type', 'record_id', 'id']).execute()
  // Whether an upload is still referenced (the sweeper).
  await db.schema.createIndex('attachments_upload_id').on('attachments').column('upload_id').execute()

  await db.schema
    .createTable('file_chunks')
    .addColumn('object', text, (c) => c.notNull())
    .addColumn('seq', int, (c) => c.notNull())
    .addColumn('data', bytes, (c) => c.notNull())
    .addPrimaryKeyConstraint('file_chunks_pkey', ['object', 'seq'])
    .execute()
}
