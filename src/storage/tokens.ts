// Personal access tokens. Only a SHA-256 of a token is stored: tokens are 256 random bits, so a
// fast hash is as safe as a slow one here and keeps authentication off the request's budget.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Database } from './database.ts'
import { nowSeconds } from './database.ts'

export type Scope = 'read' | 'write'

export interface TokenRecord {
  id: number
  accountId: string
  accountName: string
  scope: Scope
  hash: Buffer
}

export interface TokenListing {
  id: number
  name: string
  scope: Scope
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
}

const PREFIX = 'ao_'

export function hashToken(token: string): string {
  return hash('sha256', token, 'hex')
}

export async function createToken(
  database: Database,
  accountId: string,
  options: { scope?: Scope; name?: string } = {},
): Promise<{ id: number; token: string }> {
  const token = PREFIX + randomBytes(32).toString('base64url')
  const row = await database.db
    .insertInto('api_tokens')
    .values({
      account_id: accountId,
      name: options.name ?? '',
      scope: options.scope ?? 'write',
      token_hash: hashToken(token),
      created_at: nowSeconds(),
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return { id: Number(row.id), token }
}

/** The live token with this hash, or undefined. The final comparison takes constant time. */
export async function findTokenByHash(database: Database, hash: string): Promise<TokenRecord | undefined> {
  const row = await database.db
    .selectFrom('api_tokens')
    .innerJoin('accounts', 'accounts.id', 'api_tokens.account_id')
    .select(['api_tokens.id', 'api_tokens.account_id', 'api_tokens.scope', 'api_tokens.token_hash', 'accounts.name'])
    .where('api_tokens.token_hash', '=', hash)
    .where('api_tokens.revoked_at', 'is', null)
    .executeTakeFirst()
  if (!row) return undefined
  const stored = Buffer.from(row.token_hash, 'hex')
  const given = Buffer.from(hash, 'hex')
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined
  return { id: Number(row.id), accountId: row.account_id, accountName: row.name, scope: row.scope, hash: stored }
}

export async function listTokens(database: Database, accountId: string): Promise<TokenListing[]> {
  const rows = await database.db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'scope', 'created_at', 'last_used_at', 'revoked_at'])
    .where('account_id', '=', accountId)
    .orderBy('id')
    .execute()
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    scope: r.scope,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
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
