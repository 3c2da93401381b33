// The statements a collection page runs are planned on indexes that bound the rows read, for any
// filter value: on PostgreSQL on the account-leading indexes, never a scan of the whole table;
// on SQLite likewise, once the statistics the server keeps current say how selective each filter
// is (storage/database.ts). The statements are the ones the record store really issues (captured
// from Kysely), explained with their bound values.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, sql, type CompiledQuery } from 'kysely'
import pg from 'pg'
import { seed } from '../../src/cli/seed.ts'
import { appOfferings } from '../../src/resources/app-offerings/fields.ts'
import { appOfferingRules } from '../../src/resources/app-offerings/rules.ts'
import { RecordStore, type Scope, type Subset } from '../../src/records/store.ts'
import { encodeCursor } from '../../src/query/cursor.ts'
import { parseQuery } from '../../src/query/parse.ts'
import { createAccount } from '../../src/storage/accounts.ts'
import type { Database } from '../../src/storage/database.ts'
import { engines } from '../support/stores.ts'
import { uniqueId, useHarness } from '../support/harness.ts'

const SECRET = 'explain-test-secret-0123456789abcdef'
const MINE = 4_000
const OTHERS = 15
const THEIRS = 1_000

if (engines.includes('postgres')) {
  describe('collections: query plans (postgres)', () => {
    const h = useHarness('postgres')
    let account: string
    let captured: CompiledQuery[] = []
    let explainer: Kysely<any>

    before(async () => {
      const database = h().database
      account = await seedAccounts(database)
      const db = database.db as Kysely<any>
      await sql`vacuum analyze app_offerings`.execute(db)
      // The store under test, over a Kysely that records every statement it runs.
      explainer = new Kysely({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: h().store.url, max: 2 }) }),
        log: (event) => {
          if (event.level === 'query') captured.push(event.query)
        },
      })
    })

    after(async () => {
      await explainer?.destroy()
    })

    /** The plans of the statements one list request runs. */
    async function plans(query: string, subset?: Subset): Promise<string[]> {
      const plan = parseQuery(appOfferings, query, { cursorSecret: SECRET })
      // A new store each time, so that no page or count comes from its cache.
      const store = new RecordStore({ db: explainer, engine: 'postgres', close: async () => {} } as unknown as Database, appOfferings, appOfferingRules.sharing!.byId)
      captured = []
      await Promise.all([store.page(account, plan, subset), store.count(account, plan, 100_000, subset)])
      const statements = captured.filter((q) => /from "app_offerings"/.test(q.sql))
      assert.equal(statements.length, 2, 'a page and a count')
      // The page first, then the count, whichever of them ran first.
      statements.sort((a, b) => Number(/count\(/.test(a.sql)) - Number(/count\(/.test(b.sql)))
      const out: string[] = []
      for (const statement of statements) {
        const result = await sql`explain ${sql.raw(statement.sql.replace(/\$(\d+)/g, (_, n) => literal(statement.parameters[Number(n) - 1])))}`.execute(explainer)
        out.push((result.rows as Array<Record<string, string>>).map((row) => row['QUERY PLAN']).join('\n'))
      }
      return out
    }

    function assertIndexed(planText: string, label: string): void {
      assert.doesNotMatch(planText, /Seq Scan on app_offerings/, `${label}\n${planText}`)
      assert.match(planText, /Index (Only )?Scan( Backward)? using app_offerings_account_\w+|Bitmap Index Scan on app_offerings_account_\w+/, `${label}\n${planText}`)
      assert.match(planText, /Index Cond: \(+account_id = /, `${label}: the account leads the index condition\n${planText}`)
    }

    const latestInternal: Subset = { name: 'latest_internal', where: appOfferingRules.predefinedFilters!.latest_internal as Scope }

    it('lists the default page on the account and name index', async () => {
      const [page, count] = await plans('')
      assertIndexed(page, 'default page')
      assert.match(page, /app_offerings_account_name_id/)
      assert.doesNotMatch(page, /Sort Key/, `the index gives the order\n${page}`)
      assertIndexed(count, 'default count')
    })

    it('filters and sorts on indexes', async () => {
      // (An id range sorted by id may rightly be planned on the primary key: it is one too.)
      for (const query of ['disabled=true&sort=-created_at', 'created_at=>2024-01-01&sort=-created_at', 'sourceID=!&sort=sourceID', 'name=Swift&sort=-name', 'reference=x', 'updated_at=<2030-01-01&sort=updated_at,name']) {
        const [page, count] = await plans(query)
        assertIndexed(page, query)
        assertIndexed(count, `${query} (count)`)
      }
    })

    it('reads a deep keyset page by an index range, like the first', async () => {
      const boundary = await (h().database.db as Kysely<any>)
        .selectFrom('app_offerings')
        .select(['name', 'id'])
        .where('account_id', '=', account)
        .orderBy('name')
        .orderBy('id')
        .offset(MINE - 100)
        .limit(1)
        .executeTakeFirstOrThrow()
      const cursor = encodeCursor(SECRET, { sort: 'name,id', values: [boundary.name, Number(boundary.id)], page: MINE / 20 })
      for (const direction of ['search_after', 'search_before']) {
        const [page] = await plans(`${direction}=${cursor}`)
        assertIndexed(page, direction)
        // The keyset is one row-value comparison, which bounds the range on (name, id) itself.
        assert.match(page, /Index Cond: \(\(account_id = .*\) AND \(ROW\(name, id\) [<>] ROW\(/, `${direction}: the keyset bounds the index range\n${page}`)
      }
    })

    it('looks a list of ids up by key, an equality on its index, a narrow range on its own index', async () => {
      const ids = await (h().database.db as Kysely<any>).selectFrom('app_offerings').select('id').where('account_id', '=', account).orderBy('id').limit(5).execute()
      const [byIds] = await plans(`id=${ids.map((r) => r.id).join(',')}&disabled=false&sort=-id`)
      assert.doesNotMatch(byIds, /Seq Scan/, byIds)
      assert.match(byIds, /app_offerings_pkey|Index Cond: .*id = ANY/, `five ids are looked up by key\n${byIds}`)
      for (const query of ['name=Swift%20Note%20Dispatcher%201', 'reference=x', `created_at=>${recent()}&sort=name`, `created_at=>${half()}&sort=name`]) {
        const [page, count] = await plans(query)
        assertIndexed(page, query)
        assertIndexed(count, `${query} (count)`)
      }
    })

    it('serves a predefined filter on an index', async () => {
      const [page, count] = await plans('disabled=false', latestInternal)
      assertIndexed(page, 'latest_internal')
      assertIndexed(count, 'latest_internal (count)')
    })

    it('serves latest_published and all_latest_published (the rows of trusted providers too) on indexes', async () => {
      const filters = appOfferingRules.predefinedFilters!
      const shared = filters.all_latest_published as Omit<Subset, 'name'>
      for (const subset of [{ name: 'latest_published', where: filters.latest_published as Scope }, { name: 'all_latest_published', ...shared }]) {
        const [page, count] = await plans('', subset)
        for (const text of [page, count]) assert.doesNotMatch(text, /Seq Scan on app_offerings/, `${subset.name}\n${text}`)
      }
    })
  })
}

/** One large account among many small ones, as the server would see them; answers the large one's id. */
async function seedAccounts(database: Database): Promise<string> {
  const account = uniqueId('big')
  await createAccount(database, account, 'Big')
  await seed(database, { account, offerings: MINE })
  for (let i = 0; i < OTHERS; i++) {
    const other = uniqueId('small')
    await createAccount(database, other, 'Small')
    await seed(database, { account: other, offerings: THEIRS })
  }
  return account
}

const day = 86_400_000
/** A point that the newest 1% of seeded records are after (seeding spreads them over a year). */
const recent = () => new Date(Date.now() - 3 * day).toISOString()
/** A point that about half of them are after. */
const half = () => new Date(Date.now() - 182 * day).toISOString()

if (engines.includes('sqlite')) {
  describe('collections: query plans (sqlite)', () => {
    const h = useHarness('sqlite')
    let account: string
    let captured: CompiledQuery[] = []
    let explainer: Kysely<any>
    let connection: SqliteDatabase.Database

    before(async () => {
      account = await seedAccounts(h().database)
      connection = new SqliteDatabase(h().store.url.slice('sqlite:'.length))
      explainer = new Kysely({
        dialect: new SqliteDialect({ database: connection }),
        log: (event) => {
          if (event.level === 'query') captured.push(event.query)
        },
      })
    })

    after(async () => {
      await explainer?.destroy()
    })

    /** The query plans of the page and the count one list request runs. */
    async function plans(query: string): Promise<string[]> {
      const plan = parseQuery(appOfferings, query, { cursorSecret: SECRET })
      const store = new RecordStore({ db: explainer, engine: 'sqlite', optimize() {}, close: async () => {} } as unknown as Database, appOfferings)
      captured = []
      await Promise.all([store.page(account, plan), store.count(account, plan, 100_000)])
      const statements = captured.filter((q) => /from "app_offerings"/.test(q.sql))
      assert.equal(statements.length, 2, 'a page and a count')
      statements.sort((a, b) => Number(/count\(/.test(a.sql)) - Number(/count\(/.test(b.sql)))
      let n = 0
      return statements.map((statement) => {
        const text = statement.sql.replace(/\?/g, () => literal(statement.parameters[n++]))
        n = 0
        return (connection.prepare(`explain query plan ${text}`).all() as Array<{ detail: string }>).map((row) => row.detail).join('\n')
      })
    }

    /** Read through an index with the account in its condition: never the whole table. */
    function assertBounded(planText: string, label: string): void {
      assert.doesNotMatch(planText, /SCAN app_offerings(?! USING)/, `${label}: a scan of the table\n${planText}`)
      assert.match(planText, /SEARCH app_offerings USING (INTEGER PRIMARY KEY|(COVERING )?INDEX app_offerings_account_\w+ \(account_id=\?)/, `${label}\n${planText}`)
    }

    it('looks a list of ids up by key, whatever the sort or other filters', async () => {
      const ids = await (h().database.db as Kysely<any>).selectFrom('app_offerings').select('id').where('account_id', '=', account).orderBy('id').limit(5).execute()
      const [page] = await plans(`id=${ids.map((r) => r.id).join(',')}&disabled=false&sort=-id`)
      assert.match(page, /INTEGER PRIMARY KEY/, page)
    })

    it('reads an equality on its own index', async () => {
      for (const [query, index] of [['name=Swift%20Note%20Dispatcher%201', 'name'], ['reference=x', 'reference'], ['sourceID=x&sort=-created_at', 'source_id']]) {
        const [page, count] = await plans(query)
        assert.match(page, new RegExp(`app_offerings_account_${index}_id \\(account_id=\\? AND ${index}=\\?\\)`), `${query}\n${page}`)
        assertBounded(count, `${query} (count)`)
      }
    })

    it('reads a narrow range sorted by another field on the range, a broad one in the sort order', async () => {
      const [narrow] = await plans(`created_at=>${recent()}&sort=name`)
      assert.match(narrow, /app_offerings_account_created_at_id \(account_id=\? AND created_at>\?\)/, narrow)
      const [broad, count] = await plans(`created_at=>${half()}&sort=name`)
      assertBounded(broad, 'broad')
      assertBounded(count, 'broad (count)')
    })

    it('reads every filter and sort of the catalogue through an index', async () => {
      for (const query of ['', 'disabled=true&sort=-created_at', 'sourceID=!&sort=sourceID', 'updated_at=<2030-01-01&sort=updated_at,name', 'sort=-updated_at,sourceID&reference!=x', 'source=seed&sort=-id']) {
        const [page, count] = await plans(query)
        assertBounded(page, query)
        assertBounded(count, `${query} (count)`)
      }
    })
  })
}

/** A SQL literal for EXPLAIN (parameters here are plain strings and numbers). */
function literal(value: unknown): string {
  if (typeof value === 'number') return String(value)
  return `'${String(value).replaceAll("'", "''")}'`
}
