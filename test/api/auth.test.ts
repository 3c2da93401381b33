// conventions.md §1–2: tokens, the working account, scopes, and no way into another account.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { engines } from '../support/stores.ts'
import { request, uniqueId, useHarness } from '../support/harness.ts'
import { createOffering, serviceInstance, validOffering } from '../support/offerings.ts'
import { createToken, revokeToken } from '../../src/storage/tokens.ts'
import { createAccount } from '../../src/storage/accounts.ts'

const UNAUTHORIZED = { message: 'Unauthorized' }
const FORBIDDEN = { message: 'Forbidden' }
const NOT_FOUND = { message: 'Not Found' }

for (const engine of engines) {
  describe(`authentication and accounts (${engine})`, () => {
    const h = useHarness(engine)
    const call = (method: string, url: string, headers: Record<string, string>, body?: unknown) => request(h().app, method, url, body, headers)

    it('answers GET /v1 without a token with 200 {}', async () => {
      const res = await call('GET', '/v1', {})
      assert.equal(res.statusCode, 200)
      assert.deepEqual(res.json(), {})
    })

    it('answers 401 for a missing, malformed or unknown token, on reads and writes', async () => {
      const account = await h().account()
      const refused: Array<Record<string, string>> = [
        {},
        { authorization: '' },
        { authorization: account.token },
        { authorization: `Bearer` },
        { authorization: `Bearer ${account.token.slice(0, 10)}` },
        { authorization: `Bearer ${account.token}x` },
        { authorization: `Bearer ${account.token} extra` },
        { authorization: `Token ${account.token}` },
        { authorization: `Basic ${Buffer.from(`${account.token}:`).toString('base64')}` },
        { authorization: `Bearer ao_${'A'.repeat(43)}` },
        { authorization: 'Bearer \u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9'.replace(/./g, 'x') },
      ]
      for (const headers of refused) {
        for (const [method, url] of [['GET', '/v1/app_offerings'], ['GET', '/v1/service_instances/1'], ['POST', '/v1/app_offerings'], ['GET', '/v1/nowhere']]) {
          const res = await call(method, url, headers, method === 'POST' ? {} : undefined)
          assert.equal(res.statusCode, 401, `${method} ${url} ${JSON.stringify(headers)}`)
          assert.deepEqual(res.json(), UNAUTHORIZED)
        }
      }
    })

    it('refuses a token in the query string', async () => {
      const account = await h().account()
      for (const query of [`access_token=${account.token}`, `token=${account.token}`, `api_token=${account.token}`]) {
        const res = await call('GET', `/v1/app_offerings?${query}`, {})
        assert.equal(res.statusCode, 401)
        assert.deepEqual(res.json(), UNAUTHORIZED)
      }
    })

    it('answers 401 for a revoked token', async () => {
      const account = await h().account()
      const { id, token } = await createToken(h().database, account.id)
      assert.ok(await revokeToken(h().database, id))
      const res = await call('GET', '/v1/app_offerings', { authorization: `Bearer ${token}` })
      assert.equal(res.statusCode, 401)
      assert.deepEqual(res.json(), UNAUTHORIZED)
    })

    it('works in the own account without a header, with X-4me-Account and with x-xurrent-account', async () => {
      const account = await h().account()
      const variants: Array<Record<string, string>> = [{}, { 'X-4me-Account': account.id }, { 'x-xurrent-account': account.id }, { 'X-XURRENT-ACCOUNT': account.id }]
      for (const headers of variants) {
        const res = await account.call('GET', '/v1/app_offerings', undefined, headers)
        assert.equal(res.statusCode, 200, JSON.stringify(headers))
      }
    })

    it('answers 403 for another account, existing or not, named in either header', async () => {
      const account = await h().account()
      const existing = await h().account()
      for (const name of [existing.id, uniqueId('ghost'), 'demo', account.id.toUpperCase(), `${account.id}x`]) {
        for (const header of ['x-4me-account', 'x-xurrent-account']) {
          const res = await account.call('GET', '/v1/app_offerings', undefined, { [header]: name })
          assert.equal(res.statusCode, 403, `${header}: ${name}`)
          assert.deepEqual(res.json(), FORBIDDEN)
        }
      }
    })

    it('lets X-Xurrent-Account win when both headers are sent', async () => {
      const account = await h().account()
      const other = await h().account()
      const wins = await account.call('GET', '/v1/app_offerings', undefined, { 'x-xurrent-account': account.id, 'x-4me-account': other.id })
      assert.equal(wins.statusCode, 200)
      const loses = await account.call('GET', '/v1/app_offerings', undefined, { 'x-xurrent-account': other.id, 'x-4me-account': account.id })
      assert.equal(loses.statusCode, 403)
    })

    it('checks the token before the account header', async () => {
      const other = await h().account()
      const res = await call('GET', '/v1/app_offerings', { 'x-4me-account': other.id, authorization: 'Bearer ao_unknown_token_value' })
      assert.equal(res.statusCode, 401)
    })

    it('lets a read token read, and answers 403 to its writes, after 404 for a missing record', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const offering = await createOffering(account, si)
      const asReader = (method: string, url: string, body?: unknown) => request(h().app, method, url, body, { authorization: `Bearer ${account.readToken}` })

      assert.equal((await asReader('GET', `/v1/app_offerings/${offering.id}`)).statusCode, 200)
      assert.equal((await asReader('GET', '/v1/app_offerings')).statusCode, 200)
      assert.equal((await asReader('GET', '/v1/service_instances/active')).statusCode, 200)

      for (const [method, url] of [
        ['POST', '/v1/app_offerings'],
        ['POST', '/v1/service_instances'],
        ['PATCH', `/v1/app_offerings/${offering.id}`],
        ['PUT', `/v1/app_offerings/${offering.nodeID}`],
        ['PATCH', `/v1/service_instances/${si}`],
      ]) {
        const res = await asReader(method, url, { name: 'Changed by a reader' })
        assert.equal(res.statusCode, 403, `${method} ${url}`)
        assert.deepEqual(res.json(), FORBIDDEN)
      }
      // The scope is judged before the body: bad JSON from a reader is still a 403.
      assert.equal((await asReader('POST', '/v1/app_offerings', '{not json')).statusCode, 403)
      for (const url of ['/v1/app_offerings/999999999', '/v1/service_instances/999999999', '/v1/app_offerings/bm9wZQ']) {
        const res = await asReader('PATCH', url, { name: 'x' })
        assert.equal(res.statusCode, 404, url)
        assert.deepEqual(res.json(), NOT_FOUND)
      }
      assert.equal((await account.call('GET', `/v1/app_offerings/${offering.id}`)).json().name, offering.name)
    })

    it("answers 404, never 403, for another account's records, by id and nodeID, for any token", async () => {
      const owner = await h().account()
      const stranger = await h().account()
      const si = await serviceInstance(owner)
      const offering = await createOffering(owner, si)
      const asStrangerReader = (method: string, url: string, body?: unknown) => request(h().app, method, url, body, { authorization: `Bearer ${stranger.readToken}` })
      const paths = [`/v1/app_offerings/${offering.id}`, `/v1/app_offerings/${offering.nodeID}`, `/v1/service_instances/${si}`]
      for (const path of paths) {
        for (const method of ['GET', 'PATCH', 'PUT']) {
          const body = method === 'GET' ? undefined : { name: 'Hijacked', service_instance_id: si }
          for (const res of [await stranger.call(method, path, body), await asStrangerReader(method, path, body)]) {
            assert.equal(res.statusCode, 404, `${method} ${path}`)
            assert.deepEqual(res.json(), NOT_FOUND)
          }
        }
      }
      // Nor can a stranger point its own offering at the owner's service instance.
      const strangerSi = await serviceInstance(stranger)
      const res = await stranger.call('POST', '/v1/app_offerings', validOffering(strangerSi, { service_instance_id: si }))
      assert.equal(res.statusCode, 422)
      assert.deepEqual(res.json().errors, [['service_instance', 'must exist']])
      for (const path of ['/v1/app_offerings', `/v1/app_offerings?id=${offering.id}`, '/v1/app_offerings/latest_internal', '/v1/service_instances']) {
        const list = await stranger.call('GET', path)
        assert.ok(list.json().every((r: { id: number }) => r.id !== offering.id && r.id !== si), path)
      }
      assert.equal((await owner.call('GET', `/v1/app_offerings/${offering.id}`)).json().name, offering.name)
    })

    it('acts for the account the token belongs to, even with one token per account', async () => {
      const id = uniqueId('solo')
      await createAccount(h().database, id, 'Solo')
      const { token } = await createToken(h().database, id, { scope: 'write', name: 'ci' })
      const res = await call('POST', '/v1/service_instances', { authorization: `Bearer ${token}`, 'x-4me-account': id }, { name: 'Solo SI' })
      assert.equal(res.statusCode, 201)
      const listed = await call('GET', '/v1/service_instances', { authorization: `Bearer ${token}` })
      assert.deepEqual(listed.json().map((r: { name: string }) => r.name), ['Solo SI'])
    })
  })
}
