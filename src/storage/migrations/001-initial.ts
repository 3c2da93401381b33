import { sql, type Kysely } from 'kysely'
import type { Engine } from '../database.ts'

// Text columns compare by code point on both engines: SQLite's BINARY is that already; on
// PostgreSQL the column collation "C" makes ORDER BY, keyset conditions and indexes agree.
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const text = engine === 'postgres' ? sql`text collate "C"` : sql`text`
  const id = engine === 'postgres' ? 'bigserial' : 'integer'
  const int = engine === 'postgres' ? 'bigint' : 'integer'

  await db.schema
    .createTable('accounts')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('created_at', int, (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('settings')
    .addColumn('key', text, (c) => c.primaryKey())
    .addColumn('value', text, (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('name', text, (c) => c.notNull().defaultTo(''))
    .addColumn('scope', text, (c) => c.notNull())
    .addColumn('token_hash', text, (c) => c.notNull().unique())
    .addColumn('created_at', int, (c) => c.notNull())
    .addColumn('last_used_at', int)
    .addColumn('revoked_at', int)
    .execute()
  await db.schema.createIndex('api_tokens_account').on('api_tokens').columns(['account_id', 'id']).execute()

  await db.schema
    .createTable('service_instances')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('status', text, (c) => c.notNull())
    .addColumn('source', text, (c) => c.notNull().defaultTo(''))
    .addColumn('source_id', text, (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', int, (c) => c.notNull())
    .addColumn('updated_at', int, (c) => c.notNull())
    .addColumn('lock_version', int, (c) => c.notNull().defaultTo(0))
    .execute()
  // Every index leads with the account: a query of one account never reads another's rows.
  for (const columns of [['id'], ['name', 'id'], ['status', 'name', 'id'], ['source', 'id'], ['source_id', 'id'], ['created_at', 'id'], ['updated_at', 'id']]) {
    await db.schema
      .createIndex(`service_instances_account_${columns.join('_')}`)
      .on('service_instances')
      .columns(['account_id', ...columns])
      .execute()
  }

  await db.schema
    .createTable('app_offerings')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('draft_id', int, (c) => c.references('app_offerings.id'))
    .addColumn('reference', text, (c) => c.notNull())
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('service_instance_id', int, (c) => c.notNull().references('service_instances.id'))
    .addColumn('policy_jwt_alg', text, (c) => c.notNull())
    .addColumn('webhook_uri_template', text, (c) => c.notNull())
    .addColumn('policy_jwt_audience', text, (c) => c.notNull().defaultTo(''))
    .addColumn('policy_jwt_claim_expires_in', int)
    .addColumn('configuration_uri_template', text, (c) => c.notNull().defaultTo(''))
    .addColumn('card_description', text, (c) => c.notNull().defaultTo(''))
    .addColumn('description', text, (c) => c.notNull().defaultTo(''))
    .addColumn('features', text, (c) => c.notNull().defaultTo(''))
    .addColumn('compliance', text, (c) => c.notNull().defaultTo(''))
    .addColumn('picture_uri', text, (c) => c.notNull().defaultTo(''))
    .addColumn('disabled', int, (c) => c.notNull().defaultTo(0))
    .addColumn('requires_enabled_oauth_person', int, (c) => c.notNull().defaultTo(0))
    .addColumn('ui_extension_version_id', int)
    .addColumn('source', text, (c) => c.notNull().defaultTo(''))
    .addColumn('source_id', text, (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', int, (c) => c.notNull())
    .addColumn('updated_at', int, (c) => c.notNull())
    .addColumn('lock_version', int, (c) => c.notNull().defaultTo(0))
    .execute()
  // One draft per reference across all accounts; published versions (draft_id set) share it.
  await db.schema
    .createIndex('app_offerings_draft_reference_key')
    .on('app_offerings')
    .column('reference')
    .unique()
    .where(sql.ref('draft_id'), 'is', null)
    .execute()
  for (const columns of [['id'], ['name', 'id'], ['reference', 'id'], ['source', 'id'], ['source_id', 'id'], ['created_at', 'id'], ['updated_at', 'id'], ['disabled', 'name', 'id'], ['draft_id', 'name', 'id']]) {
    await db.schema
      .createIndex(`app_offerings_account_${columns.join('_')}`)
      .on('app_offerings')
      .columns(['account_id', ...columns])
      .execute()
  }
}
