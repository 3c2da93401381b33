// Random and hostile query strings at the list endpoints: the answer is always a 200 collection
// or a 400 with the spec's `{"message": ...}` body, never a 500; and a 200's Link URLs lead to
// another 200.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import fc from 'fast-check'
import { engines } from '../support/stores.ts'
import { useHarness, type TestAccount } from '../support/harness.ts'
import { serviceInstance } from '../support/offerings.ts'
import { links, offering } from '../support/collections.ts'

const RUNS = Number(process.env.PROPERTY_RUNS ?? 120)

const KEYS = [
  'id', 'name', 'reference', 'source', 'sourceID', 'created_at', 'updated_at', 'disabled', 'status', 'description',
  'service_instance_id', 'fields', 'sort', 'per_page', 'page', 'search_after', 'search_before', 'nodeID', '__proto__', 'constructor',
]
const FRAGMENTS = [
  '!', '\\!', '\\', '<', '>', '<=', '>=', ',', '%2C', '%3E', '%3C%3D', '%21', '%', '%Z', '%E0%A4%A', '%00', '%FF', '+', '%2B', ' ',
  '-', '.', '..', '=', '&', '0', '1', '-1', '99999999999999999999', '1e3', '0x10', 'NaN', 'true', 'yes', 'null',
  '2024-01-03', '2024-01-03T00:00:00Z', '2024-02-30', 'T25:61', '+01:00', ' 01:00', 'name', '-name', 'id,-created_at',
  'sourceID', 'nodeID', 'description_attachments', 'in_production', 'rs256', 'é', '\u{1F600}', '\u0000', 'a'.repeat(300),
  'eyJ4IjoxfQ.AAAA', '.', 'W10.', '[]', '{}', '"',
]

const key = fc.oneof(
  fc.constantFrom(...KEYS),
  fc.constantFrom(...KEYS).map((k) => `${k}!`),
  fc.constantFrom(...KEYS).map((k) => `${k}%21`),
  fc.string({ maxLength: 8 }),
)
const value = fc.oneof(
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 5 }).map((parts) => parts.join('')),
  fc.string({ maxLength: 20, unit: 'grapheme' }),
  fc.string({ maxLength: 20, unit: 'binary' }),
)
const pair = fc.oneof(
  fc.tuple(key, value).map(([k, v]) => `${k}=${v}`),
  key,
  fc.constantFrom('', '=', '&', '==', '=!'),
)
const query = fc.oneof(
  fc.array(pair, { maxLength: 6 }).map((pairs) => pairs.join('&')),
  fc.string({ maxLength: 60, unit: 'binary' }),
)
const path = fc.constantFrom('/v1/app_offerings', '/v1/app_offerings/latest_internal', '/v1/service_instances', '/v1/service_instances/active')

/** What a client can put on the wire: bytes outside the query's printable set are percent-encoded, '%' stays raw. */
function onTheWire(text: string): string {
  return text.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%<>\\[\]{}|^`"]/gu, (c) => encodeURIComponent(c.isWellFormed() ? c : '\uFFFD'))
}

for (const engine of engines) {
  describe(`collections: hostile query strings (${engine})`, () => {
    const h = useHarness(engine)
    let account: TestAccount

    before(async () => {
      account = await h().account()
      const si = await serviceInstance(account)
      for (let i = 0; i < 4; i++) await offering(account, si, { name: `Offering ${i}`, sourceID: i % 2 ? `s${i}` : '' })
    })

    it('answers 200 with a collection or 400 with a message, never anything else', async () => {
      await fc.assert(
        fc.asyncProperty(path, query, async (where, q) => {
          const url = `${where}?${onTheWire(q)}`
          const res = await account.call('GET', url)
          assert.match(String(res.headers['content-type']), /^application\/json/, url)
          const body = res.json()
          if (res.statusCode === 200) {
            assert.ok(Array.isArray(body), url)
            assert.match(String(res.headers['x-pagination-total-entries']), /^\d+$/, url)
            for (const link of Object.values(links(res))) {
              const followed = await account.call('GET', link)
              assert.equal(followed.statusCode, 200, `${url} -> ${link}: ${followed.body}`)
            }
          } else {
            assert.equal(res.statusCode, 400, `${url}: ${res.statusCode} ${res.body}`)
            assert.deepEqual(Object.keys(body), ['message'], url)
            assert.equal(typeof body.message, 'string')
          }
        }),
        { numRuns: RUNS },
      )
    })
  })
}
