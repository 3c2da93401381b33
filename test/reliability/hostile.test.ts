// Hostile input. Property-based (fast-check) bodies and query strings through the app: always the
// spec's 4xx body, never a 500, and a refused write changes nothing. Then the wire, against a real
// server process: malformed headers, oversized bodies and slow clients are refused in bounded
// time and memory while everyone else is still served.
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { useHarness, type TestAccount } from '../support/harness.ts'
import { Client, provision, spawnServer, type ServerProcess, type Tenant } from '../support/server-process.ts'
import { engines, freshStore, type TestStore } from '../support/stores.ts'
import { offeringBody } from '../support/workload.ts'

const RUNS = Number(process.env.HOSTILE_RUNS ?? 120)

// Fields that take a scalar: an object or an array there is always `is invalid` (conventions §7).
const SCALAR_FIELDS = [
  'name', 'reference', 'service_instance_id', 'policy_jwt_alg', 'webhook_uri_template', 'policy_jwt_audience',
  'policy_jwt_claim_expires_in', 'configuration_uri_template', 'card_description', 'description', 'features',
  'compliance', 'picture_uri', 'disabled', 'requires_enabled_oauth_person', 'ui_extension_version_id', 'source', 'sourceID',
]
const STRING_FIELDS = ['name', 'reference', 'webhook_uri_template', 'policy_jwt_audience', 'card_description', 'description', 'features', 'compliance', 'source', 'sourceID']
const POLLUTERS = ['__proto__', 'constructor', 'prototype']

/** Text with the characters that break naive code: NUL, lone surrogates, BOM, bidi overrides, astral. */
const nasty = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.constantFrom('\u0000', '\ud800', '\udfff', '\ufeff', '\u202e', '\u0301', '😀', '\\', '"', '%', '{account}', '\n') }),
  fc.constantFrom('x'.repeat(70_000), '😀'.repeat(17_000), 'é'.repeat(40_000)),
)

/** A value that no scalar field accepts. */
const alwaysInvalid = fc.oneof(
  fc.object({ maxDepth: 3 }),
  fc.array(fc.anything({ maxDepth: 2 }), { minLength: 0, maxLength: 5 }),
  fc.integer({ min: 1, max: 2000 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth))),
  fc.constantFrom(...POLLUTERS).map((key) => JSON.parse(`{"${key}":{"polluted":true}}`)),
)

/** Any JSON value, hostile ones favoured. */
const anyValue = fc.oneof(alwaysInvalid, nasty, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(''))

/** A body that must be refused: one scalar field is sure to be invalid, the rest is anything. */
const refusedPatch = fc
  .record({
    invalid: fc.constantFrom(...SCALAR_FIELDS),
    value: alwaysInvalid,
    rest: fc.dictionary(fc.oneof(fc.constantFrom(...SCALAR_FIELDS, ...POLLUTERS), fc.string()), anyValue, { maxKeys: 6 }),
  })
  .map(({ invalid, value, rest }) => ({ ...rest, [invalid]: value }))

/** Percent-encodes the UTF-8 bytes of any string, lone surrogates included (as U+FFFD). */
function percent(text: string): string {
  return [...Buffer.from(text)].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('')
}

function assertSpecError(status: number, body: string, allowed: number[]): void {
  assert.ok(allowed.includes(status), `status ${status}: ${body.slice(0, 300)}`)
  const json = JSON.parse(body)
  assert.equal(typeof json.message, 'string')
  if (status === 422) {
    assert.equal(json.message, 'Validation Failed')
    assert.deepEqual(Object.keys(json), ['message', 'errors'])
    for (const pair of json.errors) {
      assert.equal(pair.length, 2)
      assert.ok(typeof pair[0] === 'string' && typeof pair[1] === 'string')
    }
  } else {
    assert.deepEqual(Object.keys(json), ['message'])
  }
}

for (const engine of engines) {
  describe(`hostile bodies and query strings (${engine})`, () => {
    const h = useHarness(engine)
    let account: TestAccount
    let record: Record<string, unknown>
    let serviceInstanceId: number

    before(async () => {
      account = await h().account()
      const si = await account.call('POST', '/v1/service_instances', { name: 'Hostile' })
      serviceInstanceId = si.json().id
      const res = await account.call('POST', '/v1/app_offerings', offeringBody(serviceInstanceId, 'Target'))
      assert.equal(res.statusCode, 201, res.body)
      record = res.json()
    })

    const current = async () => (await account.call('GET', `/v1/app_offerings/${record.id}`)).body

    it('refuses arbitrary text as a body with 400 or 422, never a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary' }), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), async (text) => {
          const res = await account.call('POST', '/v1/app_offerings', text)
          assertSpecError(res.statusCode, res.body, [400, 422])
        }),
        { numRuns: RUNS },
      )
    })

    it('refuses hostile field values on PATCH and PUT with a 422 and leaves the record as it was', async () => {
      const before = await current()
      await fc.assert(
        fc.asyncProperty(refusedPatch, fc.constantFrom('PATCH', 'PUT'), async (body, method) => {
          const res = await account.call(method, `/v1/app_offerings/${record.id}`, body)
          assertSpecError(res.statusCode, res.body, [422])
          assert.equal(await current(), before)
        }),
        { numRuns: RUNS },
      )
    })

    it('refuses hostile creates with a 422 and stores nothing', async () => {
      const count = async () => (await account.call('GET', '/v1/app_offerings')).headers['x-pagination-total-entries']
      const before = await count()
      await fc.assert(
        fc.asyncProperty(refusedPatch, async (hostile) => {
          const res = await account.call('POST', '/v1/app_offerings', { ...offeringBody(serviceInstanceId, 'Never stored'), ...hostile })
          assertSpecError(res.statusCode, res.body, [422])
        }),
        { numRuns: RUNS },
      )
      assert.equal(await count(), before)
    })

    it('accepts or refuses nasty strings, stores what it accepts exactly, and never answers 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...STRING_FIELDS), nasty, async (field, value) => {
          const before = await current()
          const res = await account.call('PATCH', `/v1/app_offerings/${record.id}`, { [field]: value })
          if (res.statusCode === 200) {
            const stored = res.json()[field === 'sourceID' ? 'sourceID' : field]
            // Names and references are trimmed; an empty optional text reads as null.
            if (value.trim() !== '' && !['name', 'reference'].includes(field)) assert.equal(stored, value)
          } else {
            assertSpecError(res.statusCode, res.body, [422])
            assert.equal(await current(), before)
          }
        }),
        { numRuns: RUNS },
      )
    })

    it('drops __proto__, constructor and prototype keys without polluting anything', async () => {
      for (const key of POLLUTERS) {
        const text = `{"${key}":{"disabled":true,"polluted":true,"prototype":{"polluted":true}},"card_description":"kept ${key}"}`
        const res = await account.call('PATCH', `/v1/app_offerings/${record.id}`, text)
        assert.equal(res.statusCode, 200, res.body)
        assert.equal(res.json().card_description, `kept ${key}`)
        assert.equal(res.json().disabled, record.disabled)
        assert.equal(({} as Record<string, unknown>).polluted, undefined)
        assert.equal((Object.prototype as Record<string, unknown>).disabled, undefined)
      }
    })

    it('answers any query string with 200 or the spec 400, never a 5xx', async () => {
      const keys = fc.oneof(
        fc.constantFrom('id', 'name', 'reference', 'source', 'sourceID', 'created_at', 'updated_at', 'disabled', 'nodeID', 'description'),
        fc.constantFrom('page', 'per_page', 'sort', 'fields', 'search_after', 'search_before', '__proto__', 'constructor'),
        fc.string(),
      )
      const values = fc.oneof(
        nasty.map((v) => v.slice(0, 300)),
        fc.constantFrom('<', '>=2020-01-01<2021', '!', '\\!x', '1,2,3', '-name,id', '0', '-1', '99999999999999999999', 'AAAA', '%', '%zz', '%00', '%ud800'),
      )
      const query = fc.array(fc.tuple(keys, fc.constantFrom('', '!'), values, fc.boolean()), { maxLength: 5 }).map((pairs) =>
        pairs.map(([k, not, v, raw]) => `${percent(k)}${not}=${raw ? v.replace(/[^\x21-\x7e]|[#&]/g, '') : percent(v)}`).join('&'),
      )
      await fc.assert(
        fc.asyncProperty(query, fc.constantFrom('/v1/app_offerings', '/v1/app_offerings/latest_internal', '/v1/service_instances'), async (q, path) => {
          const res = await account.call('GET', `${path}?${q}`)
          if (res.statusCode !== 200) assertSpecError(res.statusCode, res.body, [400])
          else assert.ok(Array.isArray(res.json()))
        }),
        { numRuns: RUNS * 2 },
      )
    })

    it('answers any record id with 200 or 404, never a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.string(), fc.bigInt().map(String), fc.base64String()), async (id) => {
          const res = await account.call('GET', `/v1/app_offerings/${percent(id)}`)
          if (res.statusCode !== 200) assertSpecError(res.statusCode, res.body, [404])
        }),
        { numRuns: RUNS },
      )
    })
  })
}
