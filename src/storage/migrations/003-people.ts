import { sql, type Kysely } from 'kysely'
import type { Engine } from '../database.ts'

// Tokens belong to a person of their account (conventions.md §1): a people table, and every
// token pointing at one. Each existing account gets its default person (the one an account is
// created with), and its existing tokens are given to it.
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const text = engine === 'postgres' ? sql`text collate "C"` : sql`text`
  const id = engine === 'postgres' ? 'bigserial' : 'integer'
  const int = engine === 'postgres' ? 'bigint' : 'integer'

  await db.schema
    .createTable('people')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('account_id', text, (c) => c.notNull().references('accounts.id'))
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('primary_email', text, (c) => c.notNull().defaultTo(''))
    .addColumn('disabled', int, (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', int, (c) => c.notNull())
    .addColumn('updated_at', int, (c) => c.notNull())
    .addColumn('lock_version', int, (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.createIndex('people_account_id').on('people').columns(['account_id', 'id']).execute()

  // Nullable only because SQLite cannot add a NOT NULL column without a default; every token
  // has a person from here on (createToken always sets one).
  await db.schema.alterTable('api_tokens').addColumn('person_id', int, (c) => c.references('people.id')).execute()

  await sql`insert into people (account_id, name, primary_email, disabled, created_at, updated_at)
    select id, ${DEFAULT_PERSON_NAME}, '', 0, created_at, created_at from accounts order by id`.execute(db)
  await sql`update api_tokens set person_id = (select min(people.id) from people where people.account_id = api_tokens.account_id)`.execute(db)
}

/** The name of the person an account is created with. */
export const DEFAULT_PERSON_NAME = 'Administrator'
