// npm run bench: seeds 100,000 offerings in one account and 1,000 small accounts, and measures a
// real server process per store against a bare node:http server, interleaved, scenario by
// scenario. Two kinds of scenarios (docs/benchmarks.md):
// - repeated: one URL asked again and again (the bare server answers the identical bytes);
// - traffic: many URLs, each asked once (random records, a whole cursor walk in random order,
//   filters with varying values, a walk while PATCHes land), against a freshly started server
//   each; the bare server answers each URL with the recorded status, headers and body size.
// Answers are recorded by a separate server process, stopped before anything is measured.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { sql, type Kysely } from 'kysely'
import pg from 'pg'
import { Client, Pool, request } from 'undici'
import { seed } from '../src/cli/seed.ts'
import { encodeCursor } from '../src/query/cursor.ts'
import { createAccount } from '../src/storage/accounts.ts'
import { openDatabase } from '../src/storage/database.ts'
import { migrateToLatest } from '../src/storage/migrate.ts'
import { createToken } from '../src/storage/tokens.ts'
import { drawn, load, type Result, type Target } from './load.ts'
import { benchWebhooks } from './webhooks.ts'

const OFFERINGS = Number(process.env.BENCH_OFFERINGS ?? 100_000)
const SMALL_ACCOUNTS = Number(process.env.BENCH_SMALL_ACCOUNTS ?? 1_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const WARM_SECONDS = Number(process.env.BENCH_WARM_SECONDS ?? 1)
// A freshly started server is warmed longer (its code is not yet compiled by V8), on URLs no
// measurement asks.
const FRESH_WARM_SECONDS = Number(process.env.BENCH_FRESH_WARM_SECONDS ?? 2)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8)
const NO_REUSE_RUN = process.env.BENCH_NO_REUSE === '1'
const PATCHES_PER_SECOND = Number(process.env.BENCH_PATCH_RATE ?? 50)
const SECRET_KEY = randomBytes(32).toString('base64url')
const PER_PAGE = 20
// Page 2,000 of the 100,000 (fewer with a smaller BENCH_OFFERINGS).
const DEEP_PAGE = Math.min(2_000, Math.floor(OFFERINGS / PER_PAGE) - 1)
const pgUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL

// Targets on SQLite (issues 3 and 9): ratio of the app's requests/s to the bare server's.
const TARGETS: Record<string, number> = {
  'single GET': 0.5,
  'list default': 0.35,
  'list filtered+sorted+fields': 0.3,
  'cursor page deep': 0.3,
  'GET random records': 0.5,
  'walk, pages in random order': 0.3,
  'filters selective': 0.25,
  'filters broad, sorted': 0.05,
  'walk+filters, 50 PATCH/s': 0.2,
}

// A seeded generator: the same BENCH_RANDOM_SEED draws the same URLs from the same data.
let randomState = Number(process.env.BENCH_RANDOM_SEED ?? 9) >>> 0
function random(): number {
  randomState = (randomState + 0x6d2b79f5) >>> 0
  let t = randomState
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[items[i], items[j]] = [items[j], items[i]]
  }
  return items
}

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

interface Offering {
  id: number
  name: string
  created_at: number
}

interface Seeded {
  token: string
  account: string
  serviceInstance: number
  offering: number
  deepBoundary: [string, number]
  offerings: Offering[]
  /** A small account with a token of its own: the light tenant beside the large one. */
  light: { token: string; account: string }
}

async function seedStore(store: Store): Promise<Seeded> {
  const database = openDatabase(store.url)
  try {
    await migrateToLatest(database)
    const account = `big-${randomBytes(3).toString('hex')}`
    await createAccount(database, account, 'Big provider')
    const { token } = await createToken(database, account)
    await seed(database, { account, offerings: OFFERINGS })
    let light: Seeded['light'] | undefined
    for (let i = 0; i < SMALL_ACCOUNTS; i++) {
      const small = `small-${i}-${randomBytes(2).toString('hex')}`
      await createAccount(database, small, `Small ${i}`)
      await seed(database, { account: small, offerings: 10 })
      if (!light) light = { account: small, token: (await createToken(database, small)).token }
    }
    const db = database.db as Kysely<any>
    await sql`analyze`.execute(db)
    const si = await db.selectFrom('service_instances').select('id').where('account_id', '=', account).executeTakeFirstOrThrow()
    const offering = await db.selectFrom('app_offerings').select('id').where('account_id', '=', account).orderBy('id').offset(Math.floor(OFFERINGS / 2)).limit(1).executeTakeFirstOrThrow()
    const deep = await db
      .selectFrom('app_offerings')
      .select(['name', 'id'])
      .where('account_id', '=', account)
      .orderBy('name')
      .orderBy('id')
      .offset(DEEP_PAGE * PER_PAGE - 1)
      .limit(1)
      .executeTakeFirstOrThrow()
    const rows = await db.selectFrom('app_offerings').select(['id', 'name', 'created_at']).where('account_id', '=', account).execute()
    const offerings = rows.map((r) => ({ id: Number(r.id), name: String(r.name), created_at: Number(r.created_at) }))
    return { token, account, serviceInstance: Number(si.id), offering: Number(offering.id), deepBoundary: [deep.name, Number(deep.id)], offerings, light: light! }
  } finally {
    await database.close()
  }
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')
const q = (text: string) => encodeURIComponent(text)

/** `count` distinct whole seconds drawn from [from, to]. */
function distinctSeconds(from: number, to: number, count: number): number[] {
  const span = to - from + 1
  if (span <= count * 2) return shuffle(Array.from({ length: span }, (_, i) => from + i)).slice(0, count)
  const picked = new Set<number>()
  while (picked.size < count) picked.add(from + Math.floor(random() * span))
  return [...picked]
}

interface Pools {
  /** Asked only during warm-ups: no measured URL is among them. */
  warm: string[]
  getRandom: string[]
  selective: string[]
  broad: string[]
}

/** The many-URL scenarios' URLs, drawn without replacement: no id or value serves two pools. */
function buildPools(offerings: Offering[]): Pools {
  const n = offerings.length
  const ids = shuffle(offerings.map((o) => o.id))
  const names = new Map(offerings.map((o) => [o.id, o.name]))
  let taken = 0
  const take = (count: number) => ids.slice(taken, (taken += count))
  const warmIds = take(Math.min(2_000, Math.ceil(n * 0.05)))
  const getIds = take(Math.min(20_000, Math.floor(n * 0.5)))
  const nameIds = take(Math.min(2_000, Math.floor(n * 0.05)))
  const listIds = take(5 * Math.min(2_000, Math.floor(n * 0.03)))
  const times = offerings.map((o) => o.created_at).sort((a, b) => a - b)
  const at = (share: number) => times[Math.min(n - 1, Math.floor(share * n))]
  const newest = distinctSeconds(at(0.99), times[n - 1], Math.min(2_000, nameIds.length))
  const half = distinctSeconds(at(0.45), at(0.55), Math.min(600, Math.max(20, Math.floor(n * 0.01))))
  const lists = (from: number[]) => Array.from({ length: Math.floor(from.length / 5) }, (_, i) => from.slice(i * 5, i * 5 + 5).join(','))
  const sorts = ['name', '-updated_at']
  const warmTimes = distinctSeconds(times[0], times[n - 1], 200)
  return {
    // The same kinds of requests as measured, with values no measured URL has (`>=` where the
    // measured ones say `>`), and offset pages (`page=`), which no measured URL uses.
    warm: shuffle([
      ...warmIds.map((id) => `/v1/app_offerings/${id}`),
      ...warmIds.slice(0, 300).map((id) => `/v1/app_offerings?name=${q(names.get(id)!)}`),
      ...lists(warmIds.slice(300, 1_300)).map((list) => `/v1/app_offerings?id=${list}`),
      ...warmTimes.map((t, i) => `/v1/app_offerings?created_at=${q(`>=${iso(t)}`)}${i % 3 === 0 ? `&sort=${sorts[i % 2]}` : ''}`),
      ...Array.from({ length: Math.min(100, Math.floor(n / PER_PAGE)) }, (_, i) => `/v1/app_offerings?page=${i + 2}`),
    ]),
    getRandom: getIds.map((id) => `/v1/app_offerings/${id}`),
    selective: shuffle([
      ...nameIds.map((id) => `/v1/app_offerings?name=${q(names.get(id)!)}`),
      ...lists(listIds).map((list) => `/v1/app_offerings?id=${list}`),
      ...newest.map((t) => `/v1/app_offerings?created_at=${q(`>${iso(t)}`)}`),
    ]),
    broad: half.map((t, i) => `/v1/app_offerings?created_at=${q(`>${iso(t)}`)}&sort=${sorts[i % 2]}`),
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
// Only with BENCH_NO_REUSE=1.
const NO_REUSE = { RECORD_CACHE_ENTRIES: '0', PAGE_CACHE_ENTRIES: '0' }

interface Startup {
  /** Wall time from spawn to the first 200 answer. */
  ms: number
  /** CPU time of the process (user + system) by then. */
  cpuMs: number
  /** VmHWM: the largest resident set so far. */
  maxRssMb: number
}

interface Server {
  origin: string
  child: ChildProcess
  startup?: Startup
}

const TICK_MICROS = 1_000_000 / 100 // USER_HZ

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(fields[11]) + Number(fields[12])
}

function maxRssMb(pid: number): number {
  const line = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return line ? Number(line[1]) / 1024 : 0
}

async function startApp(store: Store, env: Record<string, string> = {}): Promise<Server> {
  const port = await freePort()
  const t0 = performance.now()
  const child = spawn(process.execPath, ['bin/app-offerings.js', 'serve'], {
    env: { ...process.env, DATABASE_URL: store.url, PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT: 'off', SECRET_KEY, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const origin = `http://127.0.0.1:${port}`
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await request(`${origin}/v1`)
      await res.body.dump()
      if (res.statusCode === 200) {
        const startup = { ms: performance.now() - t0, cpuMs: (cpuTicks(child.pid!) * TICK_MICROS) / 1000, maxRssMb: maxRssMb(child.pid!) }
        return { origin, child, startup }
      }
    } catch {
      if (attempt > 1_000 || child.exitCode !== null) throw new Error('the server did not start')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
}

interface Recorded {
  status: number
  headers: Record<string, string>
  body?: string
  size?: number
}

async function startBare(answers: Record<string, Recorded>, filler: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare.ts'], { stdio: ['pipe', 'pipe', 'inherit'] })
  child.stdin!.end(JSON.stringify({ answers, filler }))
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

function keptHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const kept: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(name) || value === undefined) continue
    kept[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return kept
}

async function record(origin: string, path: string, headers: Record<string, string>): Promise<Recorded & { body: string }> {
  const res = await request(`${origin}${path}`, { headers })
  const body = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${body}`)
  return { status: res.statusCode, headers: keptHeaders(res.headers), body }
}

/** Every URL's status, headers and body size, `CONNECTIONS` at a time. */
async function recordSizes(origin: string, paths: string[], headers: Record<string, string>, into: Record<string, Recorded>): Promise<void> {
  const pool = new Pool(origin, { connections: CONNECTIONS })
  let next = 0
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++]
      const res = await pool.request({ method: 'GET', path, headers })
      const body = Buffer.from(await res.body.arrayBuffer())
      if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${body.toString()}`)
      into[path] = { status: res.statusCode, headers: keptHeaders(res.headers), size: body.length }
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, worker))
  await pool.close()
}

/** The whole collection by cursor: the first page's rel="next", then each page's, to the end. */
async function recordWalk(origin: string, headers: Record<string, string>, into: Record<string, Recorded>): Promise<string[]> {
  const client = new Client(origin)
  const pages: string[] = []
  let path: string | undefined = '/v1/app_offerings'
  while (path) {
    const res = await client.request({ method: 'GET', path, headers })
    const body = Buffer.from(await res.body.arrayBuffer())
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${body.toString()}`)
    const kept = keptHeaders(res.headers)
    if (pages.length > 0) into[path] = { status: res.statusCode, headers: kept, size: body.length }
    pages.push(path)
    path = /<[^>]*(\/v1\/app_offerings\?[^>]*)>; rel="next"/.exec(kept.link ?? '')?.[1]
  }
  await client.close()
  // The first page is the repeated "list default" scenario's URL.
  return pages.slice(1)
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
  note?: string
  /** The machine's 1-minute load average after the measurement. */
  load?: string
}

/** A load run against a server process, with the CPU that process spent per answer. */
async function measure(server: Server, target: Target, options: { seconds: number; connections: number; expect?: number }): Promise<Measured> {
  const before = cpuTicks(server.child.pid!)
  const result = await load(server.origin, target, options)
  return { ...result, cpuMicros: ((cpuTicks(server.child.pid!) - before) * TICK_MICROS) / Math.max(1, result.requests) }
}

const MAX_PATCHES_IN_FLIGHT = 16

/**
 * PATCHes of random offerings at `perSecond`, until stopped: sent on schedule whether or not the
 * previous ones were answered (at most 16 in flight, each on a connection of its own), so that a
 * busy server still gets its writes at the rate asked.
 */
/**
 * GETs of these paths, in turn, at `perSecond` (issue 11: one tenant's heavy reads beside the
 * light requests of another); stop() answers how many were sent.
 */
function pacedGets(origin: string, headers: Record<string, string>, paths: string[], perSecond: number): () => Promise<{ sent: number; errors: number }> {
  const pool = new Pool(origin, { connections: 4, pipelining: 1 })
  let sent = 0
  let errors = 0
  const pending = new Set<Promise<void>>()
  const timer = setInterval(() => {
    if (pending.size >= 4) return
    const path = paths[sent++ % paths.length]
    const done = (async () => {
      try {
        const res = await pool.request({ method: 'GET', path, headers })
        await res.body.dump({ limit: Infinity })
        if (res.statusCode !== 200) errors++
      } catch {
        errors++
      }
    })()
    pending.add(done)
    void done.then(() => pending.delete(done))
  }, 1000 / perSecond)
  return async () => {
    clearInterval(timer)
    await Promise.all(pending)
    await pool.close()
    return { sent, errors }
  }
}

function patchLoop(origin: string, headers: Record<string, string>, ids: number[], perSecond: number): () => Promise<{ sent: number; errors: number; rate: number }> {
  const pool = new Pool(origin, { connections: MAX_PATCHES_IN_FLIGHT, pipelining: 1 })
  let stopped = false
  let sent = 0
  let errors = 0
  let inFlight = 0
  const pending = new Set<Promise<void>>()
  const started = performance.now()
  const send = () => {
    const id = ids[Math.floor(random() * ids.length)]
    const k = ++sent
    inFlight++
    const done = (async () => {
      try {
        const res = await pool.request({
          method: 'PATCH',
          path: `/v1/app_offerings/${id}`,
          headers,
          body: JSON.stringify({ name: `Patched ${k} of ${id}`, card_description: `Patched during the bench, ${k}` }),
        })
        await res.body.dump({ limit: Infinity })
        if (res.statusCode !== 200) errors++
      } catch {
        errors++
      } finally {
        inFlight--
      }
    })()
    pending.add(done)
    void done.then(() => pending.delete(done))
  }
  const loop = (async () => {
    while (!stopped) {
      const due = Math.floor(((performance.now() - started) * perSecond) / 1000)
      while (sent < due && inFlight < MAX_PATCHES_IN_FLIGHT) send()
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  return async () => {
    stopped = true
    const elapsed = (performance.now() - started) / 1000
    await loop
    await Promise.all(pending)
    await pool.close()
    return { sent, errors, rate: sent / elapsed }
  }
}

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(8)

function targetOf(row: Row): number | undefined {
  return row.scenario.endsWith(NO_REUSE_LABEL) ? undefined : TARGETS[row.scenario]
}

function print(row: Row): void {
  row.load = load1()
  const ratio = row.bare ? row.app.rps / row.bare.rps : undefined
  const target = row.store === 'sqlite' ? targetOf(row) : undefined
  const verdict = ratio === undefined || target === undefined ? '' : ratio >= target ? `  (target ${target}: met)` : `  (target ${target}: MISSED)`
  process.stdout.write(
    `${row.store.padEnd(9)} ${row.scenario.padEnd(39)} app ${fmt(row.app.rps)} req/s p50 ${fmt(row.app.p50, 2)} ms p99 ${fmt(row.app.p99, 2)} ms` +
      ` cpu ${fmt(row.app.cpuMicros)} µs/req (${row.app.requests} req in ${row.app.elapsed.toFixed(1)} s)` +
      (row.bare ? ` | bare ${fmt(row.bare.rps)} req/s p50 ${fmt(row.bare.p50, 2)} p99 ${fmt(row.bare.p99, 2)} cpu ${fmt(row.bare.cpuMicros)} µs/req | ratio ${ratio!.toFixed(2)}${verdict}` : '') +
      (row.app.errors ? `  ${row.app.errors} unexpected answers` : '') +
      (row.note ? `  [${row.note}]` : '') +
      `  load ${row.load}\n`,
  )
}

const num = (n: number) => Math.round(n).toLocaleString('en-US')

function table(rows: Row[]): string {
  const lines = [
    '| store | scenario | app req/s | bare req/s | ratio | target (SQLite) | result | app CPU µs/req | bare CPU µs/req | app p50 ms | app p99 ms | app requests | load |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const row of rows) {
    const ratio = row.bare ? row.app.rps / row.bare.rps : undefined
    const target = targetOf(row)
    const result = ratio === undefined || target === undefined || row.store !== 'sqlite' ? '' : ratio >= target ? 'pass' : '**FAIL**'
    lines.push(
      `| ${row.store} | ${row.scenario}${row.note ? ` (${row.note})` : ''} | ${num(row.app.rps)} | ${row.bare ? num(row.bare.rps) : ''} | ${ratio === undefined ? '' : ratio.toFixed(2)} | ${target ?? ''} | ${result} | ${num(row.app.cpuMicros)} | ${row.bare ? num(row.bare.cpuMicros) : ''} | ${row.app.p50.toFixed(2)} | ${row.app.p99.toFixed(2)} | ${num(row.app.requests)}${row.app.errors ? `, ${row.app.errors} errors` : ''} | ${row.load ?? ''} |`,
    )
  }
  return lines.join('\n') + '\n'
}

const load1 = () => loadavg()[0].toFixed(1)
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

interface StoreReport {
  rows: Row[]
  startups: Startup[]
}

async function benchStore(store: Store): Promise<StoreReport> {
  const t0 = Date.now()
  const seeded = await seedStore(store)
  process.stdout.write(`${store.engine}: load average ${load1()} before seeding\n`)
  process.stdout.write(`${store.engine}: seeded ${OFFERINGS} + ${SMALL_ACCOUNTS} accounts x 10 offerings in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
  const headers = { authorization: `Bearer ${seeded.token}`, 'x-4me-account': seeded.account }
  const writeHeaders = { ...headers, 'content-type': 'application/json' }
  const pools = buildPools(seeded.offerings)
  const startups: Startup[] = []
  const rows: Row[] = []
  const started = (server: Server) => {
    if (server.startup) startups.push(server.startup)
    return server
  }

  // Recording, by a server process of its own that no measurement uses afterwards.
  const t1 = Date.now()
  const answers: Record<string, Recorded> = {}
  const recorder = started(await startApp(store))
  let repeated: Record<string, string>
  let walk: string[]
  let filler: string
  try {
    const first = await record(recorder.origin, '/v1/app_offerings', headers)
    filler = first.body
    const next = /<[^>]*(\/v1\/app_offerings\?[^>]*)>; rel="next"/.exec(first.headers.link)![1]
    const deep = encodeCursor(SECRET_KEY, { sort: 'name,id', values: seeded.deepBoundary, page: DEEP_PAGE + 1 })
    repeated = {
      'single GET': `/v1/app_offerings/${seeded.offering}`,
      'list default': '/v1/app_offerings',
      'list filtered+sorted+fields': '/v1/app_offerings?disabled=false&sort=-created_at&fields=name,reference,disabled,created_at',
      'cursor page 2': next,
      'cursor page deep': `/v1/app_offerings?search_after=${deep}`,
    }
    for (const path of Object.values(repeated)) answers[path] = await record(recorder.origin, path, headers)
    walk = shuffle(await recordWalk(recorder.origin, headers, answers))
    await recordSizes(recorder.origin, [...pools.getRandom, ...pools.selective, ...pools.broad], headers, answers)
    // One PATCH's answer, for the bare server's side of the write scenario (a warm-up record).
    const patchId = /\/(\d+)$/.exec(pools.warm.find((p) => /\/\d+$/.test(p))!)![1]
    const patched = await request(`${recorder.origin}/v1/app_offerings/${patchId}`, { method: 'PATCH', headers: writeHeaders, body: JSON.stringify({ card_description: 'Patched before the bench' }) })
    answers.PATCH = { status: patched.statusCode, headers: keptHeaders(patched.headers), body: await patched.body.text() }
  } finally {
    await stop(recorder.child)
  }
  const recordedCount = Object.keys(answers).length
  process.stdout.write(`${store.engine}: recorded ${recordedCount} answers (a walk of ${walk.length + 1} pages) in ${((Date.now() - t1) / 1000).toFixed(1)} s\n`)

  const bare = await startBare(answers, filler)
  const options = { seconds: SECONDS, connections: CONNECTIONS }
  const warmTarget: Target = { path: drawn(pools.warm, { cycle: true }), headers }
  try {
    // Repeated URLs, on one server process (and one that reuses nothing, with BENCH_NO_REUSE=1).
    const app = started(await startApp(store))
    const cold = NO_REUSE_RUN ? started(await startApp(store, NO_REUSE)) : undefined
    try {
      for (const [scenario, path] of Object.entries(repeated)) {
        const target = { path, headers }
        await load(app.origin, target, { ...options, seconds: WARM_SECONDS })
        const appResult = await measure(app, target, options)
        await load(bare.origin, target, { ...options, seconds: WARM_SECONDS })
        const bareResult = await measure(bare, target, options)
        const row: Row = { store: store.engine, scenario, app: appResult, bare: bareResult }
        print(row)
        rows.push(row)
        if (cold) {
          await load(cold.origin, target, { ...options, seconds: WARM_SECONDS })
          const coldRow: Row = { store: store.engine, scenario: scenario + NO_REUSE_LABEL, app: await measure(cold, target, options), bare: bareResult }
          print(coldRow)
          rows.push(coldRow)
        }
      }
    } finally {
      await stop(app.child)
      if (cold) await stop(cold.child)
    }

    // Many URLs, each asked once, each scenario on a freshly started server warmed on other URLs.
    const traffic: Array<{ scenario: string; urls: string[]; patches?: boolean }> = [
      { scenario: 'GET random records', urls: pools.getRandom },
      { scenario: 'walk, pages in random order', urls: walk },
      { scenario: 'filters selective', urls: pools.selective },
      { scenario: 'filters broad, sorted', urls: pools.broad },
      // Pages and filters again, in another order, on another fresh server: none asked before there.
      { scenario: 'walk+filters, 50 PATCH/s', urls: shuffle([...walk, ...pools.selective]), patches: true },
    ]
    let last: Server | undefined
    for (const { scenario, urls, patches } of traffic) {
      const app = started(await startApp(store))
      try {
        await load(app.origin, warmTarget, { ...options, seconds: FRESH_WARM_SECONDS })
        let stopPatches = patches ? patchLoop(app.origin, writeHeaders, seeded.offerings.map((o) => o.id), PATCHES_PER_SECOND) : undefined
        const appResult = await measure(app, { path: drawn(urls), headers }, options)
        const appPatches = await stopPatches?.()
        await load(bare.origin, { path: drawn(urls, { cycle: true }), headers }, { ...options, seconds: WARM_SECONDS })
        stopPatches = patches ? patchLoop(bare.origin, writeHeaders, [1], PATCHES_PER_SECOND) : undefined
        const bareResult = await measure(bare, { path: drawn(urls, { cycle: true }), headers }, options)
        await stopPatches?.()
        const note = appPatches ? `${appPatches.sent} PATCHes at ${appPatches.rate.toFixed(0)}/s${appPatches.errors ? `, ${appPatches.errors} failed` : ''}` : undefined
        const row: Row = { store: store.engine, scenario, app: appResult, bare: bareResult, note }
        print(row)
        rows.push(row)
      } finally {
        if (scenario === traffic.at(-1)!.scenario) last = app
        else await stop(app.child)
      }
    }

    // Creates, on the last server.
    try {
      let n = 0
      const run = randomBytes(3).toString('hex')
      const create: Target = {
        method: 'POST',
        path: '/v1/app_offerings',
        headers: writeHeaders,
        body: () =>
          JSON.stringify({ name: `Bench ${run} ${++n}`, service_instance_id: seeded.serviceInstance, policy_jwt_alg: 'rs256', webhook_uri_template: 'https://hooks.example.com/{account}' }),
      }
      const created: Row = { store: store.engine, scenario: 'create', app: await measure(last!, create, { ...options, expect: 201 }) }
      print(created)
      rows.push(created)
    } finally {
      if (last) await stop(last.child)
    }
    // A light tenant beside a heavy one (issue 11): the small account's requests alone, then while
    // the large account sends heavy lists (broad filters sorted, multi-key sorts, deep offsets) at 8/s.
    const neighbour = await startApp(store)
    try {
      const lightHeaders = { authorization: `Bearer ${seeded.light.token}`, 'x-4me-account': seeded.light.account }
      const light: Target = { path: drawn(['/v1/app_offerings', '/v1/app_offerings?per_page=5', '/v1/app_offerings?sort=-created_at', '/v1/service_instances'], { cycle: true }), headers: lightHeaders }
      const heavy = [...pools.broad.slice(0, 40), '/v1/app_offerings?sort=sourceID,-name&per_page=100', '/v1/app_offerings?per_page=100&page=100&sort=-updated_at,sourceID&reference!=x']
      await load(neighbour.origin, light, { ...options, seconds: WARM_SECONDS })
      const alone = await measure(neighbour, light, options)
      const stopHeavy = pacedGets(neighbour.origin, headers, heavy, 8)
      const beside = await measure(neighbour, light, options)
      const heavySent = await stopHeavy()
      process.stdout.write(
        `${store.engine.padEnd(9)} light tenant beside a heavy one (${heavySent.sent} heavy lists at 8/s, ${heavySent.errors} failed): ` +
          `p50 ${alone.p50.toFixed(2)} -> ${beside.p50.toFixed(2)} ms, p99 ${alone.p99.toFixed(2)} -> ${beside.p99.toFixed(2)} ms, ${alone.rps.toFixed(0)} -> ${beside.rps.toFixed(0)} req/s\n`,
      )
    } finally {
      await stop(neighbour.child)
    }
  } finally {
    await stop(bare.child)
  }
  process.stdout.write(`${store.engine}: load average ${load1()} at the end\n`)
  return { rows, startups }
}

const stores: Store[] = [await sqliteStore()]
if (pgUrl && process.env.BENCH_STORES !== 'sqlite') stores.push(await postgresStore(pgUrl))
const began = new Date()
process.stdout.write(
  `bench: ${OFFERINGS} offerings + ${SMALL_ACCOUNTS} small accounts, ${SECONDS} s per measurement (${WARM_SECONDS} s warm-up, ${FRESH_WARM_SECONDS} s on a fresh server), ${CONNECTIONS} connections, node ${process.version}, ` +
    `started ${began.toISOString()}\n`,
)
const reports = new Map<string, StoreReport>()
try {
  for (const store of stores) reports.set(store.engine, await benchStore(store))
} finally {
  for (const store of stores) await store.drop()
}
const rows = [...reports.values()].flatMap((r) => r.rows)
const byScenario = (store: string, scenario: string) => rows.find((r) => r.store === store && r.scenario === scenario)
process.stdout.write(`\nResults (${new Date().toISOString()}, run took ${((Date.now() - began.getTime()) / 1000).toFixed(0)} s; targets apply to SQLite):\n\n`)
process.stdout.write(table(rows))
process.stdout.write('\n')
for (const store of stores) {
  for (const suffix of ['', NO_REUSE_LABEL]) {
    const deep = byScenario(store.engine, `cursor page deep${suffix}`)
    const second = byScenario(store.engine, `cursor page 2${suffix}`)
    if (deep && second) {
      process.stdout.write(`${store.engine}${suffix}: cursor page ${DEEP_PAGE} costs ${(second.app.rps / deep.app.rps).toFixed(2)}x page 2 (target on sqlite: <= 1.5)\n`)
    }
  }
  const startups = reports.get(store.engine)?.startups ?? []
  if (startups.length > 0) {
    const first = startups[0]
    process.stdout.write(
      `${store.engine}: start-up to the first answer, ${startups.length} starts: median ${median(startups.map((s) => s.ms)).toFixed(0)} ms wall, ` +
        `${median(startups.map((s) => s.cpuMs)).toFixed(0)} ms CPU, max RSS ${median(startups.map((s) => s.maxRssMb)).toFixed(1)} MB ` +
        `(first start: ${first.ms.toFixed(0)} ms, ${first.cpuMs.toFixed(0)} ms CPU, ${first.maxRssMb.toFixed(1)} MB)\n`,
    )
  }
}
// Webhook deliveries per algorithm and installs per algorithm (bench/webhooks.ts).
if (process.env.BENCH_WEBHOOKS !== '0') {
  process.stdout.write('\n')
  await benchWebhooks(pgUrl)
}
