// npm run bench: seeds 100,000 offerings in one account and 1,000 small accounts, starts a real
// server process per store, and measures each scenario against it and, interleaved, against a
// bare node:http server that answers the identical bytes. See docs/benchmarks.md.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { sql, type Kysely } from 'kysely'
import pg from 'pg'
import { request } from 'undici'
import { seed } from '../src/cli/seed.ts'
import { encodeCursor } from '../src/query/cursor.ts'
import { createAccount } from '../src/storage/accounts.ts'
import { openDatabase } from '../src/storage/database.ts'
import { migrateToLatest } from '../src/storage/migrate.ts'
import { createToken } from '../src/storage/tokens.ts'
import { load, type Result, type Target } from './load.ts'

const OFFERINGS = Number(process.env.BENCH_OFFERINGS ?? 100_000)
const SMALL_ACCOUNTS = Number(process.env.BENCH_SMALL_ACCOUNTS ?? 1_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8)
const SECRET_KEY = randomBytes(32).toString('base64url')
const PER_PAGE = 20
// Page 2,000 of the 100,000 (fewer with a smaller BENCH_OFFERINGS).
const DEEP_PAGE = Math.min(2_000, Math.floor(OFFERINGS / PER_PAGE) - 1)
const pgUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL

// Targets on SQLite (issue 3): ratio of the app's requests/s to the bare server's.
const TARGETS: Record<string, number> = { 'single GET': 0.5, 'list default': 0.35, 'list filtered+sorted+fields': 0.3, 'cursor page deep': 0.3 }

interface Store {
  engine: 'sqlite' | 'postgres'
  url: string
  drop(): Promise<void>
}

async function sqliteStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'app-offerings-bench-'))
  return { engine: 'sqlite', url: `sqlite:${join(dir, 'bench.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) }
}

async function postgresStore(url: string): Promise<Store> {
  const schema = `bench_${randomBytes(4).toString('hex')}`
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query(statement)
    await client.end()
  }
  await admin(`create schema ${schema}`)
  const separator = url.includes('?') ? '&' : '?'
  return {
    engine: 'postgres',
    url: `${url}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: () => admin(`drop schema ${schema} cascade`),
  }
}

interface Seeded {
  token: string
  account: string
  serviceInstance: number
  offering: number
  deepBoundary: [string, number]
}

async function seedStore(store: Store): Promise<Seeded> {
  const database = openDatabase(store.url)
  try {
    await migrateToLatest(database)
    const account = `big-${randomBytes(3).toString('hex')}`
    await createAccount(database, account, 'Big provider')
    const { token } = await createToken(database, account)
    await seed(database, { account, offerings: OFFERINGS })
    for (let i = 0; i < SMALL_ACCOUNTS; i++) {
      const small = `small-${i}-${randomBytes(2).toString('hex')}`
      await createAccount(database, small, `Small ${i}`)
      await seed(database, { account: small, offerings: 10 })
    }
    const db = database.db as Kysely<any>
    await sql`analyze`.execute(db)
    const si = await db.selectFrom('service_instances').select('id').where('account_id', '=', account).executeTakeFirstOrThrow()
    const offering = await db.selectFrom('app_offerings').select('id').where('account_id', '=', account).orderBy('id').offset(OFFERINGS / 2).limit(1).executeTakeFirstOrThrow()
    const deep = await db
      .selectFrom('app_offerings')
      .select(['name', 'id'])
      .where('account_id', '=', account)
      .orderBy('name')
      .orderBy('id')
      .offset(DEEP_PAGE * PER_PAGE - 1)
      .limit(1)
      .executeTakeFirstOrThrow()
    return { token, account, serviceInstance: Number(si.id), offering: Number(offering.id), deepBoundary: [deep.name, Number(deep.id)] }
  } finally {
    await database.close()
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

// The server as configured by default reuses renderings and pages (src/resources/presenter.ts,
// src/query/results.ts); this one reuses nothing, so every answer reads and renders its records.
const NO_REUSE = { RECORD_CACHE_ENTRIES: '0', PAGE_CACHE_ENTRIES: '0' }

async function startApp(store: Store, env: Record<string, string> = {}): Promise<{ origin: string; child: ChildProcess }> {
  const port = await freePort()
  const child = spawn(process.execPath, ['bin/app-offerings.js', 'serve'], {
    env: { ...process.env, DATABASE_URL: store.url, PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT: 'off', SECRET_KEY, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const origin = `http://127.0.0.1:${port}`
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await request(`${origin}/v1`)
      await res.body.dump()
      if (res.statusCode === 200) return { origin, child }
    } catch {
      if (attempt > 200 || child.exitCode !== null) throw new Error('the server did not start')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

async function startBare(answers: Record<string, unknown>): Promise<{ origin: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare.ts'], { stdio: ['pipe', 'pipe', 'inherit'] })
  child.stdin!.end(JSON.stringify(answers))
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve))
  return { origin: `http://127.0.0.1:${line.trim()}`, child }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

async function record(origin: string, target: Target) {
  const res = await request(`${origin}${target.path}`, { headers: target.headers })
  const body = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`${target.path}: ${res.statusCode} ${body}`)
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(res.headers)) {
    if (['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(name) || value === undefined) continue
    headers[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return { status: res.statusCode, headers, body }
}

interface Measured extends Result {
  /** Server CPU time per request (user + system, from /proc): robust to a busy machine. */
  cpuMicros: number
}

const NO_REUSE_LABEL = ', no reuse'

interface Row {
  store: string
  scenario: string
  app: Measured
  bare?: Measured
}

const TICK_MICROS = 1_000_000 / 100 // USER_HZ

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(fields[11]) + Number(fields[12])
}

/** A load run against a server process, with the CPU that process spent per answer. */
async function measure(server: { origin: string; child: ChildProcess }, target: Target, options: { seconds: number; connections: number; expect?: number }): Promise<Measured> {
  const before = cpuTicks(server.child.pid!)
  const result = await load(server.origin, target, options)
  return { ...result, cpuMicros: ((cpuTicks(server.child.pid!) - before) * TICK_MICROS) / Math.max(1, result.requests) }
}

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(8)

function print(row: Row): void {
  const ratio = row.bare ? row.app.rps / row.bare.rps : undefined
  const cpuRatio = row.bare ? row.bare.cpuMicros / row.app.cpuMicros : undefined
  const target = row.store === 'sqlite' && !row.scenario.endsWith(NO_REUSE_LABEL) ? TARGETS[row.scenario] : undefined
  const verdict = ratio === undefined || target === undefined ? '' : ratio >= target ? `  (target ${target}: met)` : `  (target ${target}: MISSED)`
  process.stdout.write(
    `${row.store.padEnd(9)} ${row.scenario.padEnd(39)} app ${fmt(row.app.rps)} req/s p50 ${fmt(row.app.p50, 2)} ms p99 ${fmt(row.app.p99, 2)} ms` +
      ` cpu ${fmt(row.app.cpuMicros)} µs/req` +
      (row.bare
        ? ` | bare ${fmt(row.bare.rps)} req/s p50 ${fmt(row.bare.p50, 2)} p99 ${fmt(row.bare.p99, 2)} cpu ${fmt(row.bare.cpuMicros)} µs/req` +
          ` | ratio ${ratio!.toFixed(2)}${verdict}, cpu ratio ${cpuRatio!.toFixed(2)}`
        : '') +
      (row.app.errors ? `  ${row.app.errors} unexpected answers` : '') +
      '\n',
  )
}

async function benchStore(store: Store): Promise<Row[]> {
  const t0 = Date.now()
  const seeded = await seedStore(store)
  process.stdout.write(`${store.engine}: seeded ${OFFERINGS} + ${SMALL_ACCOUNTS} accounts x 10 offerings in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
  const app = await startApp(store)
  const cold = await startApp(store, NO_REUSE)
  const rows: Row[] = []
  try {
    const headers = { authorization: `Bearer ${seeded.token}`, 'x-4me-account': seeded.account }
    const first = await record(app.origin, { path: '/v1/app_offerings', headers })
    const next = /<[^>]*(\/v1\/app_offerings\?[^>]*)>; rel="next"/.exec(first.headers.link)![1]
    const deep = encodeCursor(SECRET_KEY, { sort: 'name,id', values: seeded.deepBoundary, page: DEEP_PAGE + 1 })
    const reads: Record<string, Target> = {
      'single GET': { path: `/v1/app_offerings/${seeded.offering}`, headers },
      'list default': { path: '/v1/app_offerings', headers },
      'list filtered+sorted+fields': { path: '/v1/app_offerings?disabled=false&sort=-created_at&fields=name,reference,disabled,created_at', headers },
      'cursor page 2': { path: next, headers },
      'cursor page deep': { path: `/v1/app_offerings?search_after=${deep}`, headers },
    }
    const answers: Record<string, unknown> = {}
    for (const target of Object.values(reads)) answers[target.path] = await record(app.origin, target)
    const bare = await startBare(answers)
    try {
      for (const [scenario, target] of Object.entries(reads)) {
        const options = { seconds: SECONDS, connections: CONNECTIONS }
        await load(app.origin, target, { ...options, seconds: 1 })
        const appResult = await measure(app, target, options)
        await load(bare.origin, target, { ...options, seconds: 1 })
        const bareResult = await measure(bare, target, options)
        const row = { store: store.engine, scenario, app: appResult, bare: bareResult }
        print(row)
        rows.push(row)
        await load(cold.origin, target, { ...options, seconds: 1 })
        const coldRow = { store: store.engine, scenario: scenario + NO_REUSE_LABEL, app: await measure(cold, target, options), bare: bareResult }
        print(coldRow)
        rows.push(coldRow)
      }
    } finally {
      await stop(bare.child)
    }
    let n = 0
    const run = randomBytes(3).toString('hex')
    const create: Target = {
      method: 'POST',
      path: '/v1/app_offerings',
      headers: { ...headers, 'content-type': 'application/json' },
      body: () =>
        JSON.stringify({ name: `Bench ${run} ${++n}`, service_instance_id: seeded.serviceInstance, policy_jwt_alg: 'rs256', webhook_uri_template: 'https://hooks.example.com/{account}' }),
    }
    const created = { store: store.engine, scenario: 'create', app: await measure(app, create, { seconds: SECONDS, connections: CONNECTIONS, expect: 201 }) }
    print(created)
    rows.push(created)
  } finally {
    await stop(app.child)
    await stop(cold.child)
  }
  return rows
}

const stores: Store[] = [await sqliteStore()]
if (pgUrl && process.env.BENCH_STORES !== 'sqlite') stores.push(await postgresStore(pgUrl))
process.stdout.write(`bench: ${SECONDS} s per measurement, ${CONNECTIONS} connections, node ${process.version}\n`)
const rows: Row[] = []
try {
  for (const store of stores) rows.push(...(await benchStore(store)))
} finally {
  for (const store of stores) await store.drop()
}
const byScenario = (store: string, scenario: string) => rows.find((r) => r.store === store && r.scenario === scenario)
for (const store of stores) {
  for (const suffix of ['', NO_REUSE_LABEL]) {
    const deep = byScenario(store.engine, `cursor page deep${suffix}`)
    const second = byScenario(store.engine, `cursor page 2${suffix}`)
    if (deep && second) {
      process.stdout.write(`${store.engine}${suffix}: cursor page ${DEEP_PAGE} costs ${(second.app.rps / deep.app.rps).toFixed(2)}x page 2 (target on sqlite: <= 1.5)\n`)
    }
  }
}
