import type { Database } from './database.ts'
import { nowSeconds } from './database.ts'

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
  await database.db.insertInto('accounts').values({ id, name: trimmed, created_at: nowSeconds() }).execute()
  return { id, name: trimmed }
}

export async function findAccount(database: Database, id: string): Promise<Account | undefined> {
  return database.db.selectFrom('accounts').select(['id', 'name']).where('id', '=', id).executeTakeFirst()
}

export async function countAccounts(database: Database): Promise<number> {
  const row = await database.db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}
