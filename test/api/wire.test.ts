// What a client sees on the wire: bodies and media types, error bodies, request ids, Location,
// nodeIDs, source precedence, and the reference race on every store.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { engines } from '../support/stores.ts'
import { useHarness, type TestAccount } from '../support/harness.ts'
import { assertInvalid, createOffering, serviceInstance, validOffering } from '../support/offerings.ts'
import { encodeNodeId } from '../../src/catalogue/node-id.ts'

const INVALID_JSON = { message: 'Invalid JSON string posted' }
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

for (const engine of engines) {
  describe(`wire behaviour (${engine})`, () => {
    const h = useHarness(engine)
    let account: TestAccount
    let si: number

    /** A call with exactly these headers besides the token (no Content-Type added). */
    const raw = (method: string, url: string, payload?: string, headers: Record<string, string> = {}) =>
      h().app.inject({ method: method as 'POST', url, payload, headers: { authorization: `Bearer ${account.token}`, ...headers } })

    it('sets up', async () => {
      account = await h().account()
      si = await serviceInstance(account)
    })

    describe('bodies', () => {
      for (const [label, payload] of [
        ['unparsable JSON', '{"name": "x"'],
        ['trailing garbage', '{"name": "x"} x'],
        ['a JSON array', JSON.stringify([validOffering(1)])],
        ['an empty array', '[]'],
        ['a number', '42'],
        ['a string', '"name"'],
        ['null', 'null'],
        ['true', 'true'],
      ]) {
        it(`answers 400 Invalid JSON string posted for ${label}, on POST, PATCH and PUT`, async () => {
          const offering = await createOffering(account, si)
          for (const [method, url] of [['POST', '/v1/app_offerings'], ['PATCH', `/v1/app_offerings/${offering.id}`], ['PUT', `/v1/service_instances/${si}`]]) {
            const res = await raw(method, url, payload, { 'content-type': 'application/json' })
            assert.equal(res.statusCode, 400, `${method} ${url}`)
            assert.deepEqual(res.json(), INVALID_JSON)
            assert.match(res.headers['content-type'] as string, /^application\/json; charset=utf-8$/)
          }
        })
      }

      it('answers 415 for a body that is not JSON', async () => {
        for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
          const res = await raw('POST', '/v1/app_offerings', 'name=Form', { 'content-type': type })
          assert.equal(res.statusCode, 415, type)
          assert.deepEqual(res.json(), { message: 'Unsupported Media Type' })
        }
      })

      it('reads a body without a Content-Type as JSON', async () => {
        const body = JSON.stringify(validOffering(si, { name: 'No Content Type' }))
        const res = await raw('POST', '/v1/app_offerings', body)
        assert.equal(res.statusCode, 201, res.body)
        assert.equal(res.json().name, 'No Content Type')
        const patched = await raw('PATCH', `/v1/app_offerings/${res.json().id}`, '{"card_description":"plain"}')
        assert.equal(patched.json().card_description, 'plain')
        assert.deepEqual((await raw('POST', '/v1/app_offerings', 'not json')).json(), INVALID_JSON)
      })

      it('accepts application/json with a charset', async () => {
        const body = JSON.stringify(validOffering(si))
        const res = await raw('POST', '/v1/app_offerings', body, { 'content-type': 'application/json; charset=utf-8' })
        assert.equal(res.statusCode, 201, res.body)
      })

      it('accepts a GET with Content-Type: application/json and no body', async () => {
        const offering = await createOffering(account, si)
        for (const url of ['/v1', '/v1/app_offerings', `/v1/app_offerings/${offering.id}`, '/v1/service_instances/active']) {
          const res = await raw('GET', url, undefined, { 'content-type': 'application/json' })
          assert.equal(res.statusCode, 200, url)
          const withLength = await raw('GET', url, undefined, { 'content-type': 'application/json', 'content-length': '0' })
          assert.equal(withLength.statusCode, 200, url)
        }
      })
    })

    describe('headers', () => {
      it('echoes X-Request-Id, or generates one, on every answer', async () => {
        const cases: Array<[string, string, string | undefined, Record<string, string>]> = [
          ['GET', '/v1/app_offerings', undefined, {}],
          ['GET', '/v1/app_offerings/999999999', undefined, {}],
          ['GET', '/v1/nowhere', undefined, {}],
          ['DELETE', '/v1/app_offerings', undefined, {}],
          ['POST', '/v1/app_offerings', '{}', { 'content-type': 'application/json' }],
          ['POST', '/v1/app_offerings', '[', { 'content-type': 'application/json' }],
          ['GET', '/v1/app_offerings', undefined, { authorization: 'Bearer nope' }],
          ['GET', '/v1', undefined, {}],
        ]
        for (const [method, url, payload, headers] of cases) {
          const echoed = await raw(method, url, payload, { ...headers, 'x-request-id': 'client-req.42:a_b' })
          assert.equal(echoed.headers['x-request-id'], 'client-req.42:a_b', `${method} ${url}`)
          const generated = await raw(method, url, payload, headers)
          assert.match(generated.headers['x-request-id'] as string, UUID, `${method} ${url}`)
          for (const bad of ['has spaces', 'x'.repeat(129), 'quote"s']) {
            const replaced = await raw(method, url, payload, { ...headers, 'x-request-id': bad })
            assert.match(replaced.headers['x-request-id'] as string, UUID)
          }
        }
      })

      it('answers every error as a JSON object with a message', async () => {
        const offering = await createOffering(account, si)
        const answers = [
          await raw('GET', '/v1/app_offerings', undefined, { authorization: '' }),
          await raw('GET', '/v1/app_offerings', undefined, { 'x-4me-account': 'zzz-other' }),
          await raw('GET', '/v1/app_offerings/0'),
          await raw('GET', '/v1/app_offerings/unknown_filter'),
          await raw('GET', '/v1/no/such/path'),
          await raw('DELETE', `/v1/app_offerings/${offering.id}`),
          await raw('POST', '/v1/app_offerings', '{}'),
        ]
        assert.deepEqual(answers.map((r) => r.statusCode), [401, 403, 404, 404, 404, 405, 422])
        for (const res of answers) {
          assert.match(res.headers['content-type'] as string, /^application\/json; charset=utf-8$/)
          assert.equal(typeof res.json().message, 'string')
        }
      })

      it('answers a create with an absolute Location from the request host', async () => {
        const res = await raw('POST', '/v1/app_offerings', JSON.stringify(validOffering(si)), { host: 'api.example.com:8443' })
        assert.equal(res.statusCode, 201)
        assert.equal(res.headers.location, `http://api.example.com:8443/v1/app_offerings/${res.json().id}`)
        const followed = await raw('GET', new URL(res.headers.location as string).pathname)
        assert.deepEqual(followed.json(), res.json())
        const si2 = await raw('POST', '/v1/service_instances', '{"name":"Located"}', { host: 'api.example.com' })
        assert.equal(si2.headers.location, `http://api.example.com/v1/service_instances/${si2.json().id}`)
      })
    })

    describe('nodeIDs', () => {
      it('finds a record by nodeID for GET, PATCH and PUT', async () => {
        const offering = await createOffering(account, si)
        assert.equal(offering.nodeID, encodeNodeId('localhost', 'AppOffering', offering.id))
        assert.deepEqual((await account.call('GET', `/v1/app_offerings/${offering.nodeID}`)).json(), offering)
        const patched = await account.call('PATCH', `/v1/app_offerings/${offering.nodeID}`, { card_description: 'by nodeID' })
        assert.equal(patched.json().id, offering.id)
        assert.equal((await account.call('PUT', `/v1/app_offerings/${offering.nodeID}`, { sourceID: 'n1' })).json().sourceID, 'n1')
      })

      it('answers 404 for a nodeID of another type or domain, and for ids that are not ids', async () => {
        const offering = await createOffering(account, si)
        const siNode = encodeNodeId('localhost', 'ServiceInstance', si)
        const misses = [
          `/v1/app_offerings/${siNode}`,
          `/v1/service_instances/${offering.nodeID}`,
          `/v1/app_offerings/${encodeNodeId('other.example.com', 'AppOffering', offering.id)}`,
          `/v1/app_offerings/${encodeNodeId('localhost', 'AppOffering', 999_999_999)}`,
          `/v1/app_offerings/${Buffer.from(`localhost/AppOffering/0${offering.id}`).toString('base64url')}`,
          `/v1/app_offerings/${Buffer.from(`localhost/AppOffering/${offering.id}`).toString('base64')}=`,
          `/v1/app_offerings/${offering.nodeID}x`,
          '/v1/app_offerings/0',
          '/v1/app_offerings/-1',
          `/v1/app_offerings/0${offering.id}`,
          `/v1/app_offerings/${offering.id}.0`,
          '/v1/app_offerings/99999999999999999999999',
          `/v1/app_offerings/${'A'.repeat(250)}`,
          '/v1/app_offerings/%E2%80%8B',
        ]
        for (const path of misses) {
          for (const method of ['GET', 'PATCH']) {
            const res = await account.call(method, path, method === 'GET' ? undefined : { name: 'x' })
            assert.equal(res.statusCode, 404, `${method} ${path}`)
            assert.deepEqual(res.json(), { message: 'Not Found' })
          }
        }
        assert.equal((await account.call('GET', `/v1/service_instances/${siNode}`)).json().id, si)
      })
    })

    describe('source', () => {
      const sourceOf = async (body: Record<string, unknown>, headers: Record<string, string>) => {
        const res = await account.call('POST', '/v1/app_offerings', validOffering(si, body), headers)
        assert.equal(res.statusCode, 201, res.body)
        return res.json().source
      }

      it('is the body, then X-Xurrent-Source, then X-4me-Source, then User-Agent, then "Xurrent API"', async () => {
        const all = { 'x-xurrent-source': 'xurrent-cli', 'x-4me-source': 'sdk-ruby', 'user-agent': 'curl/8.5' }
        assert.equal(await sourceOf({ source: 'importer' }, all), 'importer')
        assert.equal(await sourceOf({ source: '' }, all), 'xurrent-cli')
        assert.equal(await sourceOf({ source: null }, { ...all, 'x-xurrent-source': '  ' }), 'sdk-ruby')
        assert.equal(await sourceOf({}, { 'user-agent': 'curl/8.5' }), 'curl/8.5')
        assert.equal(await sourceOf({}, { 'user-agent': '' }), 'Xurrent API')
      })

      it('cuts a header value to 30 characters, counting code points', async () => {
        assert.equal(await sourceOf({}, { 'x-4me-source': 'h'.repeat(31) }), 'h'.repeat(30))
        assert.equal(await sourceOf({}, { 'user-agent': `Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0` }), 'Mozilla/5.0 (X11; Linux x86_64')
        assert.equal(await sourceOf({}, { 'x-xurrent-source': 'é'.repeat(40) }), 'é'.repeat(30))
      })

      it('refuses a body source over 30 characters and keeps the source on updates', async () => {
        assertInvalid(await account.call('POST', '/v1/app_offerings', validOffering(si, { source: 's'.repeat(31) })), [['source', 'is too long (maximum is 30 characters)']])
        const created = await createOffering(account, si, { source: 'first' })
        const patched = await account.call('PATCH', `/v1/app_offerings/${created.id}`, { name: 'Renamed' }, { 'x-4me-source': 'second', 'user-agent': 'x' })
        assert.equal(patched.json().source, 'first')
        assert.equal((await account.call('PATCH', `/v1/app_offerings/${created.id}`, { source: 'explicit' })).json().source, 'explicit')
      })
    })

    describe('the reference race', () => {
      const RACERS = 20

      it(`gives one 201 and ${RACERS - 1} times 422 has already been taken for ${RACERS} concurrent creates`, async () => {
        const other = await h().account()
        const otherSi = await serviceInstance(other)
        const reference = `${account.id}_raced`
        const answers = await Promise.all(
          Array.from({ length: RACERS }, (_, i) => {
            const [who, where] = i % 2 === 0 ? [account, si] : [other, otherSi]
            return who.call('POST', '/v1/app_offerings', validOffering(where, { reference }))
          }),
        )
        const statuses = answers.map((r) => r.statusCode).sort()
        assert.deepEqual(statuses, [201, ...Array(RACERS - 1).fill(422)])
        for (const res of answers.filter((r) => r.statusCode === 422)) {
          assert.deepEqual(res.json(), { message: 'Validation Failed', errors: [['reference', 'has already been taken']] })
        }
        const rows = await h().database.db.selectFrom('app_offerings').select('id').where('reference', '=', reference).execute()
        assert.equal(rows.length, 1)
      })

      it('holds for defaulted references and for concurrent PATCHes to one reference', async () => {
        const answers = await Promise.all(Array.from({ length: RACERS }, () => account.call('POST', '/v1/app_offerings', validOffering(si, { name: 'Racing Name' }))))
        assert.equal(answers.filter((r) => r.statusCode === 201).length, 1)
        assert.equal(answers.filter((r) => r.statusCode === 422).length, RACERS - 1)

        const offerings = await Promise.all(Array.from({ length: 6 }, () => createOffering(account, si)))
        const target = `${account.id}_patched_to`
        const patches = await Promise.all(offerings.map((o) => account.call('PATCH', `/v1/app_offerings/${o.id}`, { reference: target })))
        assert.deepEqual(patches.map((r) => r.statusCode).sort(), [200, 422, 422, 422, 422, 422])
        const rows = await h().database.db.selectFrom('app_offerings').select('id').where('reference', '=', target).execute()
        assert.equal(rows.length, 1)
      })
    })
  })
}

for (const engine of engines) {
  describe(`wire behaviour with PUBLIC_URL (${engine})`, () => {
    const h = useHarness(engine, { PUBLIC_URL: 'https://offerings.example.com' })

    it('builds Location from PUBLIC_URL and nodeIDs from its host, whatever the request Host', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const res = await account.call('POST', '/v1/app_offerings', validOffering(si), { host: 'evil.example.net' })
      assert.equal(res.headers.location, `https://offerings.example.com/v1/app_offerings/${res.json().id}`)
      assert.equal(Buffer.from(res.json().nodeID, 'base64url').toString(), `offerings.example.com/AppOffering/${res.json().id}`)
      const localNode = encodeNodeId('localhost', 'AppOffering', res.json().id)
      assert.equal((await account.call('GET', `/v1/app_offerings/${localNode}`)).statusCode, 404)
      assert.equal((await account.call('GET', `/v1/app_offerings/${res.json().nodeID}`)).statusCode, 200)
    })
  })
}
