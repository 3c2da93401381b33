// People of an account: the owners of tokens (conventions.md §1). An account is created with its
// default person (the account's first, lowest id); a token made without naming a person belongs
// to it.
import type { Kysely } from 'kysely'
import type { Database } from './database.ts'
import { nowSeconds } from './database.ts'
import type { Schema } from './schema.ts'
import { DEFAULT_PERSON_NAME } from './migrations/003-people.ts'

export { DEFAULT_PERSON_NAME }

export interface Person {
  id: number
  accountId: string
  accountName: string
  name: string
  primaryEmail: string | null
  disabled: boolean
  createdAt: number
  updatedAt: number
  lockVersion: number
}

// Loose on purpose: a plain e-mail check, not RFC 5322.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export class PersonError extends Error {}

export function checkPerson(name: string, email: string | undefined): { name: string; email: string } {
  const trimmed = name.trim()
  if (trimmed === '' || [...trimmed].length > 128) throw new PersonError('person name must be 1 to 128 characters')
  const mail = (email ?? '').trim()
  if (mail !== '' && (!EMAIL.test(mail) || mail.length > 255)) throw new PersonError(`"${mail}" is not an e-mail address`)
  return { name: trimmed, email: mail }
}

export async function createPerson(db: Kysely<Schema>, accountId: string, name: string, email = ''): Promise<number> {
  const now = nowSeconds()
  const row = await db
    .insertInto('people')
    .values({ account_id: accountId, name, primary_email: email, disabled: 0, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow()
  return Number(row.id)
}

/** The account's default person, made when the account has none (an account from before migration 003 has one already). */
export async function defaultPerson(db: Kysely<Schema>, accountId: string): Promise<number> {
  const row = await db.selectFrom('people').select((eb) => eb.fn.min<number>('id').as('id')).where('account_id', '=', accountId).executeTakeFirst()
  if (row?.id !== null && row?.id !== undefined) return Number(row.id)
  return createPerson(db, accountId, DEFAULT_PERSON_NAME)
}

/** The account's person of this name (and e-mail, when given), made when there is none. */
export async function findOrCreatePerson(database: Database, accountId: string, name: string, email?: string): Promise<number> {
  const checked = checkPerson(name, email)
  let query = database.db.selectFrom('people').select('id').where('account_id', '=', accountId).where('name', '=', checked.name)
  if (checked.email !== '') query = query.where('primary_email', '=', checked.email)
  const found = await query.orderBy('id').executeTakeFirst()
  if (found) return Number(found.id)
  return createPerson(database.db, accountId, checked.name, checked.email)
}

/** A person of this account, or undefined (another account's person is not found). */
export async function findPerson(database: Database, accountId: string, id: number): Promise<Person | undefined> {
  const row = await database.db
    .selectFrom('people')
    .innerJoin('accounts', 'accounts.id', 'people.account_id')
    .select([
      'people.id',
      'people.account_id',
      'accounts.name as account_name',
      'people.name',
      'people.primary_email',
      'people.disabled',
      'people.created_at',
      'people.updated_at',
      'people.lock_version',
    ])
    .where('people.id', '=', id)
    .where('people.account_id', '=', accountId)
    .executeTakeFirst()
  if (!row) return undefined
  return {
    id: Number(row.id),
    accountId: row.account_id,
    accountName: row.account_name,
    name: row.name,
    primaryEmail: row.primary_email === '' ? null : row.primary_email,
    disabled: Number(row.disabled) === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    lockVersion: Number(row.lock_version),
  }
}
