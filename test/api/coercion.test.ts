// What the official Ruby SDK sends (every scalar as a string, "" for nil), and values no type
// accepts: objects and arrays where a scalar belongs, U+0000 and unpaired surrogates.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { engines } from '../support/stores.ts'
import { useHarness, type TestAccount } from '../support/harness.ts'
import { assertInvalid, serviceInstance, validOffering } from '../support/offerings.ts'

// One writable field of every type: [body key, error field].
const SCALARS: Array<[string, string]> = [
  ['name', 'name'], // string
  ['service_instance_id', 'service_instance'], // reference
  ['policy_jwt_alg', 'policy_jwt_alg'], // enum
  ['webhook_uri_template', 'webhook_uri_template'], // string with a format
  ['policy_jwt_claim_expires_in', 'policy_jwt_claim_expires_in'], // duration
  ['description', 'description'], // text
  ['picture_uri', 'picture_uri'], // picture
  ['disabled', 'disabled'], // boolean
  ['requires_enabled_oauth_person', 'requires_enabled_oauth_person'], // boolean
  ['ui_extension_version_id', 'ui_extension_version'], // optional reference
  ['sourceID', 'sourceID'],
  ['source', 'source'],
]

const TEXT_FIELDS = ['name', 'reference', 'policy_jwt_audience', 'card_description', 'description', 'features', 'compliance', 'source', 'sourceID']

for (const engine of engines) {
  describe(`coercion of body values (${engine})`, () => {
    const h = useHarness(engine)
    let account: TestAccount
    let si: number
    let n = 0
    const post = (extra: Record<string, unknown>) =>
      account.call('POST', '/v1/app_offerings', validOffering(si, { reference: `${account.id}_c${++n}`, ...extra }))

    it('sets up', async () => {
      account = await h().account()
      si = await serviceInstance(account)
    })

    it('accepts the Ruby SDK body: every scalar a string, "" for nil', async () => {
      const res = await post({
        service_instance_id: String(si),
        policy_jwt_claim_expires_in: '12',
        disabled: 'true',
        requires_enabled_oauth_person: 'false',
        policy_jwt_audience: '',
        configuration_uri_template: '',
        card_description: '',
        picture_uri: '',
        ui_extension_version_id: '',
        sourceID: '',
      })
      assert.equal(res.statusCode, 201, res.body)
      const body = res.json()
      assert.equal(body.service_instance.id, si)
      assert.equal(body.policy_jwt_claim_expires_in, 12)
      assert.equal(body.disabled, true)
      assert.equal(body.requires_enabled_oauth_person, false)
      for (const field of ['policy_jwt_audience', 'configuration_uri_template', 'card_description', 'picture_uri', 'ui_extension_version', 'sourceID']) {
        assert.equal(body[field], null, field)
      }
    })

    it('reads numbers and booleans sent to string fields as their text', async () => {
      const res = await post({ card_description: 42, sourceID: 7, policy_jwt_audience: true })
      assert.equal(res.statusCode, 201, res.body)
      assert.deepEqual([res.json().card_description, res.json().sourceID, res.json().policy_jwt_audience], ['42', '7', 'true'])
    })

    it('accepts numeric strings with surrounding space for integers', async () => {
      const res = await post({ policy_jwt_claim_expires_in: ' 45 ', service_instance_id: ` ${si}` })
      assert.equal(res.statusCode, 201, res.body)
      assert.equal(res.json().policy_jwt_claim_expires_in, 45)
    })

    for (const [key, field] of SCALARS) {
      for (const value of [{}, { value: 'x' }, [], ['x'], [[1]]]) {
        it(`${key} = ${JSON.stringify(value)} is invalid`, async () => {
          assertInvalid(await post({ [key]: value }), [[field, 'is invalid']])
        })
      }
    }

    for (const field of TEXT_FIELDS) {
      for (const [label, value] of [
        ['U+0000', 'before\u0000after'],
        ['a lone high surrogate', 'before\ud800after'],
        ['a lone low surrogate', '\udc00'],
        ['a reversed pair', '\ude00\ud83d'],
      ]) {
        it(`${field} with ${label} is invalid`, async () => {
          assertInvalid(await post({ [field]: value }), [[field, 'is invalid']])
        })
      }
    }

    it('refuses the same values on PATCH and keeps the record', async () => {
      const created = (await post({})).json()
      for (const [key, field] of [['name', 'name'], ['disabled', 'disabled'], ['policy_jwt_claim_expires_in', 'policy_jwt_claim_expires_in']]) {
        assertInvalid(await account.call('PATCH', `/v1/app_offerings/${created.id}`, { [key]: { nested: true } }), [[field, 'is invalid']])
      }
      assertInvalid(await account.call('PATCH', `/v1/app_offerings/${created.id}`, { name: 'x\u0000' }), [['name', 'is invalid']])
      assert.deepEqual((await account.call('GET', `/v1/app_offerings/${created.id}`)).json(), created)
    })

    it('keeps text with valid astral characters and escapes intact', async () => {
      const text = 'emoji \u{1F680} pair \ud83d\ude00 tab\t quote" backslash\\ <b>&amp;'
      const res = await post({ description: text, name: `Name \u{1F680}` })
      assert.equal(res.statusCode, 201, res.body)
      assert.equal(res.json().description, text)
      assert.equal((await account.call('GET', `/v1/app_offerings/${res.json().id}`)).json().description, text)
    })

    it('applies the same rules to service instances', async () => {
      assertInvalid(await account.call('POST', '/v1/service_instances', { name: ['Mail'] }), [['name', 'is invalid']])
      assertInvalid(await account.call('POST', '/v1/service_instances', { name: 'Mail', status: { s: 1 } }), [['status', 'is invalid']])
      assertInvalid(await account.call('POST', '/v1/service_instances', { name: '\ud800' }), [['name', 'is invalid']])
      const res = await account.call('POST', '/v1/service_instances', { name: 'Mail', status: '', sourceID: '' })
      assert.equal(res.statusCode, 201, res.body)
      assert.equal(res.json().status, 'being_prepared')
    })
  })
}
