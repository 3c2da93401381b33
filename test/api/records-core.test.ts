// The one write path (records/write.ts): a REST create or update, the CLI's seeding and the unit
// of work called directly each leave an audit entry, readable at /v1/<resource>/:id/audit like
// any collection, and each is seen by the next read of another server process on the database.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { seed } from '../../src/cli/seed.ts'
import { RecordStore } from '../../src/records/store.ts'
import { RecordWriter } from '../../src/records/write.ts'
import { appOfferings } from '../../src/resources/app-offerings/fields.ts'
import { appOfferingRules } from '../../src/resources/app-offerings/rules.ts'
import { engines } from '../support/stores.ts'
import { request, secondApp, useHarness, type TestAccount } from '../support/harness.ts'
import { serviceInstance, validOffering } from '../support/offerings.ts'
import { pagination, walk } from '../support/collections.ts'

for (const engine of engines) {
  describe(`records core: one write path (${engine})`, () => {
    const h = useHarness(engine)
    const others: FastifyInstance[] = []
    after(async () => {
      for (const app of others) await app.close()
    })

    async function otherProcess(): Promise<FastifyInstance> {
      const app = await secondApp(h())
      others.push(app)
      return app
    }
    const via = (app: FastifyInstance, account: TestAccount) => (url: string) => request(app, 'GET', url, undefined, { authorization: `Bearer ${account.token}` })

    it('a REST create and update each leave an entry: who, when, and {field: [old, new]}', async () => {
      const account = await h().account('Widget Data Center')
      const si = await serviceInstance(account)
      const created = await account.call('POST', '/v1/app_offerings', validOffering(si, { name: 'Audited', reference: `${account.id}_audited` }))
      assert.equal(created.statusCode, 201, created.body)
      const id = created.json().id
      assert.equal((await account.call('PATCH', `/v1/app_offerings/${id}`, { name: 'Audited twice', disabled: true })).statusCode, 200)
      assert.equal((await account.call('PATCH', `/v1/app_offerings/${id}`, { name: 'Audited twice' })).statusCode, 200, 'no change: no entry')

      const trail = await account.call('GET', `/v1/app_offerings/${id}/audit`)
      assert.equal(trail.statusCode, 200, trail.body)
      const [update, create, ...rest] = trail.json()
      assert.equal(rest.length, 0)
      assert.equal(update.action, 'update')
      assert.deepEqual(update.changes, { name: ['Audited', 'Audited twice'], disabled: [false, true] })
      assert.equal(create.action, 'create')
      assert.deepEqual(create.changes.name, [null, 'Audited'])
      assert.deepEqual(create.changes.reference, [null, `${account.id}_audited`])
      assert.deepEqual(create.changes.service_instance, [null, si])
      assert.equal(typeof create.created_by.name, 'string')
      assert.ok(create.created_by.name.length > 0)
      assert.match(create.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/)
      assert.ok(update.id > create.id, 'newest first')
      assert.equal(pagination(trail).totalEntries, 2)
    })

    it('lists a trail like any collection: paging by cursor, fields, filters; 404 for a record not visible', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const id = (await account.call('POST', '/v1/service_instances', { name: 'Trail' })).json().id
      for (let i = 0; i < 4; i++) assert.equal((await account.call('PATCH', `/v1/service_instances/${id}`, { name: `Trail ${i}` })).statusCode, 200)
      const walked = await walk(account, `/v1/service_instances/${id}/audit?per_page=2`, 'next')
      assert.equal(walked.ids.length, 5)
      assert.deepEqual([...walked.ids].sort((a, b) => b - a), walked.ids, 'newest first, across pages')
      const creates = await account.call('GET', `/v1/service_instances/${id}/audit?action=create&fields=action`)
      assert.deepEqual(creates.json().map((e: { action: string }) => e.action), ['create'])
      assert.deepEqual(Object.keys(creates.json()[0]).sort(), ['action', 'id'])
      assert.equal((await account.call('GET', `/v1/service_instances/${id}/audit?sort=name`)).statusCode, 400)
      // The trail of another record, or of another account's record, is not this one's.
      assert.equal((await account.call('GET', `/v1/service_instances/${si}/audit`)).json().length, 1)
      const stranger = await h().account()
      assert.equal((await stranger.call('GET', `/v1/service_instances/${id}/audit`)).statusCode, 404)
      assert.equal((await account.call('GET', `/v1/service_instances/999999999/audit`)).statusCode, 404)
    })

    it("the CLI's seeding writes through the same path: audited, and seen by every process at once", async () => {
      const account = await h().account()
      const other = via(await otherProcess(), account)
      assert.equal(pagination(await other('/v1/app_offerings')).totalEntries, 0)
      await seed(h().database, { account: account.id, offerings: 25 })
      const list = await other('/v1/app_offerings?per_page=100')
      assert.equal(pagination(list).totalEntries, 25)
      const first = list.json()[0]
      const trail = (await other(`/v1/app_offerings/${first.id}/audit`)).json()
      assert.equal(trail.length, 1)
      assert.equal(trail[0].action, 'create')
      assert.equal(trail[0].created_by.name, 'seed')
      assert.deepEqual(trail[0].changes.name, [null, first.name])
    })

    it('a write by the unit of work called directly is audited and seen by the next read of another process', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const other = via(await otherProcess(), account)
      const path = '/v1/app_offerings?fields=name&sort=-id'
      const before = await other(path)
      assert.equal(before.json().length, 0)
      const writer = new RecordWriter(new RecordStore(h().database, appOfferings), appOfferingRules)
      const context = { actor: { id: 7, name: 'A worker' } }
      const row = await writer.create({ id: account.id, name: 'Test account' }, validOffering(si, { name: 'Direct' }), context)
      assert.deepEqual((await other(path)).json().map((o: { name: string }) => o.name), ['Direct'])
      await writer.update({ id: account.id, name: 'Test account' }, row, { name: 'Direct, renamed' }, context)
      assert.deepEqual((await other(path)).json().map((o: { name: string }) => o.name), ['Direct, renamed'])
      const trail = (await other(`/v1/app_offerings/${row.id}/audit`)).json()
      assert.deepEqual(trail.map((e: { action: string }) => e.action), ['update', 'create'])
      assert.deepEqual(trail[0].created_by, { id: 7, name: 'A worker' })
    })

    it('bounds what offset paging may skip, pointing to cursors; a cursor goes any depth', async () => {
      const account = await h().account()
      const deep = await account.call('GET', '/v1/app_offerings?per_page=100&page=999&sort=-updated_at,sourceID&reference!=x')
      assert.equal(deep.statusCode, 400)
      assert.match(deep.json().message, /page is too deep.*search_after/)
      assert.equal((await account.call('GET', '/v1/app_offerings?per_page=100&page=101')).statusCode, 200)
    })

    it('a refused write leaves no entry and changes nothing', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const id = (await account.call('POST', '/v1/app_offerings', validOffering(si))).json().id
      assert.equal((await account.call('PATCH', `/v1/app_offerings/${id}`, { name: '', policy_jwt_alg: 'none' })).statusCode, 422)
      const read = await account.call('PATCH', `/v1/app_offerings/${id}`, { name: 'x' }, { 'if-match': 'W/"stale"' })
      assert.equal(read.statusCode, 409)
      assert.equal((await account.call('GET', `/v1/app_offerings/${id}/audit`)).json().length, 1)
    })
  })
}
