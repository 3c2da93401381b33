import { sql, type Kysely } from 'kysely'
import type { Engine } from '../database.ts'
import { changeSeqTriggers } from './005-lifecycle.ts'

// Signed webhook deliveries (lifecycle.md; docs/architecture.md, "Webhooks (issue 13)"):
// - `webhook_policies` and `webhooks`: record tables (the catalogues of resources/webhook-policies
//   and resources/webhooks), with the change_seq triggers of migration 004 and an index per
//   filterable or sortable field; `app_instances` points at the pair its install made.
// - `webhook_keys`: a policy's key pairs. The public JWK in the clear (it is published); the
//   private one sealed with AES-256-GCM under a key derived from SECRET_KEY. `issuer_account` is
//   the account whose key set (JWKS) lists it.
// - `webhook_deliveries`: the outbox. One row per event and webhook, written in the transaction
//   of the change; the worker claims rows (`status`, `next_attempt_at`, a lease) and records
//   every attempt in `webhook_delivery_attempts` (the catalogue of resources/webhook-deliveries).
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const text = engine === 'postgres' ? sql`text collate "C"` : sql`text`
  const id = engine === 'postgres' ? 'bigserial' : 'integer'
  const int = engine === 'postgres' ? 'bigint' : 'integer'

  await db.schema
    .createTable('webhook_policies')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('jwt_alg', text, (c) => c.notNull())
    .addColumn('jwt_audience', text, (c) => c.notNull().defaultTo(''))
    .addColumn('jwt_claim_expires_in', int)
    .addColumn('disabled', int, (c) => c.notNull().defaultTo(0))
    .addColumn('issuer_account', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('created_at', int, (c) => c.notNull())
    .addColumn('updated_at', int, (c) => c.notNull())
    .addColumn('lock_version', int, (c) => c.notNull().defaultTo(0))
    .addColumn('change_seq', int, (c) => c.notNull().defaultTo(0))
    .execute()
  await recordIndexes(db, 'webhook_policies', [['id'], ['name', 'id'], ['jwt_alg', 'id'], ['disabled', 'id'], ['created_at', 'id'], ['updated_at', 'id']])
  await changeSeqTriggers(db, engine, 'webhook_policies')

  await db.schema
    .createTable('webhooks')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('event', text, (c) => c.notNull())
    .addColumn('uri', text, (c) => c.notNull())
    .addColumn('webhook_policy_id', int, (c) => c.references('webhook_policies.id'))
    .addColumn('name', text, (c) => c.notNull().defaultTo(''))
    .addColumn('description', text, (c) => c.notNull().defaultTo(''))
    .addColumn('disabled', int, (c) => c.notNull().defaultTo(0))
    .addColumn('openid_connect_discovery', int, (c) => c.notNull().defaultTo(0))
    .addColumn('app_offering_references', text, (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', int, (c) => c.notNull())
    .addColumn('updated_at', int, (c) => c.notNull())
    .addColumn('lock_version', int, (c) => c.notNull().defaultTo(0))
    .addColumn('change_seq', int, (c) => c.notNull().defaultTo(0))
    .execute()
  await recordIndexes(db, 'webhooks', [['id'], ['event', 'id'], ['name', 'id'], ['disabled', 'id'], ['created_at', 'id'], ['updated_at', 'id'], ['webhook_policy_id']])
  // The provider's webhooks for an event (records/outbox.ts finds them on every instance event).
  await db.schema.createIndex('webhooks_account_event_disabled').on('webhooks').columns(['account_id', 'event', 'disabled']).execute()
  await changeSeqTriggers(db, engine, 'webhooks')

  await db.schema.alterTable('app_instances').addColumn('webhook_id', int, (c) => c.references('webhooks.id')).execute()
  await db.schema.alterTable('app_instances').addColumn('webhook_policy_id', int, (c) => c.references('webhook_policies.id')).execute()
  // What refuses to delete a webhook or policy an instance uses.
  await db.schema.createIndex('app_instances_webhook_id').on('app_instances').column('webhook_id').execute()
  await db.schema.createIndex('app_instances_webhook_policy_id').on('app_instances').column('webhook_policy_id').execute()

  await db.schema
    .createTable('webhook_keys')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('policy_id', int, (c) => c.notNull().references('webhook_policies.id'))
    .addColumn('issuer_account', text, (c) => c.notNull())
    .addColumn('kid', text, (c) => c.notNull().unique())
    .addColumn('alg', text, (c) => c.notNull())
    .addColumn('public_jwk', text, (c) => c.notNull())
    .addColumn('private_key', text, (c) => c.notNull())
    .addColumn('created_at', int, (c) => c.notNull())
    .execute()
  await db.schema.createIndex('webhook_keys_policy_id').on('webhook_keys').columns(['policy_id', 'id']).execute()
  await db.schema.createIndex('webhook_keys_issuer_account').on('webhook_keys').columns(['issuer_account', 'id']).execute()

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('webhook_id', int, (c) => c.notNull().references('webhooks.id'))
    .addColumn('uuid', text, (c) => c.notNull().unique())
    .addColumn('event', text, (c) => c.notNull())
    .addColumn('data', text, (c) => c.notNull())
    // pending -> sending (leased by a worker) -> delivered | pending (a retry) | failed (gave up)
    .addColumn('status', text, (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', int, (c) => c.notNull().defaultTo(0))
    // Epoch milliseconds: backoffs in tests are shorter than a second.
    .addColumn('next_attempt_at', int, (c) => c.notNull())
    .addColumn('lease_until', int)
    .addColumn('lease_token', text)
    .addColumn('created_at', int, (c) => c.notNull())
    .addColumn('finished_at', int)
    .execute()
  // What a worker claims: the due rows, oldest first.
  await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at', 'id']).execute()
  // A webhook's deliveries in order: "nothing earlier still open" and "the last 20 ended".
  await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['webhook_id', 'status', 'id']).execute()

  await db.schema
    .createTable('webhook_delivery_attempts')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('webhook_id', int, (c) => c.notNull())
    .addColumn('delivery_id', int, (c) => c.notNull())
    .addColumn('delivery', text, (c) => c.notNull())
    .addColumn('event', text, (c) => c.notNull())
    .addColumn('attempt', int, (c) => c.notNull())
    .addColumn('status', text, (c) => c.notNull())
    .addColumn('response_code', int, (c) => c.notNull().defaultTo(0))
    .addColumn('duration_ms', int, (c) => c.notNull())
    .addColumn('error', text, (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', int, (c) => c.notNull())
    .addColumn('lock_version', int, (c) => c.notNull().defaultTo(0))
    .addColumn('change_seq', int, (c) => c.notNull().defaultTo(0))
    .execute()
  // A webhook's attempts, newest first, and its filters within them.
  for (const columns of [['id'], ['delivery', 'id'], ['event', 'id'], ['status', 'id'], ['response_code', 'id'], ['created_at', 'id'], ['change_seq']]) {
    await db.schema
      .createIndex(`webhook_delivery_attempts_${columns.join('_')}`)
      .on('webhook_delivery_attempts')
      .columns(['account_id', 'webhook_id', ...columns])
      .execute()
  }
}

async function recordIndexes(db: Kysely<any>, table: string, indexes: string[][]): Promise<void> {
  for (const columns of indexes) await db.schema.createIndex(`${table}_account_${columns.join('_')}`).on(table).columns(['account_id', ...columns]).execute()
}
