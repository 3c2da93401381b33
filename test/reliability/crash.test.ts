// Crash safety: a server process killed with SIGKILL in the middle of concurrent writes loses
// nothing it acknowledged and leaves nothing half-written, on every store.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sql } from 'kysely'
import { Client, provision, spawnServer, type ServerProcess, type Tenant } from '../support/server-process.ts'
import { engines, freshStore, type TestStore } from '../support/stores.ts'
import { runWorkload, setUp, verify } from '../support/workload.ts'

for (const engine of engines) {
  describe(`crash safety (${engine})`, () => {
    let store: TestStore
    let tenant: Tenant
    const servers: ServerProcess[] = []
    const clients: Client[] = []

    before(async () => {
      store = await freshStore(engine)
      ;[tenant] = await provision(store, 1)
    })
    after(async () => {
      for (const client of clients) await client.close()
      for (const server of servers) await server.kill()
      await store.drop()
    })

    const start = async () => {
      const server = await spawnServer(store.url)
      const client = new Client(server.origin, tenant.token, 32)
      servers.push(server)
      clients.push(client)
      return { server, client }
    }

    it('keeps every acknowledged create and update through a SIGKILL mid-way', async (t) => {
      const first = await start()
      const serviceInstanceId = await setUp(first.client)
      const ledger = await runWorkload(first.client, serviceInstanceId, {
        creates: 240,
        chains: 20,
        chainLength: 8,
        fault: { after: 130, inject: () => first.server.kill() },
      })
      // The kill came while requests were in flight: some were acknowledged, some were not.
      assert.ok(ledger.acknowledged >= 130, `acknowledged ${ledger.acknowledged}`)
      assert.ok(ledger.refused.get('network')! > 0, 'the kill interrupted nothing')
      assert.deepEqual([...ledger.refused.keys()], ['network'])

      const second = await start()
      const database = store.open()
      try {
        const verdict = await verify(second.client, database, ledger)
        assert.deepEqual(verdict.problems, [])
        assert.equal(verdict.lost, 0)
        assert.equal(verdict.checked, ledger.created.size)
        t.diagnostic(`sent ${ledger.sent}, acknowledged ${ledger.acknowledged}, interrupted ${ledger.refused.get('network')}, checked ${verdict.checked}, committed without answer ${verdict.committedUnanswered}, lost ${verdict.lost}`)
        if (engine === 'sqlite') {
          const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(database.db)
          assert.deepEqual(check.rows, [{ integrity_check: 'ok' }])
        }
      } finally {
        await database.close()
      }

      // The restarted server takes writes again, including to the records in doubt.
      const res = await second.client.call('POST', '/v1/app_offerings', { name: 'After the crash', service_instance_id: serviceInstanceId, policy_jwt_alg: 'rs256', webhook_uri_template: 'https://example.com/x' })
      assert.equal(res.status, 201, res.text)
      const patched = await second.client.call('PATCH', `/v1/app_offerings/${ledger.chains[0].id}`, { name: 'Renamed after the crash' })
      assert.equal(patched.status, 200, patched.text)
    })
  })
}
