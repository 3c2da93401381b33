// What a write answers comes from the write's own transaction (issue 11, item 3): the create
// commits, and nothing is read after the COMMIT. Before, the answer was read back after the
// commit; with PostgreSQL backends terminated under load that read failed, the client got 503
// for a record that was saved, and its retry a 422 "has already been taken" for its own record.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely'
import pg from 'pg'
import type { Database } from '../../src/storage/database.ts'
import { engines } from '../support/stores.ts'
import { request, secondApp, useHarness, type TestAccount } from '../support/harness.ts'
import { serviceInstance, validOffering } from '../support/offerings.ts'

if (engines.includes('postgres')) {
  describe('a write answers from its own transaction (postgres)', () => {
    const h = useHarness('postgres')
    let app: FastifyInstance
    let logged: Kysely<any>
    let statements: CompiledQuery[] = []
    let account: TestAccount

    before(async () => {
      // The same database through a Kysely that records every statement the app runs.
      logged = new Kysely({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: h().store.url, max: 4 }) }),
        log: (event) => {
          if (event.level === 'query') statements.push(event.query)
        },
      })
      app = await secondApp(h(), { db: logged, engine: 'postgres', optimize() {}, close: () => logged.destroy() } as unknown as Database)
      account = await h().account()
    })

    after(async () => {
      await app?.close()
    })

    const call = (method: string, url: string, body?: unknown) => request(app, method, url, body, { authorization: `Bearer ${account.token}` })

    it('runs nothing after the COMMIT of a create or an update, and answers the committed record', async () => {
      const si = await serviceInstance(account)
      // The token is looked up and its use recorded on a first request: not part of a write.
      assert.equal((await call('GET', '/v1/app_offerings')).statusCode, 200)
      statements = []
      const created = await call('POST', '/v1/app_offerings', validOffering(si, { name: 'Committed' }))
      assert.equal(created.statusCode, 201, created.body)
      const afterCommit = (list: CompiledQuery[]) => list.slice(list.findIndex((q) => /^commit$/i.test(q.sql)) + 1).filter((q) => !/api_tokens/.test(q.sql))
      assert.ok(statements.some((q) => /^commit$/i.test(q.sql)), 'the create committed')
      assert.deepEqual(afterCommit(statements).map((q) => q.sql), [], 'no statement after the commit')
      assert.equal(created.json().name, 'Committed')
      assert.equal(created.json().service_instance.id, si)

      statements = []
      const updated = await call('PATCH', `/v1/app_offerings/${created.json().id}`, { name: 'Committed again' })
      assert.equal(updated.statusCode, 200, updated.body)
      assert.deepEqual(afterCommit(statements).map((q) => q.sql), [], 'no statement after the commit')
      assert.equal(updated.json().name, 'Committed again')
      assert.deepEqual((await call('GET', `/v1/app_offerings/${created.json().id}`)).json(), updated.json())
    })
  })
}
