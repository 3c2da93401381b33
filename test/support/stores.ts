// The stores every behavioural test runs on: SQLite always, PostgreSQL when TEST_DATABASE_URL is
// set. Under CI=true PostgreSQL is required: a missing one fails the run instead of skipping.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { openDatabase, type Database, type Engine } from '../../src/storage/database.ts'

export interface TestStore {
  engine: Engine
  /** DATABASE_URL for a child process using this store (a PostgreSQL URL names its schema). */
  url: string
  open(): Database
  drop(): Promise<void>
}

const pgUrl = process.env.TEST_DATABASE_URL
if (process.env.CI === 'true' && !pgUrl) {
  throw new Error('CI=true needs TEST_DATABASE_URL: the PostgreSQL half of the suite must run')
}

export const engines: Engine[] = pgUrl ? ['sqlite', 'postgres'] : ['sqlite']

/** A fresh, empty store of this engine, private to the caller. */
export async function freshStore(engine: Engine): Promise<TestStore> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'app-offerings-test-'))
    const url = `sqlite:${join(dir, 'test.db')}`
    return {
      engine,
      url,
      open: () => openDatabase(url),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    }
  }
  const schema = `t_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: pgUrl })
  await admin.connect()
  await admin.query(`create schema ${schema}`)
  await admin.end()
  const separator = pgUrl!.includes('?') ? '&' : '?'
  return {
    engine,
    url: `${pgUrl}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    open: () => openDatabase(pgUrl!, { pgSchema: schema, poolSize: 5 }),
    drop: async () => {
      const client = new pg.Client({ connectionString: pgUrl })
      await client.connect()
      await client.query(`drop schema ${schema} cascade`)
      await client.end()
    },
  }
}
