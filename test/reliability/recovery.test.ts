// Recovery. PostgreSQL: the server's connections are killed under load (pg_terminate_backend, as
// CI cannot restart its database), then the database is cut off entirely (a TCP proxy between the
// two): the server answers 503 with the spec body while the database is away, recovers by itself,
// and loses nothing it acknowledged. SQLite: a second process holding write transactions makes
// requests wait, never fail, and never corrupts the file.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { after, before, describe, it } from 'node:test'
import { sql } from 'kysely'
import pg from 'pg'
import { Client, provision, spawnServer, withApplicationName, type ServerProcess, type Tenant } from '../support/server-process.ts'
import { engines, freshStore, type TestStore } from '../support/stores.ts'
import { tcpProxy, type TcpProxy } from '../support/tcp-proxy.ts'
import { runWorkload, setUp, verify } from '../support/workload.ts'

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

if (engines.includes('postgres')) {
  describe('recovery from lost database connections (postgres)', () => {
    let store: TestStore
    let tenant: Tenant
    let proxy: TcpProxy
    let server: ServerProcess
    let client: Client
    let admin: pg.Client
    // Only this server's connections carry this name: other tests' connections are never hit.
    const applicationName = `ao-recovery-${process.pid}-${Date.now()}`

    before(async () => {
      store = await freshStore('postgres')
      ;[tenant] = await provision(store, 1)
      const direct = new URL(process.env.TEST_DATABASE_URL!)
      proxy = await tcpProxy(direct.hostname, Number(direct.port || 5432))
      const proxied = new URL(store.url)
      proxied.hostname = '127.0.0.1'
      proxied.port = String(proxy.port)
      server = await spawnServer(withApplicationName(proxied.href, applicationName))
      client = new Client(server.origin, tenant.token, 32)
      admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL })
      await admin.connect()
    })
    after(async () => {
      await client?.close()
      await server?.kill()
      await proxy?.close()
      await admin?.end()
      await store?.drop()
    })

    const terminate = async () => {
      const result = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [applicationName])
      return result.rowCount ?? 0
    }

    it('keeps every acknowledged write while its connections are killed under load', async (t) => {
      const serviceInstanceId = await setUp(client)
      let killed = 0
      let killing: Promise<void> = Promise.resolve()
      const ledger = await runWorkload(client, serviceInstanceId, {
        creates: 200,
        chains: 12,
        chainLength: 8,
        tolerated: [503],
        retryChains: true,
        fault: {
          after: 40,
          inject: () => {
            killing = (async () => {
              for (let round = 0; round < 6; round++) {
                killed += await terminate()
                await pause(60)
              }
            })()
          },
        },
      })
      await killing
      assert.ok(killed > 0, 'no connection was killed')
      // Whatever was refused was refused with a 503 (the workload throws on anything else).
      assert.deepEqual([...ledger.refused.keys()].filter((status) => status !== '503'), [])
      const database = store.open()
      try {
        const verdict = await verify(client, database, ledger)
        assert.deepEqual(verdict.problems, [])
        assert.equal(verdict.lost, 0)
        t.diagnostic(`sent ${ledger.sent}, acknowledged ${ledger.acknowledged}, connections killed ${killed}, 503 ${ledger.refused.get('503') ?? 0}, checked ${verdict.checked}, lost ${verdict.lost}`)
      } finally {
        await database.close()
      }
    })

    it('answers 503 with the spec body while the database is away, and recovers by itself', async () => {
      const serviceInstanceId = await setUp(client)
      await proxy.cut()
      try {
        for (const [method, path, body] of [
          ['GET', '/v1/app_offerings', undefined],
          ['GET', `/v1/service_instances/${serviceInstanceId}`, undefined],
          ['POST', '/v1/service_instances', { name: 'While away' }],
        ] as const) {
          const res = await client.call(method, path, body)
          assert.equal(res.status, 503, `${method} ${path}: ${res.status} ${res.text}`)
          assert.deepEqual(res.json(), { message: 'Service Unavailable' })
          assert.match(String(res.headers['retry-after']), /^\d+$/)
        }
      } finally {
        await proxy.restore()
      }
      // Back without a restart: the first requests may still meet a dead pooled connection.
      let status = 0
      for (let attempt = 0; attempt < 50 && status !== 201; attempt++) {
        const res = await client.call('POST', '/v1/service_instances', { name: 'After' })
        status = res.status
        if (status !== 201) {
          assert.equal(status, 503, res.text)
          await pause(100)
        }
      }
      assert.equal(status, 201)
      const list = await client.call('GET', '/v1/service_instances?name=While%20away')
      assert.deepEqual(list.json(), [], 'a write refused with 503 was stored')
    })
  })
}

if (engines.includes('sqlite')) {
  describe('a busy SQLite database (sqlite)', () => {
    let store: TestStore
    let tenant: Tenant
    let server: ServerProcess
    let client: Client

    before(async () => {
      store = await freshStore('sqlite')
      ;[tenant] = await provision(store, 1)
      server = await spawnServer(store.url)
      client = new Client(server.origin, tenant.token, 16)
    })
    after(async () => {
      await client?.close()
      await server?.stop()
      await store?.drop()
    })

    it('makes requests wait for a second process holding write transactions, and fails none', async (t) => {
      const serviceInstanceId = await setUp(client)
      // The other process takes the write lock 25 times for 150 ms: well within busy_timeout.
      const writer = spawn(
        process.execPath,
        [
          '-e',
          `const db = new (require('better-sqlite3'))(process.argv[1]);
           db.pragma('busy_timeout = 5000');
           db.exec('create table if not exists other_writer (n integer)');
           const hold = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
           for (let i = 0; i < 25; i++) {
             db.exec('begin immediate');
             db.prepare('insert into other_writer values (?)').run(i);
             hold(150);
             db.exec('commit');
             hold(20);
           }`,
          store.url.slice('sqlite:'.length),
        ],
        { cwd: process.cwd(), stdio: ['ignore', 'inherit', 'inherit'] },
      )
      const [ledger, [code]] = await Promise.all([runWorkload(client, serviceInstanceId, { creates: 150, chains: 10, chainLength: 6 }), once(writer, 'exit')])
      assert.equal(code, 0, 'the other writer failed')
      assert.equal(ledger.refused.size, 0, JSON.stringify(Object.fromEntries(ledger.refused)))
      const database = store.open()
      try {
        const verdict = await verify(client, database, ledger)
        assert.deepEqual(verdict.problems, [])
        assert.equal(verdict.lost, 0)
        const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(database.db)
        assert.deepEqual(check.rows, [{ integrity_check: 'ok' }])
        const other = await sql<{ n: number }>`select count(*) as n from other_writer`.execute(database.db)
        assert.equal(Number(other.rows[0].n), 25)
        t.diagnostic(`sent ${ledger.sent}, acknowledged ${ledger.acknowledged}, other writer's transactions 25, checked ${verdict.checked}, lost ${verdict.lost}`)
      } finally {
        await database.close()
      }
    })
  })
}
