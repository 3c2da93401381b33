// Personal access tokens. Only a SHA-256 of a token is stored: tokens are 256 random bits, so a
// fast hash is as safe as a slow one here and keeps authentication off the request's budget.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Database } from './database.ts'
import { nowSeconds } from './database.ts'
import { defaultPerson } from './people.ts'

export type Scope = 'read' | 'write'

export interface TokenRecord {
  id: number
  accountId: string
  accountName: string
  scope: Scope
  hash: Buffer
  personId: number
  personName: string
}

export interface TokenListing {
  id: number
  name: string
  scope: Scope
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
  personName: string
}

const PREFIX = 'ao_'

export function hashToken(token: string): string {
  return hash('sha256', token, 'hex')
}

export async function createToken(
  database: Database,
  accountId: string,
  options: { scope?: Scope; name?: string; personId?: number } = {},
): Promise<{ id: number; token: string; personId: number }> {
  const token = PREFIX + randomBytes(32).toString('base64url')
  const personId = options.personId ?? (await defaultPerson(database.db, accountId))
  const row = await database.db
    .insertInto('api_tokens')
    .values({
      account_id: accountId,
      name: options.name ?? '',
      scope: options.scope ?? 'write',
      token_hash: hashToken(token),
      created_at: nowSeconds(),
      person_id: personId,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return { id: Number(row.id), token, personId }
}

/** The live token with this hash, or undefined. The final comparison takes constant time. */
export async function findTokenByHash(database: Database, hash: string): Promise<TokenRecord | undefined> {
  const row = await database.db
    .selectFrom('api_tokens')
    .innerJoin('accounts', 'accounts.id', 'api_tokens.account_id')
    .innerJoin('people', 'people.id', 'api_tokens.person_id')
    .select(['api_tokens.id', 'api_tokens.account_id', 'api_tokens.scope', 'api_tokens.token_hash', 'accounts.name', 'people.id as person_id', 'people.name as person_name'])
    .where('api_tokens.token_hash', '=', hash)
    .where('api_tokens.revoked_at', 'is', null)
    .executeTakeFirst()
  if (!row) return undefined
  const stored = Buffer.from(row.token_hash, 'hex')
  const given = Buffer.from(hash, 'hex')
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined
  return {
    id: Number(row.id),
    accountId: row.account_id,
    accountName: row.name,
    scope: row.scope,
    hash: stored,
    personId: Number(row.person_id),
    personName: row.person_name,
  }
}

export async function listTokens(database: Database, accountId: string): Promise<TokenListing[]> {
  const rows = await database.db
    .selectFrom('api_tokens')
    .leftJoin('people', 'people.id', 'api_tokens.person_id')
    .select(['api_tokens.id', 'api_tokens.name', 'api_tokens.scope', 'api_tokens.created_at', 'api_tokens.last_used_at', 'api_tokens.revoked_at', 'people.name as person_name'])
    .where('api_tokens.account_id', '=', accountId)
    .orderBy('api_tokens.id')
    .execute()
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    scope: r.scope,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
    personName: r.person_name ?? '',
  }))
}

/** Revokes a token; false when there is no live token with that id. */
export async function revokeToken(database: Database, id: number): Promise<boolean> {
  const result = await database.db
    .updateTable('api_tokens')
    .set({ revoked_at: nowSeconds() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

export async function touchToken(database: Database, id: number, at: number): Promise<void> {
  await database.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute()
}
