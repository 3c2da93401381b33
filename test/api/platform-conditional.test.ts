import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { engines } from '../support/stores.ts'
import { useHarness, type TestAccount } from '../support/harness.ts'
import { validOffering } from '../support/offerings.ts'

async function serviceInstance(account: TestAccount): Promise<{ id: number; etag: string }> {
  const res = await account.call('POST', '/v1/service_instances', { name: `Mail ${Math.random().toString(36).slice(2, 8)}` })
  assert.equal(res.statusCode, 201, res.body)
  return { id: res.json().id, etag: res.headers.etag as string }
}

for (const engine of engines) {
  describe(`conditional requests (${engine})`, () => {
    const h = useHarness(engine)

    it('gives single records a weak ETag that every update changes, even twice in one second', async () => {
      const account = await h().account()
      const created = await serviceInstance(account)
      assert.match(created.etag, /^W\/"[^"]+"$/)
      const read = await account.call('GET', `/v1/service_instances/${created.id}`)
      assert.equal(read.headers.etag, created.etag)
      const first = await account.call('PATCH', `/v1/service_instances/${created.id}`, { name: 'One' })
      const second = await account.call('PATCH', `/v1/service_instances/${created.id}`, { name: 'Two' })
      const tags = [created.etag, first.headers.etag, second.headers.etag]
      assert.equal(new Set(tags).size, 3, `three versions, three tags: ${tags}`)
      assert.equal((await account.call('GET', `/v1/service_instances/${created.id}`)).headers.etag, second.headers.etag)
    })

    it('tags what is sent: a renamed service instance changes the tag of an offering and of a list showing it', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const created = await account.call('POST', '/v1/app_offerings', validOffering(si.id))
      assert.equal(created.statusCode, 201, created.body)
      const path = `/v1/app_offerings/${created.json().id}`
      const before = await account.call('GET', path)
      const listBefore = await account.call('GET', '/v1/app_offerings')
      assert.match(listBefore.headers.etag as string, /^W\/"[0-9a-f]{32}"$/)
      assert.equal((await account.call('GET', '/v1/app_offerings', undefined, { 'if-none-match': listBefore.headers.etag as string })).statusCode, 304)
      assert.equal((await account.call('PATCH', `/v1/service_instances/${si.id}`, { name: 'Renamed' })).statusCode, 200)
      const after = await account.call('GET', path, undefined, { 'if-none-match': before.headers.etag as string })
      assert.equal(after.statusCode, 200, 'the old tag no longer matches')
      assert.equal(after.json().service_instance.name, 'Renamed')
      assert.notEqual(after.headers.etag, before.headers.etag)
      const listAfter = await account.call('GET', '/v1/app_offerings', undefined, { 'if-none-match': listBefore.headers.etag as string })
      assert.equal(listAfter.statusCode, 200)
      assert.notEqual(listAfter.headers.etag, listBefore.headers.etag)
    })

    it('answers 304 without a body to If-None-Match while the record is unchanged', async () => {
      const account = await h().account()
      const { id, etag } = await serviceInstance(account)
      const unchanged = await account.call('GET', `/v1/service_instances/${id}`, undefined, { 'if-none-match': etag })
      assert.equal(unchanged.statusCode, 304)
      assert.equal(unchanged.body, '')
      assert.equal(unchanged.headers.etag, etag)
      const strong = etag.replace(/^W\//, '')
      assert.equal((await account.call('GET', `/v1/service_instances/${id}`, undefined, { 'if-none-match': `"other", ${strong}` })).statusCode, 304)
      await account.call('PATCH', `/v1/service_instances/${id}`, { name: 'Changed' })
      const changed = await account.call('GET', `/v1/service_instances/${id}`, undefined, { 'if-none-match': etag })
      assert.equal(changed.statusCode, 200)
      assert.equal(changed.json().name, 'Changed')
    })

    it('applies PATCH and PUT with a current If-Match, or *', async () => {
      const account = await h().account()
      const { id, etag } = await serviceInstance(account)
      const patched = await account.call('PATCH', `/v1/service_instances/${id}`, { name: 'Patched' }, { 'if-match': etag })
      assert.equal(patched.statusCode, 200)
      const put = await account.call('PUT', `/v1/service_instances/${id}`, { name: 'Put' }, { 'if-match': patched.headers.etag as string })
      assert.equal(put.statusCode, 200)
      const any = await account.call('PATCH', `/v1/service_instances/${id}`, { name: 'Any' }, { 'if-match': '*' })
      assert.equal(any.statusCode, 200)
      assert.equal(any.json().name, 'Any')
    })

    it('refuses a stale If-Match with 409 and changes nothing', async () => {
      const account = await h().account()
      const { id, etag } = await serviceInstance(account)
      await account.call('PATCH', `/v1/service_instances/${id}`, { name: 'Theirs' })
      for (const method of ['PATCH', 'PUT']) {
        const stale = await account.call(method, `/v1/service_instances/${id}`, { name: 'Mine' }, { 'if-match': etag })
        assert.equal(stale.statusCode, 409)
        assert.deepEqual(stale.json(), { message: 'Conflict' })
      }
      const now = await account.call('GET', `/v1/service_instances/${id}`)
      assert.equal(now.json().name, 'Theirs')
      assert.equal((await account.call('PATCH', `/v1/service_instances/${id}`, { name: 'Theirs' }, { 'if-match': etag })).statusCode, 409, 'even a no-op is refused')
      assert.equal((await account.call('PATCH', '/v1/service_instances/999999', { name: 'x' }, { 'if-match': etag })).statusCode, 404)
    })

    it('lets only one of two editors with the same tag win', async () => {
      const account = await h().account()
      const { id, etag } = await serviceInstance(account)
      const results = await Promise.all(
        ['Alice', 'Bob'].map((name) => account.call('PATCH', `/v1/service_instances/${id}`, { name }, { 'if-match': etag })),
      )
      assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 409])
      const winner = results.find((r) => r.statusCode === 200)!.json().name
      assert.equal((await account.call('GET', `/v1/service_instances/${id}`)).json().name, winner)
    })
  })
}
