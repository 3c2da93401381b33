// Opens the database named by DATABASE_URL. This is the one place that knows which engine is
// behind Kysely; everything above it speaks Kysely and the few helpers exported here.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase as KyselySqlite } from 'kysely'
import pg from 'pg'
import { RecentKeys } from './recent-keys.ts'
import type { Schema } from './schema.ts'

export type Engine = 'sqlite' | 'postgres'

export interface Database {
  readonly db: Kysely<Schema>
  readonly engine: Engine
  /**
   * SQLite only: runs a compiled reading statement at once, outside Kysely's executor, or
   * answers undefined while a transaction is open on the connection (whose writes a read must
   * not see before they commit; Kysely's executor waits for it).
   */
  readonly readNow?: (sql: string, parameters: readonly unknown[]) => unknown[] | undefined
  /** Brings the planner's statistics up to date after a bulk write (PostgreSQL's autovacuum does it there). */
  optimize(): void
  close(): Promise<void>
}

export interface OpenOptions {
  /** PostgreSQL schema to work in (the test suite gives every file its own). */
  pgSchema?: string
  poolSize?: number
  /**
   * PostgreSQL: the time budget of one statement (milliseconds); past it the statement is
   * cancelled, so one tenant's heavy read cannot hold a connection the others need.
   */
  statementTimeoutMs?: number
}

export function openDatabase(url: string, options: OpenOptions = {}): Database {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length))
  return openPostgres(url, options)
}

function openSqlite(path: string): Database {
  if (path !== ':memory:') makeFolders(dirname(resolve(path)))
  const sqlite = new SqliteDatabase(path)
  // WAL lets readers run beside the writer; NORMAL sync is durable against a killed process.
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('foreign_keys = ON')
  // Reads through a memory map and a 64 MB page cache instead of a read() per page: a page of
  // 20 records touches 20 table pages in index order (one raw 21-row page, measured once here:
  // ~150 -> ~92 µs).
  sqlite.pragma('mmap_size = 268435456')
  sqlite.pragma('cache_size = -65536')
  // The planner needs statistics to choose between an index that gives the order and one that
  // bounds the rows (5 ids sorted by -id: 240 ms on the name index without them, a rowid lookup
  // with them; STAT4 lets it weigh a range's bound values). As SQLite advises for long-lived
  // connections: analyze what needs it at open, then every hour (cheap while nothing grew).
  const optimize = () => {
    try {
      sqlite.pragma('optimize = 0x10002')
    } catch {
      // Busy or read-only: the next time will do.
    }
  }
  optimize()
  const optimizing = setInterval(optimize, 3_600_000).unref()
  const statements = reusingStatements(sqlite)
  const db = new Kysely<Schema>({ dialect: new SqliteDialectKeepingErrors(sqlite, { database: statements }) })
  return {
    db,
    engine: 'sqlite',
    // Kysely's executor costs ~1.5 µs per statement here, as much as reading a row by its key.
    optimize,
    readNow: (sql, parameters) => (sqlite.inTransaction ? undefined : statements.prepare(sql).all(parameters as unknown[]) as unknown[]),
    async close() {
      clearInterval(optimizing)
      await db.destroy()
    },
  }
}

/**
 * Creates a folder and its missing parents one level at a time: Node's `mkdirSync(..., {recursive:
 * true})` spins forever under a file system that refuses them as procfs does
 * (`sqlite:/proc/no-such-dir/x.db`).
 */
function makeFolders(folder: string): void {
  const missing: string[] = []
  let at = folder
  for (; !existsSync(at); at = dirname(at)) missing.unshift(at)
  // A file where a folder must be: mkdir says so (EEXIST, ENOTDIR).
  if (!statSync(at).isDirectory()) mkdirSync(folder)
  for (const each of missing) mkdirSync(each)
}

/**
 * SQLite rolls a transaction back by itself on SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM...: the
 * ROLLBACK Kysely then sends fails ("cannot rollback - no transaction is active"), and its error
 * would replace the one that says why. It is skipped when no transaction is open.
 */
class SqliteDialectKeepingErrors extends SqliteDialect {
  constructor(
    private readonly sqlite: SqliteDatabase.Database,
    config: ConstructorParameters<typeof SqliteDialect>[0],
  ) {
    super(config)
  }

  override createDriver() {
    const driver = super.createDriver()
    const rollback = driver.rollbackTransaction.bind(driver)
    driver.rollbackTransaction = async (connection) => {
      if (this.sqlite.inTransaction) await rollback(connection)
    }
    return driver
  }
}

const STATEMENTS = 500

type Statement = ReturnType<KyselySqlite['prepare']>

/**
 * Kysely prepares every query it runs; preparing costs more than running a small indexed query,
 * so prepared statements are kept by their SQL. Safe because Kysely's SQLite driver runs one
 * statement at a time on its single connection, and SQLite re-prepares after a schema change.
 */
function reusingStatements(sqlite: SqliteDatabase.Database): KyselySqlite {
  const statements = new Map<string, Statement>()
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      let statement = statements.get(sql)
      if (!statement) {
        statement = rowsBuiltInJavaScript(sqlite.prepare(sql))
        if (statements.size >= STATEMENTS) statements.clear()
        statements.set(sql, statement)
      }
      return statement
    },
  }
}

/**
 * A reading statement returns its rows as arrays, made into objects here: V8 builds objects of one
 * shape far faster than better-sqlite3 can through its C++ API (a 21-row page: ~25% less time).
 */
function rowsBuiltInJavaScript(statement: SqliteDatabase.Statement): Statement {
  if (!statement.reader) return statement as unknown as Statement
  statement.raw(true)
  const names = statement.columns().map((column) => column.name)
  const toObject = (values: unknown[]) => {
    const row: Record<string, unknown> = {}
    for (let i = 0; i < names.length; i++) row[names[i]] = values[i]
    return row
  }
  return {
    reader: true,
    all: (parameters) => (statement.all(parameters) as unknown[][]).map(toObject),
    run: (parameters) => statement.run(parameters),
    *iterate(parameters) {
      for (const values of statement.iterate(parameters) as IterableIterator<unknown[]>) yield toObject(values)
    },
  }
}

const INT8_OID = 20

function openPostgres(url: string, options: OpenOptions): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // Ids, epoch seconds and counts are int8; all of them fit a JS number.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
    options: options.pgSchema ? `-c search_path=${options.pgSchema}` : undefined,
    connectionTimeoutMillis: 5000,
    ...(options.statementTimeoutMs !== undefined && { statement_timeout: options.statementTimeoutMs }),
  })
  // A client that loses its connection must not crash the process, idle (the pool's 'error') or
  // checked out between two queries (its own 'error'); the pool drops it, and the query fails.
  pool.on('error', () => {})
  pool.on('connect', (client) => client.on('error', () => {}))
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: preparing(pool) }) })
  return {
    db,
    engine: 'postgres',
    optimize() {},
    async close() {
      await db.destroy()
    },
  }
}

/** Named statements per connection at most; past it, statements run unnamed (parsed and planned each time). */
const PREPARED_PER_CONNECTION = 256
/** A statement's text must run this many times (as far as RecentKeys remembers) before it is prepared. */
const SEEN_TEXTS = 16_384
/** PostgreSQL: "cached plan must not change result type", after a migration changed a table under a prepared statement. */
const CACHED_PLAN_CHANGED = '0A000'

type PgClient = pg.PoolClient

/**
 * PostgreSQL parses and plans every unnamed statement anew: for a record with its references'
 * names (correlated subqueries) planning took ~0.6-2.4 ms against ~0.13-0.27 ms to run it
 * (EXPLAIN ANALYZE, 100,000 offerings). A reading statement whose text comes again is therefore
 * sent as a named, prepared statement (node-postgres parses it once per connection). Bounded:
 * only texts seen twice, at most PREPARED_PER_CONNECTION per connection. A statement that a
 * migration made stale (0A000) is run again unnamed, and never named again on that connection.
 */
function preparing(pool: pg.Pool) {
  const seen = new RecentKeys(SEEN_TEXTS)
  const names = new Map<string, string>()
  const nameOf = (text: string) => {
    let name = names.get(text)
    if (!name) {
      if (names.size >= SEEN_TEXTS) names.clear()
      name = `ao_${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`
      names.set(text, name)
    }
    return name
  }
  const wrapped = new WeakMap<PgClient, PgClient>()
  const wrap = (client: PgClient): PgClient => {
    const prepared = new Set<string>()
    const stale = new Set<string>()
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>
    const named = (text: string, values: unknown[]) => {
      const name = nameOf(text)
      if (stale.has(name) || (!prepared.has(name) && (prepared.size >= PREPARED_PER_CONNECTION || !seen.remember(text)))) return undefined
      prepared.add(name)
      return query({ name, text, values }).catch((error: { code?: string }) => {
        if (error?.code !== CACHED_PLAN_CHANGED) throw error
        stale.add(name)
        return query(text, values)
      })
    }
    return new Proxy(client, {
      get(target, property, receiver) {
        if (property !== 'query') return Reflect.get(target, property, receiver)
        return (text: unknown, values?: unknown[]) =>
          (typeof text === 'string' && /^select /i.test(text) && named(text, values ?? [])) || query(text, values)
      },
    })
  }
  return {
    async connect(): Promise<PgClient> {
      const client = await pool.connect()
      let proxy = wrapped.get(client)
      if (!proxy) wrapped.set(client, (proxy = wrap(client)))
      return proxy
    },
    end: () => pool.end(),
  }
}

/** True when a write failed on a unique constraint, whatever the engine. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

/** True when a write failed on a foreign key, whatever the engine. */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY'
}

/** True when a statement was cancelled for taking longer than its time budget (PostgreSQL). */
export function isStatementTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '57014'
}

/** True when the database itself is out of reach (as opposed to a query being wrong). */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null
  const code = typeof e?.code === 'string' ? e.code : ''
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', 'SQLITE_BUSY'].includes(code)) {
    return true
  }
  const message = typeof e?.message === 'string' ? e.message : ''
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message)
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
