import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { engines } from '../support/stores.ts'
import { useHarness } from '../support/harness.ts'
import { serviceInstance, serviceInstanceReference, validOffering } from '../support/offerings.ts'

for (const engine of engines) {
  describe(`app offerings (${engine})`, () => {
    const h = useHarness(engine)

    it('creates a draft with every field, defaults and a Location', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const res = await account.call('POST', '/v1/app_offerings', { ...validOffering(si), name: 'Note Dispatcher' }, { 'user-agent': 'curl/8' })
      assert.equal(res.statusCode, 201, res.body)
      const body = res.json()
      assert.equal(res.headers.location, `http://localhost:80/v1/app_offerings/${body.id}`)
      assert.equal(body.reference, `${account.id}_note_dispatcher`)
      assert.deepEqual(body.service_instance, serviceInstanceReference(si, 'Mail'))
      assert.equal(body.disabled, false)
      assert.equal(body.source, 'curl/8')
      assert.deepEqual(body.attachments, [])
      assert.equal(body.ui_extension_version, null)
      assert.equal(body.card_description, null)
      assert.match(body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/)
      assert.equal(body.updated_at, body.created_at)
      assert.equal(Buffer.from(body.nodeID, 'base64url').toString(), `localhost/AppOffering/${body.id}`)
      for (const key of ['description_attachments', 'features_attachments', 'compliance_attachments']) assert.ok(!(key in body))
    })

    it('reads by id and by nodeID, and hides other accounts records as 404', async () => {
      const owner = await h().account()
      const other = await h().account()
      const si = await serviceInstance(owner)
      const created = (await owner.call('POST', '/v1/app_offerings', validOffering(si))).json()
      assert.equal((await owner.call('GET', `/v1/app_offerings/${created.id}`)).json().id, created.id)
      assert.equal((await owner.call('GET', `/v1/app_offerings/${created.nodeID}`)).json().id, created.id)
      for (const path of [`/v1/app_offerings/${created.id}`, `/v1/app_offerings/${created.nodeID}`]) {
        const res = await other.call('GET', path)
        assert.equal(res.statusCode, 404)
        assert.deepEqual(res.json(), { message: 'Not Found' })
      }
      const patch = await other.call('PATCH', `/v1/app_offerings/${created.id}`, { name: 'stolen' })
      assert.equal(patch.statusCode, 404)
      assert.equal((await owner.call('GET', `/v1/app_offerings/${created.id}`)).json().name, created.name)
    })

    it('answers 422 with Rails messages in field order', async () => {
      const account = await h().account()
      const res = await account.call('POST', '/v1/app_offerings', {
        name: 'x'.repeat(129),
        policy_jwt_alg: 'RS256',
        webhook_uri_template: 'ftp://example.com',
        policy_jwt_claim_expires_in: 0,
      })
      assert.equal(res.statusCode, 422)
      assert.deepEqual(res.json(), {
        message: 'Validation Failed',
        errors: [
          ['name', 'is too long (maximum is 128 characters)'],
          ['service_instance', 'must exist'],
          ['policy_jwt_alg', 'is not included in the list'],
          ['webhook_uri_template', 'is invalid'],
          ['policy_jwt_claim_expires_in', 'must be greater than or equal to 1'],
        ],
      })
    })

    it('refuses a second draft with a taken reference, also from another account', async () => {
      const a = await h().account()
      const b = await h().account()
      const reference = `shared_${a.id}`
      const first = await a.call('POST', '/v1/app_offerings', validOffering(await serviceInstance(a), { reference }))
      assert.equal(first.statusCode, 201)
      const second = await b.call('POST', '/v1/app_offerings', validOffering(await serviceInstance(b), { reference }))
      assert.equal(second.statusCode, 422)
      assert.deepEqual(second.json(), { message: 'Validation Failed', errors: [['reference', 'has already been taken']] })
    })

    it('lists the working account\'s offerings, 20 by name, with the collection fields', async () => {
      const account = await h().account()
      const other = await h().account()
      const si = await serviceInstance(account)
      await other.call('POST', '/v1/app_offerings', validOffering(await serviceInstance(other), { name: 'Aardvark of another account' }))
      const names = Array.from({ length: 25 }, (_, i) => `Offering ${String.fromCharCode(90 - i)}`)
      for (const name of names) assert.equal((await account.call('POST', '/v1/app_offerings', validOffering(si, { name }))).statusCode, 201)
      const res = await account.call('GET', '/v1/app_offerings')
      assert.equal(res.statusCode, 200)
      const list = res.json()
      assert.deepEqual(list.map((r: { name: string }) => r.name), [...names].sort().slice(0, 20))
      assert.deepEqual(Object.keys(list[0]).sort(), [
        'created_at', 'id', 'name', 'nodeID', 'policy_jwt_alg', 'policy_jwt_audience', 'policy_jwt_claim_expires_in',
        'reference', 'service_instance', 'sourceID', 'updated_at', 'webhook_uri_template',
      ])
      assert.deepEqual(list[0].service_instance, serviceInstanceReference(si, 'Mail'))
      assert.equal(res.headers['x-pagination-total-entries'], '25')
    })
  })
}
