// Storage faults: the database answers but cannot write. SQLite on a small tmpfs that is filled
// up (root only: it mounts one), PostgreSQL through connections that are read-only. Writes answer
// 503 with Retry-After (never a 500, never "cannot rollback"), the cause is logged once, /readyz
// reports it until a write succeeds again, reads keep working, and once space returns the server
// writes again by itself, with nothing half-written (src/platform/faults.ts).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { Client, provision, spawnServer, type ServerProcess, type Tenant } from '../support/server-process.ts'
import { engines, freshStore, type TestStore } from '../support/stores.ts'
import { openDatabase } from '../../src/storage/database.ts'

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const offering = (si: number, n: number | string) => ({
  name: `Offering ${n}`,
  service_instance_id: si,
  policy_jwt_alg: 'rs256',
  webhook_uri_template: 'https://hooks.example.com/{account}/notes',
  description: `text ${n} `.padEnd(60_000, 'lorem ipsum '),
})

/** A tmpfs of a few MB (root only); undefined where it cannot be mounted. */
function smallDisk(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'app-offerings-full-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'ignore' })
    return dir
  } catch {
    rmSync(dir, { recursive: true, force: true })
    return undefined
  }
}

/** Fills a file system: the filler file, written until ENOSPC. */
function fill(dir: string): string {
  const path = join(dir, 'filler')
  const fd = openSync(path, 'w')
  try {
    for (;;) writeSync(fd, Buffer.alloc(16 * 1024))
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC')
  } finally {
    closeSync(fd)
  }
  return path
}

/** The server's output once it holds `pattern` (the log is flushed every 500 ms), within 5 s. */
async function outputWith(server: ServerProcess, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 50 && !pattern.test(server.output()); i++) await pause(100)
  return server.output()
}

function assertServiceUnavailable(res: { status: number; text: string; headers: Record<string, unknown> }, label: string) {
  assert.equal(res.status, 503, `${label}: ${res.status} ${res.text}`)
  assert.deepEqual(JSON.parse(res.text), { message: 'Service Unavailable' })
  assert.match(String(res.headers['retry-after']), /^\d+$/)
}

const disk = smallDisk()
describe('a full disk under SQLite', { skip: disk ? false : 'needs root to mount a small tmpfs' }, () => {
  let server: ServerProcess
  let tenant: Tenant
  let client: Client
  let url: string
  let si: number
  const created: number[] = []

  before(async () => {
    url = `sqlite:${join(disk!, 'db', 'test.db')}`
    const store: TestStore = { engine: 'sqlite', url, open: () => openDatabase(url), drop: async () => {} }
    ;[tenant] = await provision(store, 1)
    server = await spawnServer(url, { LOG_LEVEL: 'info' })
    client = new Client(server.origin, tenant.token, 4)
    si = (await client.call('POST', '/v1/service_instances', { name: 'Before' })).json().id
    for (let i = 0; i < 3; i++) created.push((await client.call('POST', '/v1/app_offerings', offering(si, i))).json().id)
  })
  after(async () => {
    await client?.close()
    await server?.stop()
    try {
      execFileSync('umount', [disk!], { stdio: 'ignore' })
    } finally {
      rmSync(disk!, { recursive: true, force: true })
    }
  })

  it('answers writes 503 with Retry-After, says why in /readyz, and recovers once space returns', async () => {
    const filler = fill(disk!)
    // A write may still fit in a free page of the WAL; a few of 60 KB cannot.
    const statuses: number[] = []
    for (let i = 0; i < 10 && !statuses.includes(503); i++) {
      const res = await client.call('POST', '/v1/app_offerings', offering(si, `full ${i}`))
      if (res.status === 201) created.push(res.json().id)
      else assertServiceUnavailable(res, 'a create on a full disk')
      statuses.push(res.status)
    }
    assert.ok(statuses.includes(503), `no write failed on a full disk: ${statuses}`)
    assertServiceUnavailable(await client.call('PATCH', `/v1/app_offerings/${created[0]}`, { description: 'x'.repeat(60_000) }), 'an update')
    assertServiceUnavailable(await client.call('POST', '/v1/app_offerings', offering(si, 'again')), 'another create')

    const read = await client.call('GET', `/v1/app_offerings/${created[0]}`)
    assert.equal(read.status, 200, 'reads keep working')
    assert.equal(read.json().name, 'Offering 0', 'the refused update changed nothing')

    const ready = await client.call('GET', '/readyz')
    assert.equal(ready.status, 503)
    assert.match(String(ready.headers['retry-after']), /^\d+$/)
    assert.equal(ready.json().status, 'unavailable')
    assert.equal(ready.json().database, 'writes failing: disk full (SQLITE_FULL)')

    const output = await outputWith(server, /storage fault: disk full/)
    assert.equal(output.match(/storage fault: disk full \(SQLITE_FULL\)/g)?.length, 1, 'the cause is logged once')
    assert.doesNotMatch(output, /cannot rollback|unhandled error/)

    // Space returns: /readyz finds out by itself (its probe write succeeds), and writes work.
    rmSync(filler)
    let again = await client.call('GET', '/readyz')
    for (let i = 0; i < 20 && again.status !== 200; i++) {
      await pause(250)
      again = await client.call('GET', '/readyz')
    }
    assert.equal(again.status, 200, again.text)
    assert.equal(again.json().database, 'ok')
    const res = await client.call('POST', '/v1/app_offerings', offering(si, 'after'))
    assert.equal(res.status, 201, res.text)
    created.push(res.json().id)
    assert.match(await outputWith(server, /storage fault over/), /storage fault over: writes succeed again/)

    // Nothing half-written: exactly the acknowledged records, whole.
    const list = (await client.call('GET', '/v1/app_offerings?per_page=100&fields=description')).json()
    assert.deepEqual(list.map((r: { id: number }) => r.id).sort((a: number, b: number) => a - b), [...created].sort((a, b) => a - b))
    for (const record of list) assert.equal(record.description.length, 60_000)
  })
})

if (engines.includes('postgres')) {
  describe('a read-only PostgreSQL', () => {
    let store: TestStore
    let server: ServerProcess
    let tenant: Tenant
    let client: Client
    let admin: pg.Client
    // A role of this test alone, whose connections are made read-only and writable again, as a
    // database set read-only to stop it filling up would be; only its sessions are terminated.
    const role = `ao_ro_${process.pid}_${Date.now()}`
    const switchTo = async (readOnly: boolean) => {
      await admin.query(readOnly ? `alter role ${role} set default_transaction_read_only = on` : `alter role ${role} reset default_transaction_read_only`)
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where usename = $1', [role])
    }

    before(async () => {
      store = await freshStore('postgres')
      ;[tenant] = await provision(store, 1)
      admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL })
      await admin.connect()
      const schema = /search_path%3D(\w+)/.exec(store.url)![1]
      await admin.query(`create role ${role} login`)
      await admin.query(`grant all on schema ${schema} to ${role}`)
      await admin.query(`grant all on all tables in schema ${schema} to ${role}`)
      await admin.query(`grant all on all sequences in schema ${schema} to ${role}`)
      const url = new URL(store.url)
      url.username = role
      server = await spawnServer(url.href, { LOG_LEVEL: 'info' })
      client = new Client(server.origin, tenant.token, 4)
    })
    after(async () => {
      await client?.close()
      await server?.stop()
      await store?.drop()
      await admin?.query(`drop owned by ${role}`).catch(() => {})
      await admin?.query(`drop role if exists ${role}`).catch(() => {})
      await admin?.end()
    })

    it('answers writes 503 with Retry-After and says why in /readyz while reads work, then recovers', async () => {
      assert.equal((await client.call('POST', '/v1/service_instances', { name: 'Before' })).status, 201)
      await switchTo(true)
      // The first request after the sessions were killed may meet a dead connection (503 too).
      for (let i = 0; i < 3; i++) assertServiceUnavailable(await client.call('POST', '/v1/service_instances', { name: `Refused ${i}` }), 'a create')
      assert.equal((await client.call('GET', '/v1/service_instances')).status, 200, 'reads keep working')
      const ready = await client.call('GET', '/readyz')
      assert.equal(ready.status, 503)
      assert.equal(ready.json().database, 'writes failing: read-only (PostgreSQL 25006 read_only_sql_transaction)')
      const output = await outputWith(server, /storage fault: read-only/)
      assert.equal(output.match(/storage fault: read-only/g)?.length, 1, 'the cause is logged once')
      assert.doesNotMatch(output, /unhandled error/)

      await switchTo(false)
      let again = await client.call('GET', '/readyz')
      for (let i = 0; i < 20 && again.status !== 200; i++) {
        await pause(250)
        again = await client.call('GET', '/readyz')
      }
      assert.equal(again.status, 200, again.text)
      assert.equal((await client.call('POST', '/v1/service_instances', { name: 'After' })).status, 201)
      const names = (await client.call('GET', '/v1/service_instances')).json().map((r: { name: string }) => r.name)
      assert.deepEqual(names.sort(), ['After', 'Before'], 'nothing refused was stored')
    })
  })
}
