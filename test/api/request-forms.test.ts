// The forms real clients of the API send besides the canonical one (issue 10): a trailing `/`,
// a `.json` suffix, `ids=` for `id=`, the `bearer` scheme in lower case; and who the token is
// (GET /v1/me, /v1/people/...; conventions.md §1).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { canonicalUrl } from '../../src/http/paths.ts'
import { encodeNodeId } from '../../src/catalogue/node-id.ts'
import { createAccount } from '../../src/storage/accounts.ts'
import { findOrCreatePerson } from '../../src/storage/people.ts'
import { createToken } from '../../src/storage/tokens.ts'
import { engines } from '../support/stores.ts'
import { request, uniqueId, useHarness } from '../support/harness.ts'
import { createOffering, serviceInstance, validOffering } from '../support/offerings.ts'

describe('canonical URLs', () => {
  it('drops a trailing slash and a .json suffix, keeps the query, and reads ids= as id=', () => {
    const cases: Array<[string, string]> = [
      ['/v1/app_offerings/', '/v1/app_offerings'],
      ['/v1/app_offerings/12/', '/v1/app_offerings/12'],
      ['/v1/app_offerings.json', '/v1/app_offerings'],
      ['/v1/app_offerings/12.json?fields=name', '/v1/app_offerings/12?fields=name'],
      ['/v1/app_offerings/?per_page=2&ids=1,2', '/v1/app_offerings?per_page=2&id=1,2'],
      ['/v1/openapi.json', '/v1/openapi.json'],
      ['/v1/', '/v1'],
      ['/', '/'],
      ['/v1/app_offerings?name=x/', '/v1/app_offerings?name=x/'],
      ['/v1/app_offerings?name=a.json', '/v1/app_offerings?name=a.json'],
      ['/v1/app_offerings?mids=1', '/v1/app_offerings?mids=1'],
    ]
    for (const [given, canonical] of cases) assert.equal(canonicalUrl(given), canonical, given)
  })
})

for (const engine of engines) {
  describe(`request forms (${engine})`, () => {
    const h = useHarness(engine, { PUBLIC_URL: 'https://api.example.test' })

    it('creates with a trailing slash, and reads and updates with one, answering canonical Location', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const created = await account.call('POST', '/v1/app_offerings/', validOffering(si))
      assert.equal(created.statusCode, 201, created.body)
      const id = created.json().id
      assert.equal(created.headers.location, `https://api.example.test/v1/app_offerings/${id}`)
      const read = await account.call('GET', `/v1/app_offerings/${id}/`)
      assert.equal(read.statusCode, 200)
      assert.equal(read.json().id, id)
      const updated = await account.call('PATCH', `/v1/app_offerings/${id}/`, { name: 'Renamed offering' })
      assert.equal(updated.statusCode, 200, updated.body)
      assert.equal(updated.json().name, 'Renamed offering')
      const si2 = await account.call('POST', '/v1/service_instances/', { name: 'Second' })
      assert.equal(si2.statusCode, 201)
    })

    it('reads with a .json suffix, a record and a collection, with canonical Link URLs', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const first = await createOffering(account, si)
      await createOffering(account, si)
      const record = await account.call('GET', `/v1/app_offerings/${first.id}.json`)
      assert.equal(record.statusCode, 200)
      assert.equal(record.json().name, first.name)
      const list = await account.call('GET', '/v1/app_offerings.json?per_page=1&fields=name')
      assert.equal(list.statusCode, 200)
      assert.equal(list.json().length, 1)
      const link = String(list.headers.link)
      assert.ok(link.startsWith('<https://api.example.test/v1/app_offerings?'), link)
      assert.doesNotMatch(link, /\.json/)
      const slashed = await account.call('GET', '/v1/app_offerings/?per_page=1')
      assert.ok(String(slashed.headers.link).startsWith('<https://api.example.test/v1/app_offerings?'), String(slashed.headers.link))
      // The document's own name keeps its suffix.
      assert.equal((await request(h().app, 'GET', '/v1/openapi.json')).statusCode, 200)
    })

    it('takes ids= as the id filter', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const [a, , c] = [await createOffering(account, si), await createOffering(account, si), await createOffering(account, si)]
      const res = await account.call('GET', `/v1/app_offerings?ids=${a.id},${c.id}`)
      assert.equal(res.statusCode, 200)
      assert.deepEqual(res.json().map((r: { id: number }) => r.id).sort((x: number, y: number) => x - y), [a.id, c.id])
    })

    it('accepts the bearer scheme in any case, and still refuses other schemes', async () => {
      const account = await h().account()
      for (const scheme of ['bearer', 'BEARER', 'Bearer', 'bEaReR']) {
        const res = await request(h().app, 'GET', '/v1/app_offerings', undefined, { authorization: `${scheme} ${account.token}` })
        assert.equal(res.statusCode, 200, scheme)
      }
      for (const authorization of [`Basic ${account.token}`, `Token ${account.token}`, account.token, `bearer`]) {
        const res = await request(h().app, 'GET', '/v1/app_offerings', undefined, { authorization })
        assert.equal(res.statusCode, 401, authorization)
      }
    })

    it('GET /v1/me and /v1/people/me answer the token\'s person', async () => {
      const id = uniqueId()
      await createAccount(h().database, id, 'Widget Data Center')
      const personId = await findOrCreatePerson(h().database, id, 'Ann Smith', 'ann@example.com')
      const { token } = await createToken(h().database, id, { personId })
      const headers = { authorization: `Bearer ${token}` }
      const me = await request(h().app, 'GET', '/v1/me', undefined, headers)
      assert.equal(me.statusCode, 200, me.body)
      const body = me.json()
      assert.deepEqual(Object.keys(body), ['id', 'nodeID', 'name', 'primary_email', 'account', 'disabled', 'created_at', 'updated_at'])
      assert.equal(body.id, personId)
      assert.equal(body.nodeID, encodeNodeId('api.example.test', 'Person', personId))
      assert.deepEqual(
        { name: body.name, primary_email: body.primary_email, account: body.account, disabled: body.disabled },
        { name: 'Ann Smith', primary_email: 'ann@example.com', account: { id, name: 'Widget Data Center' }, disabled: false },
      )
      assert.match(body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/)
      assert.equal(me.headers['cache-control'], 'no-store')
      for (const url of ['/v1/people/me', `/v1/people/${personId}`, `/v1/people/${body.nodeID}`, '/v1/me/', '/v1/me.json']) {
        const res = await request(h().app, 'GET', url, undefined, headers)
        assert.equal(res.statusCode, 200, url)
        assert.deepEqual(res.json(), body, url)
      }
      const teams = await request(h().app, 'GET', `/v1/people/${personId}/teams`, undefined, headers)
      assert.equal(teams.statusCode, 200)
      assert.deepEqual(teams.json(), [])
      // Without a token: 401, as every /v1 route.
      assert.equal((await request(h().app, 'GET', '/v1/me')).statusCode, 401)
    })

    it('a token made without a person belongs to the account\'s default person; other accounts\' people are 404', async () => {
      const account = await h().account('Default Corp')
      const other = await h().account()
      const me = (await account.call('GET', '/v1/me')).json()
      assert.deepEqual({ name: me.name, primary_email: me.primary_email, account: me.account }, { name: 'Administrator', primary_email: null, account: { id: account.id, name: 'Default Corp' } })
      // The read token of the same account has the same default person.
      const reader = await request(h().app, 'GET', '/v1/people/me', undefined, { authorization: `Bearer ${account.readToken}` })
      assert.equal(reader.json().id, me.id)
      const theirs = (await other.call('GET', '/v1/me')).json()
      assert.notEqual(theirs.id, me.id)
      for (const url of [`/v1/people/${theirs.id}`, `/v1/people/${theirs.nodeID}`, `/v1/people/${theirs.id}/teams`, '/v1/people/0', '/v1/people/x', '/v1/people/999999999']) {
        const res = await account.call('GET', url)
        assert.equal(res.statusCode, 404, url)
        assert.deepEqual(res.json(), { message: 'Not Found' })
      }
      const tagged = await account.call('GET', '/v1/me')
      assert.equal((await account.call('GET', '/v1/me', undefined, { 'if-none-match': String(tagged.headers.etag) })).statusCode, 304)
    })
  })
}
