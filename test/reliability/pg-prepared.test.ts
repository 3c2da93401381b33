// PostgreSQL runs a reading statement that comes again as a prepared statement (storage/database.ts):
// parsed and planned once per connection instead of on every request. What a user would notice if
// it went wrong: a statement prepared before a migration changed its table failing afterwards, or
// one-off statements piling up on the server.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sql } from 'kysely'
import pg from 'pg'
import { openDatabase, type Database } from '../../src/storage/database.ts'
import { engines, freshStore, type TestStore } from '../support/stores.ts'

describe('prepared statements (postgres)', { skip: !engines.includes('postgres') && 'needs TEST_DATABASE_URL' }, () => {
  let store: TestStore
  let database: Database
  const prepared = async () => (await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(database.db)).rows

  before(async () => {
    store = await freshStore('postgres')
    // One connection, so every statement below meets the same session.
    database = openDatabase(store.url, { poolSize: 1 })
    await sql`create table gadgets (id integer primary key, name text not null)`.execute(database.db)
    await sql`insert into gadgets values (1, 'lamp'), (2, 'fan')`.execute(database.db)
  })
  after(async () => {
    await database.close()
    await store.drop()
  })

  it('prepares a reading statement the second time its text runs, and not before', async () => {
    const byId = (id: number) => database.db.selectFrom('gadgets' as never).selectAll().where('id' as never, '=', id as never).execute()
    await byId(1)
    assert.deepEqual((await prepared()).filter((s) => s.statement.includes('gadgets')), [], 'a text seen once is not prepared')
    assert.deepEqual(await byId(2), [{ id: 2, name: 'fan' }])
    const statements = (await prepared()).filter((s) => s.statement.includes('gadgets'))
    assert.equal(statements.length, 1, JSON.stringify(statements))
    assert.match(statements[0].name, /^ao_/)
    assert.deepEqual(await byId(1), [{ id: 1, name: 'lamp' }], 'and runs it with new values')
  })

  it('keeps answering when a migration changes the table under a prepared statement', async () => {
    const all = () => database.db.selectFrom('gadgets' as never).selectAll().orderBy('id' as never).execute()
    await all()
    await all()
    // Another process migrates: a column more changes the result type of `select *`.
    const other = new pg.Client({ connectionString: store.url })
    await other.connect()
    await other.query('alter table gadgets add column colour text')
    await other.end()
    assert.deepEqual(await all(), [
      { id: 1, name: 'lamp', colour: null },
      { id: 2, name: 'fan', colour: null },
    ])
    assert.deepEqual((await all()).length, 2, 'and again')
  })
})
