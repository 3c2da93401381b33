import type { Database } from './database.ts'
import { nowSeconds } from './database.ts'
import { createPerson, DEFAULT_PERSON_NAME } from './people.ts'

// 2 to 32 lowercase letters, digits and '-', starting with a letter (conventions.md §1).
export const ACCOUNT_ID = /^[a-z][a-z0-9-]{1,31}$/

export interface Account {
  id: string
  name: string
}

export class AccountError extends Error {}

export async function createAccount(database: Database, id: string, name: string): Promise<Account> {
  if (!ACCOUNT_ID.test(id)) {
    throw new AccountError(`account id "${id}" must be 2 to 32 lowercase letters, digits or "-", starting with a letter`)
  }
  const trimmed = name.trim()
  if (trimmed === '' || trimmed.length > 128) throw new AccountError('account name must be 1 to 128 characters')
  const existing = await findAccount(database, id)
  if (existing) throw new AccountError(`account "${id}" already exists`)
  // The account and its default person together: a token made for it right away has an owner.
  await database.db.transaction().execute(async (trx) => {
    await trx.insertInto('accounts').values({ id, name: trimmed, created_at: nowSeconds() }).execute()
    await createPerson(trx, id, DEFAULT_PERSON_NAME)
  })
  return { id, name: trimmed }
}

export async function findAccount(database: Database, id: string): Promise<Account | undefined> {
  return database.db.selectFrom('accounts').select(['id', 'name']).where('id', '=', id).executeTakeFirst()
}

export interface AccountListing extends Account {
  createdAt: number
}

export async function listAccounts(database: Database): Promise<AccountListing[]> {
  const rows = await database.db.selectFrom('accounts').select(['id', 'name', 'created_at']).orderBy('id').execute()
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: Number(r.created_at) }))
}

export async function countAccounts(database: Database): Promise<number> {
  const row = await database.db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}
