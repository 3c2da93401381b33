// lifecycle.md, "Service instances": fields, status, limits, predefined filters, source, isolation.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { engines } from '../support/stores.ts'
import { useHarness } from '../support/harness.ts'
import { assertInvalid } from '../support/offerings.ts'

const ASTRAL = '\u{1F600}'

for (const engine of engines) {
  describe(`service instances (${engine})`, () => {
    const h = useHarness(engine)

    it('creates one with every field, status being_prepared by default (as the real API), and a Location', async () => {
      const account = await h().account()
      const res = await account.call('POST', '/v1/service_instances', { name: '  Mail  ' }, { 'user-agent': 'Ruby SDK' })
      assert.equal(res.statusCode, 201, res.body)
      const body = res.json()
      assert.deepEqual(Object.keys(body).sort(), ['created_at', 'id', 'name', 'nodeID', 'source', 'sourceID', 'status', 'updated_at'])
      assert.equal(body.name, 'Mail')
      assert.equal(body.status, 'being_prepared')
      assert.equal(body.source, 'Ruby SDK')
      assert.equal(body.sourceID, null)
      assert.match(body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/)
      assert.equal(body.updated_at, body.created_at)
      assert.equal(Buffer.from(body.nodeID, 'base64url').toString(), `localhost/ServiceInstance/${body.id}`)
      assert.equal(res.headers.location, `http://localhost:80/v1/service_instances/${body.id}`)
      assert.deepEqual((await account.call('GET', `/v1/service_instances/${body.nodeID}`)).json(), body)
    })

    it('checks name (required, 80 characters), status and the source fields', async () => {
      const account = await h().account()
      const post = (body: Record<string, unknown>) => account.call('POST', '/v1/service_instances', body)
      assert.equal((await post({ name: 'n'.repeat(80) })).statusCode, 201)
      assert.equal((await post({ name: ASTRAL.repeat(80) })).json().name, ASTRAL.repeat(80))
      assertInvalid(await post({ name: 'n'.repeat(81) }), [['name', 'is too long (maximum is 80 characters)']])
      assertInvalid(await post({ name: ASTRAL.repeat(81) }), [['name', 'is too long (maximum is 80 characters)']])
      assertInvalid(await post({}), [['name', "can't be blank"]])
      assertInvalid(await post({ name: ' ' }), [['name', "can't be blank"]])
      for (const status of ['being_prepared', 'in_production', 'discontinued']) {
        assert.equal((await post({ name: 'S', status })).json().status, status)
      }
      assertInvalid(await post({ name: 'S', status: 'retired' }), [['status', 'is not included in the list']])
      assertInvalid(await post({ name: 'S', status: 'In_Production' }), [['status', 'is not included in the list']])
      assert.equal((await post({ name: 'S', source: 's'.repeat(30), sourceID: 'i'.repeat(128) })).statusCode, 201)
      assertInvalid(await post({ name: 'S', source: 's'.repeat(31), sourceID: 'i'.repeat(129) }), [
        ['source', 'is too long (maximum is 30 characters)'],
        ['sourceID', 'is too long (maximum is 128 characters)'],
      ])
    })

    it('takes source from the body, then X-Xurrent-Source / X-4me-Source, then User-Agent, then "Xurrent API"', async () => {
      const account = await h().account()
      const source = async (body: Record<string, unknown>, headers: Record<string, string>) =>
        (await account.call('POST', '/v1/service_instances', { name: 'S', ...body }, headers)).json().source
      const all = { 'x-xurrent-source': 'xurrent', 'x-4me-source': 'fourme', 'user-agent': 'agent' }
      assert.equal(await source({ source: 'body' }, all), 'body')
      assert.equal(await source({}, all), 'xurrent')
      assert.equal(await source({ source: '' }, { 'x-4me-source': 'fourme', 'user-agent': 'agent' }), 'fourme')
      assert.equal(await source({}, { 'user-agent': 'agent' }), 'agent')
      assert.equal(await source({}, { 'user-agent': '' }), 'Xurrent API')
      assert.equal(await source({}, { 'x-4me-source': 'y'.repeat(50) }), 'y'.repeat(30))
    })

    it('PATCH and PUT change only what they are given; the source is kept', async () => {
      const account = await h().account()
      const created: Record<string, unknown> = (await account.call('POST', '/v1/service_instances', { name: 'Mail', sourceID: 'm-1' }, { 'x-4me-source': 'importer' })).json()
      const patched = await account.call('PATCH', `/v1/service_instances/${created.id}`, { status: 'discontinued' }, { 'x-4me-source': 'other' })
      assert.equal(patched.statusCode, 200)
      assert.deepEqual({ ...(patched.json() as Record<string, unknown>), updated_at: created.updated_at }, { ...created, status: 'discontinued' })
      const put = await account.call('PUT', `/v1/service_instances/${created.nodeID}`, { name: 'Email' })
      assert.equal(put.json().name, 'Email')
      assert.equal(put.json().status, 'discontinued')
      assertInvalid(await account.call('PATCH', `/v1/service_instances/${created.id}`, { name: '' }), [['name', "can't be blank"]])
      const deleted = await account.call('DELETE', `/v1/service_instances/${created.id}`)
      assert.equal(deleted.statusCode, 405)
      assert.deepEqual(deleted.json(), { message: 'Method Not Allowed' })
    })

    it('lists by name with the collection fields; active and inactive split on status', async () => {
      const account = await h().account()
      const make = async (name: string, status: string) => (await account.call('POST', '/v1/service_instances', { name, status, sourceID: `src-${name}` })).json()
      const c = await make('Charlie', 'in_production')
      const a = await make('Alpha', 'being_prepared')
      const b = await make('Bravo', 'discontinued')
      const d = await make('Delta', 'in_production')
      const all = await account.call('GET', '/v1/service_instances')
      assert.equal(all.statusCode, 200)
      // The collection fields of lifecycle.md, nodeID always.
      assert.deepEqual(all.json(), [a, b, c, d].map((r) => ({ id: r.id, nodeID: r.nodeID, name: r.name, status: r.status, sourceID: r.sourceID, created_at: r.created_at, updated_at: r.updated_at })))
      assert.equal(all.headers['x-pagination-total-entries'], '4')
      const names = async (path: string) => (await account.call('GET', path)).json().map((r: { name: string }) => r.name)
      assert.deepEqual(await names('/v1/service_instances/active'), ['Charlie', 'Delta'])
      assert.deepEqual(await names('/v1/service_instances/inactive'), ['Alpha', 'Bravo'])
      assert.equal((await account.call('GET', '/v1/service_instances/retired')).statusCode, 404)
    })

    it("never shows or changes another account's service instances", async () => {
      const owner = await h().account()
      const other = await h().account()
      const mine = (await owner.call('POST', '/v1/service_instances', { name: 'Private' })).json()
      for (const path of [`/v1/service_instances/${mine.id}`, `/v1/service_instances/${mine.nodeID}`]) {
        for (const method of ['GET', 'PATCH', 'PUT']) {
          const res = await other.call(method, path, method === 'GET' ? undefined : { name: 'Taken over' })
          assert.equal(res.statusCode, 404, `${method} ${path}`)
          assert.deepEqual(res.json(), { message: 'Not Found' })
        }
      }
      for (const path of ['/v1/service_instances', '/v1/service_instances/active', `/v1/service_instances?id=${mine.id}`]) {
        assert.deepEqual((await other.call('GET', path)).json(), [], path)
      }
      assert.equal((await owner.call('GET', `/v1/service_instances/${mine.id}`)).json().name, 'Private')
    })
  })
}
