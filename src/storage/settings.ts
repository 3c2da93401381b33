import { randomBytes } from 'node:crypto'
import type { Database } from './database.ts'

/**
 * The deployment's secret: SECRET_KEY when configured, else one generated on first use and kept
 * in the database, so that every process of one deployment signs alike.
 */
export async function loadSecretKey(database: Database, configured: string | undefined): Promise<string> {
  if (configured) return configured
  const generated = randomBytes(32).toString('base64url')
  // Insert-if-absent, then read back: two processes starting together agree on one key.
  await database.db
    .insertInto('settings')
    .values({ key: 'secret_key', value: generated })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute()
  const row = await database.db.selectFrom('settings').select('value').where('key', '=', 'secret_key').executeTakeFirstOrThrow()
  return row.value
}
