// npm run bench:webhooks (and the end of npm run bench): webhook deliveries per second per
// algorithm, and how long an install takes per algorithm (docs/benchmarks.md). Against real
// processes of the built command, per store:
// - installs: the API server answers POST /v1/app_instances, which makes a policy with a fresh
//   key pair, a webhook and two outbox events in one transaction; measured one at a time, paced
//   (one every INSTALL_GAP_MS, as installs come) and back to back (the key pool runs dry);
// - deliveries: WEBHOOKS webhooks per algorithm, EVENTS events each, waiting in the outbox; one
//   `app-offerings worker` is started and timed until a local receiver has accepted them all.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { Pool } from 'undici'
import { setTrust } from '../src/cli/trust.ts'
import { createAccount } from '../src/storage/accounts.ts'
import { openDatabase } from '../src/storage/database.ts'
import { migrateToLatest } from '../src/storage/migrate.ts'
import { createToken } from '../src/storage/tokens.ts'

const ALGORITHMS = ['rs256', 'rs384', 'rs512', 'es256', 'es384', 'es512'] as const
const INSTALLS = Number(process.env.BENCH_INSTALLS ?? 20)
const INSTALL_GAP_MS = Number(process.env.BENCH_INSTALL_GAP_MS ?? 500)
const WEBHOOKS = Number(process.env.BENCH_WEBHOOKS ?? 16)
const EVENTS = Number(process.env.BENCH_EVENTS ?? 25)
const SECRET_KEY = randomBytes(32).toString('base64url')
const BIN = new URL('../bin/app-offerings.js', import.meta.url).pathname

interface Store {
  engine: 'sqlite' | 'postgres'
  url: string
  drop(): Promise<void>
}

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as { port: number }
  probe.close()
  return port
}

function run(args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, RATE_LIMIT: 'off', LOG_LEVEL: 'info', SECRET_KEY, WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '50', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c))
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c))
  return { child, output: () => output }
}

async function started(output: () => string, text: string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`did not start:\n${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  child.kill('SIGTERM')
  await once(child, 'exit')
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const p90 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)]

async function benchStore(store: Store): Promise<string[]> {
  const database = openDatabase(store.url)
  await migrateToLatest(database)
  const run_ = randomBytes(3).toString('hex')
  const provider = `p${run_}`
  const customer = `c${run_}`
  await createAccount(database, provider, 'Provider')
  await createAccount(database, customer, 'Customer')
  await setTrust(database, customer, provider, true)
  const providerToken = (await createToken(database, provider, { scope: 'write' })).token
  const customerToken = (await createToken(database, customer, { scope: 'write' })).token
  await database.close()

  // The receiver: accepts everything at once, counts per algorithm.
  const received = new Map<string, number>()
  const receiver = createHttpServer((req, res) => {
    const alg = (req.url ?? '').split('/')[1]
    received.set(alg, (received.get(alg) ?? 0) + 1)
    req.resume()
    req.on('end', () => res.writeHead(204).end())
  }).listen(0, '127.0.0.1')
  await once(receiver, 'listening')
  const hooks = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`

  const port = await freePort()
  // The API alone: deliveries wait for the worker measured below.
  const api = run(['serve'], { DATABASE_URL: store.url, PORT: String(port), HOST: '127.0.0.1', WEBHOOK_WORKER: 'false' })
  const lines: string[] = []
  try {
    await started(api.output, '"msg":"listening"')
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 4 })
    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await pool.request({ method: method as 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
      const text = await res.body.text()
      if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`)
      return JSON.parse(text)
    }
    const service = await call(providerToken, 'POST', '/v1/service_instances', { name: 'Bench' })
    const publish = async (alg: string, n: number) => {
      const draft = await call(providerToken, 'POST', '/v1/app_offerings', {
        name: `Bench ${alg} ${n}`,
        service_instance_id: service.id,
        policy_jwt_alg: alg,
        policy_jwt_audience: 'bench',
        policy_jwt_claim_expires_in: 5,
        webhook_uri_template: `${hooks}/${alg}/{account}/${n}`,
      })
      return (await call(providerToken, 'POST', `/v1/app_offerings/${draft.id}/publish`)).id as number
    }

    for (const [label, gap] of [['paced', INSTALL_GAP_MS], ['back to back', 0]] as const) {
      for (const alg of ALGORITHMS) {
        const versions: number[] = []
        for (let i = 0; i < INSTALLS; i++) versions.push(await publish(alg, versions.length + (label === 'paced' ? 0 : 1000)))
        // One unmeasured install: the pool of this algorithm starts filling.
        await call(customerToken, 'POST', '/v1/app_instances', { app_offering_id: versions.shift() })
        await new Promise((resolve) => setTimeout(resolve, gap))
        const took: number[] = []
        for (const id of versions) {
          const t0 = performance.now()
          await call(customerToken, 'POST', '/v1/app_instances', { app_offering_id: id })
          took.push(performance.now() - t0)
          if (gap) await new Promise((resolve) => setTimeout(resolve, gap))
        }
        lines.push(`| ${store.engine} | install, ${label}${gap ? ` (1 per ${gap} ms)` : ''} | ${alg} | ${median(took).toFixed(1)} ms | ${p90(took).toFixed(1)} ms | ${took.length} installs |`)
        process.stdout.write(`${lines.at(-1)}\n`)
      }
    }

    const total = () => [...received.values()].reduce((a, b) => a + b, 0)
    const until = async (count: number, what: string, output: () => string) => {
      const deadline = Date.now() + 600_000
      while (total() < count) {
        if (Date.now() > deadline) throw new Error(`${what} did not finish: ${JSON.stringify([...received])}\n${output()}`)
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    }
    // The installs above left their events in the outbox: sent first, not measured.
    const installEvents = ALGORITHMS.length * INSTALLS * 2 * 2
    const drain = run(['worker'], { DATABASE_URL: store.url, LOG_LEVEL: 'warn', PORT: String(port) })
    await until(installEvents, 'the installs\' deliveries', drain.output)
    await stop(drain.child)

    // Per algorithm: its events wait in the outbox, then one worker sends them, timed from its
    // first accepted delivery to its last (the worker's start-up is not counted).
    for (const alg of ALGORITHMS) {
      const policy = await call(providerToken, 'POST', '/v1/webhook_policies', { jwt_alg: alg, jwt_audience: 'bench', jwt_claim_expires_in: 5 })
      for (let w = 0; w < WEBHOOKS; w++) {
        const hook = await call(providerToken, 'POST', '/v1/webhooks', { event: 'webhook.verify', uri: `${hooks}/${alg}/own/${w}/0`, webhook_policy_id: policy.id })
        for (let e = 1; e < EVENTS; e++) await call(providerToken, 'PATCH', `/v1/webhooks/${hook.id}`, { uri: `${hooks}/${alg}/own/${w}/${e}` })
      }
      const before = total()
      const worker = run(['worker'], { DATABASE_URL: store.url, LOG_LEVEL: 'warn', PORT: String(port) })
      await until(before + 1, 'the first delivery', worker.output)
      const t0 = performance.now()
      await until(before + WEBHOOKS * EVENTS, `${alg} deliveries`, worker.output)
      const seconds = (performance.now() - t0) / 1000
      await stop(worker.child)
      lines.push(`| ${store.engine} | deliveries (${WEBHOOKS} webhooks, 1 worker) | ${alg} | ${((WEBHOOKS * EVENTS - 1) / seconds).toFixed(0)} /s | | ${WEBHOOKS * EVENTS} deliveries in ${seconds.toFixed(2)} s |`)
      process.stdout.write(`${lines.at(-1)}\n`)
    }
    await pool.close()
  } finally {
    await stop(api.child)
    receiver.close()
  }
  return lines
}

async function sqliteStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'app-offerings-bench-webhooks-'))
  return { engine: 'sqlite', url: `sqlite:${join(dir, 'bench.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) }
}

async function postgresStore(url: string): Promise<Store> {
  const schema = `bench_webhooks_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`create schema ${schema}`)
  await admin.end()
  return {
    engine: 'postgres',
    url: `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    async drop() {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      await client.query(`drop schema ${schema} cascade`)
      await client.end()
    },
  }
}

/** Runs the webhook scenarios on SQLite and, with a PostgreSQL URL, on PostgreSQL; prints a Markdown table. */
export async function benchWebhooks(pgUrl: string | undefined = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL): Promise<void> {
  process.stdout.write(`webhooks: ${INSTALLS} installs per algorithm, ${WEBHOOKS} webhooks x ${EVENTS} events per algorithm, load average ${loadavg()[0].toFixed(2)}\n`)
  const stores = [await sqliteStore(), ...(pgUrl && process.env.BENCH_STORES !== 'sqlite' ? [await postgresStore(pgUrl)] : [])]
  const lines = ['| store | scenario | algorithm | median / rate | p90 | measured |', '| --- | --- | --- | ---: | ---: | --- |']
  try {
    for (const store of stores) lines.push(...(await benchStore(store)))
  } finally {
    for (const store of stores) await store.drop()
  }
  process.stdout.write(`\n${lines.join('\n')}\n\nload average ${loadavg()[0].toFixed(2)} at the end\n`)
}

if (import.meta.url === `file://${process.argv[1]}`) await benchWebhooks()
