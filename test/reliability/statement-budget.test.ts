// A statement time budget (issue 11, item 6): on PostgreSQL no statement may run longer than a
// request may, so a read or a write stuck behind another session's lock gives its connection back
// with a 503 and Retry-After instead of holding it while other tenants wait for the pool.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { openDatabase } from '../../src/storage/database.ts'
import { engines } from '../support/stores.ts'
import { request, secondApp, useHarness, type TestAccount } from '../support/harness.ts'
import { serviceInstance } from '../support/offerings.ts'

if (engines.includes('postgres')) {
  describe('a statement time budget (postgres)', () => {
    const h = useHarness('postgres')
    let app: FastifyInstance
    let account: TestAccount

    before(async () => {
      app = await secondApp(h(), openDatabase(h().store.url, { statementTimeoutMs: 300 }))
      account = await h().account()
    })

    after(async () => {
      await app?.close()
    })

    it('answers 503 with Retry-After when a write waits past the budget, and changes nothing', async () => {
      const id = await serviceInstance(account, 'Locked')
      const locker = new pg.Client({ connectionString: h().store.url })
      await locker.connect()
      try {
        await locker.query('begin')
        await locker.query('select * from service_instances where id = $1 for update', [id])
        // Without a budget the write would wait for the lock holder: it lets go after 8 s.
        const release = setTimeout(() => locker.query('rollback').catch(() => {}), 8_000)
        after(() => clearTimeout(release))
        const started = Date.now()
        const res = await request(app, 'PATCH', `/v1/service_instances/${id}`, { name: 'Waited' }, { authorization: `Bearer ${account.token}` })
        assert.equal(res.statusCode, 503, res.body)
        assert.deepEqual(res.json(), { message: 'Service Unavailable' })
        assert.ok(Number(res.headers['retry-after']) > 0)
        assert.ok(Date.now() - started < 5_000, 'the budget, not the lock holder, ended the wait')
      } finally {
        await locker.query('rollback')
        await locker.end()
      }
      const read = await request(app, 'GET', `/v1/service_instances/${id}`, undefined, { authorization: `Bearer ${account.token}` })
      assert.equal(read.json().name, 'Locked')
      const retried = await request(app, 'PATCH', `/v1/service_instances/${id}`, { name: 'Waited' }, { authorization: `Bearer ${account.token}` })
      assert.equal(retried.statusCode, 200, 'once the lock is gone the same write goes through')
    })
  })
}
