// Bounded, reused counting (conventions.md §3): exact up to PAGINATION_COUNT_CAP, the cap and
// X-Pagination-Throttled above it, a count carried along a cursor walk, and a kept count never
// outliving a change of what it counted, whoever wrote it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Kysely } from 'kysely'
import pino from 'pino'
import { buildApp } from '../../src/app.ts'
import { engines } from '../support/stores.ts'
import { request, useHarness, type TestAccount } from '../support/harness.ts'
import { serviceInstance, validOffering } from '../support/offerings.ts'
import { links, offering, pagination, walk } from '../support/collections.ts'

/** A record written straight into the table, as an operator with psql would. */
async function insertBehindTheApi(db: Kysely<any>, account: TestAccount, serviceInstanceId: number, name: string): Promise<void> {
  const now = Math.floor(Date.now() / 1000)
  await db
    .insertInto('app_offerings')
    .values({
      account_id: account.id,
      reference: `${account.id}_${name}`,
      name,
      service_instance_id: serviceInstanceId,
      policy_jwt_alg: 'rs256',
      webhook_uri_template: 'https://hooks.example.com/x',
      created_at: now,
      updated_at: now,
    })
    .execute()
}

const total = async (account: TestAccount, path = '/v1/app_offerings') => {
  const res = await account.call('GET', path)
  assert.equal(res.statusCode, 200, res.body)
  return pagination(res)
}

for (const engine of engines) {
  describe(`collections: counting above the cap (${engine})`, () => {
    const h = useHarness(engine, { PAGINATION_COUNT_CAP: '5' })

    it('counts exactly up to the cap, then reports the cap with X-Pagination-Throttled', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      for (let i = 0; i < 5; i++) await offering(account, si, { name: `N${i}` })
      const exact = await account.call('GET', '/v1/app_offerings?per_page=2')
      assert.deepEqual(pagination(exact), { perPage: 2, currentPage: 1, totalPages: 3, totalEntries: 5, throttled: false })
      assert.equal(exact.headers['x-pagination-throttled'], undefined)
      for (let i = 5; i < 8; i++) await offering(account, si, { name: `N${i}` })
      const capped = await account.call('GET', '/v1/app_offerings?per_page=2')
      assert.deepEqual(pagination(capped), { perPage: 2, currentPage: 1, totalPages: 3, totalEntries: 5, throttled: true })
      assert.equal(capped.headers['x-pagination-throttled'], 'true')
      // Every record is still reachable along the links, past the counted pages.
      assert.equal((await walk(account, '/v1/app_offerings?per_page=2', 'next')).ids.length, 8)
      // A filter that matches fewer is exact again.
      assert.deepEqual(await total(account, '/v1/app_offerings?name=N1'), { perPage: 20, currentPage: 1, totalPages: 1, totalEntries: 1, throttled: false })
      // The collection held 5 (at most the cap) a moment ago, so its filters are counted without
      // the cap for a minute (records/reuse.ts): past the cap the answer is still the cap.
      assert.deepEqual(await total(account, '/v1/app_offerings?name=!N1'), { perPage: 20, currentPage: 1, totalPages: 1, totalEntries: 5, throttled: true })
    })
  })

  describe(`collections: reusing counts (${engine})`, () => {
    const h = useHarness(engine)

    it('never hides a row written behind the API, in counts or pages, and a walk keeps its first count', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const db = h().database.db as Kysely<any>
      for (let i = 0; i < 6; i++) await offering(account, si, { name: `N${i}` })
      assert.equal((await total(account)).totalEntries, 6)
      assert.equal((await total(account, '/v1/app_offerings?name=!N0')).totalEntries, 5)

      // The database moves the collection's watermark for any writer: the kept answers go stale.
      await insertBehindTheApi(db, account, si, 'hidden')
      assert.equal((await total(account)).totalEntries, 7)
      assert.equal((await total(account, '/v1/app_offerings?name=!N0')).totalEntries, 6)
      assert.ok((await account.call('GET', '/v1/app_offerings?per_page=100')).json().some((o: { name: string }) => o.name === 'hidden'))
      await db.updateTable('app_offerings').set({ name: 'renamed behind' }).where('account_id', '=', account.id).where('name', '=', 'hidden').execute()
      assert.ok((await account.call('GET', '/v1/app_offerings?per_page=100')).json().some((o: { name: string }) => o.name === 'renamed behind'))

      // A walk by cursor counts once, on its first page, and carries that count along.
      const walked = await walk(account, '/v1/app_offerings?per_page=2', 'next')
      assert.equal(walked.ids.length, 7)
      await insertBehindTheApi(db, account, si, 'hidden2')
      for (const page of walked.pages.slice(1)) assert.equal(pagination(await account.call('GET', page.url)).totalEntries, 7)
      assert.equal((await total(account)).totalEntries, 8, 'a new walk counts anew')
      await serviceInstance(account, 'Another')
      assert.equal((await total(account)).totalEntries, 8)
    })

    it("counts anew for a cursor replayed by another account or with other filters", async () => {
      const a = await h().account()
      const b = await h().account()
      const si = await serviceInstance(a)
      for (let i = 0; i < 3; i++) await offering(a, si, { name: `A${i}` })
      await offering(b, await serviceInstance(b), { name: 'B0' })
      const first = await a.call('GET', '/v1/app_offerings?per_page=1')
      assert.equal(pagination(first).totalEntries, 3)
      const next = links(first).next
      assert.equal(pagination(await a.call('GET', next)).totalEntries, 3, 'carried along the walk')
      assert.equal(pagination(await b.call('GET', next)).totalEntries, 1, "another account's own count")
      assert.equal(pagination(await a.call('GET', `${next}&name=A2`)).totalEntries, 1, 'other filters, their own count')
    })

    it('keeps counts of different filters, subsets and accounts apart', async () => {
      const a = await h().account()
      const b = await h().account()
      const si = await serviceInstance(a)
      await offering(a, si, { name: 'one' })
      await offering(a, si, { name: 'two' })
      assert.equal((await total(a)).totalEntries, 2)
      assert.equal((await total(a, '/v1/app_offerings?name=one')).totalEntries, 1)
      assert.equal((await total(a, '/v1/app_offerings?name=!one')).totalEntries, 1)
      assert.equal((await total(a, '/v1/app_offerings?name!=two')).totalEntries, 1)
      assert.equal((await total(a, '/v1/app_offerings?name=three')).totalEntries, 0)
      assert.equal((await total(a, '/v1/app_offerings/latest_internal?name=one')).totalEntries, 1)
      assert.equal((await total(b)).totalEntries, 0)
      assert.equal((await total(b, '/v1/service_instances')).totalEntries, 0)
      assert.equal((await total(a, '/v1/service_instances')).totalEntries, 1)
      // A new service instance is being prepared: inactive.
      assert.equal((await total(a, '/v1/service_instances/inactive')).totalEntries, 1)
      assert.equal((await total(a, '/v1/service_instances/active')).totalEntries, 0)
    })

    it('makes a count stale in every server process sharing the database', async () => {
      // A second app over its own connection to the same database stands for another process.
      const second = h().store.open()
      const other = await buildApp({ config: h().config, database: second, secretKey: h().config.secretKey! }, pino({ level: 'silent' }))
      try {
        const account = await h().account()
        const si = await serviceInstance(account)
        await offering(account, si, { name: 'first' })
        const viaOther = async () =>
          pagination(await request(other, 'GET', '/v1/app_offerings', undefined, { authorization: `Bearer ${account.token}` })).totalEntries
        assert.equal(await viaOther(), 1)
        const created = await account.call('POST', '/v1/app_offerings', validOffering(si, { name: 'second' }))
        assert.equal(created.statusCode, 201)
        assert.equal(await viaOther(), 2)
      } finally {
        await other.close()
        await second.close()
      }
    })
  })
}
