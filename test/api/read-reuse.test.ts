// Answers reuse what a process has rendered and read before (records by version, pages and
// counts by the account's change counter) only while the database still holds it: a second
// server process on the same database, which has its own kept copies, must see every write of
// the first at once.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { engines } from '../support/stores.ts'
import { request, useHarness, type TestAccount } from '../support/harness.ts'
import { createOffering, serviceInstance } from '../support/offerings.ts'

for (const engine of engines) {
  describe(`reused renderings and results (${engine})`, () => {
    const h = useHarness(engine)
    const others: FastifyInstance[] = []

    /** Another server process on the same database: its own kept renderings and results. */
    async function otherProcess(env: Record<string, string> = {}): Promise<FastifyInstance> {
      const config = loadConfig({ RESULT_CACHE_AFTER: '1', ...env, RATE_LIMIT: 'off', LOG_LEVEL: 'silent', SECRET_KEY: h().config.secretKey! })
      const app = await buildApp({ config, database: h().database, secretKey: config.secretKey! }, pino({ level: 'silent' }))
      await app.ready()
      others.push(app)
      return app
    }

    after(async () => {
      for (const app of others) await app.close()
    })

    const as = (account: TestAccount, app: FastifyInstance) => (url: string) =>
      request(app, 'GET', url, undefined, { authorization: `Bearer ${account.token}` })

    let account: TestAccount
    let instance: number
    let offerings: Array<{ id: number }>
    before(async () => {
      account = await h().account()
      instance = await serviceInstance(account, 'Mail')
      offerings = []
      for (const name of ['Alpha', 'Bravo', 'Charlie']) offerings.push(await createOffering(account, instance, { name }))
    })

    it('shows every write of one process in the next answer of another, records, pages and counts alike', async () => {
      const other = as(account, await otherProcess())
      const id = offerings[1].id
      const urls = ['/v1/app_offerings', `/v1/app_offerings/${id}`, '/v1/app_offerings?fields=name,service_instance&sort=-name', '/v1/app_offerings?name=Bravo']
      for (const url of urls) assert.equal((await other(url)).statusCode, 200)

      assert.equal((await account.call('PATCH', `/v1/app_offerings/${id}`, { name: 'Bravo II' })).statusCode, 200)
      const list = await other('/v1/app_offerings')
      assert.deepEqual(list.json().map((o: { name: string }) => o.name), ['Alpha', 'Bravo II', 'Charlie'])
      const record = await other(`/v1/app_offerings/${id}`)
      assert.equal(record.json().name, 'Bravo II')
      assert.equal(record.headers.etag, (await account.call('GET', `/v1/app_offerings/${id}`)).headers.etag)
      assert.deepEqual((await other('/v1/app_offerings?name=Bravo')).json(), [])

      // A reference shows its target as it is now, though the offering itself did not change.
      assert.equal((await account.call('PATCH', `/v1/service_instances/${instance}`, { name: 'Mail II' })).statusCode, 200)
      assert.equal((await other(`/v1/app_offerings/${id}`)).json().service_instance.name, 'Mail II')
      const sorted = (await other('/v1/app_offerings?fields=name,service_instance&sort=-name')).json()
      assert.deepEqual(sorted.map((o: { service_instance: { name: string } }) => o.service_instance.name), ['Mail II', 'Mail II', 'Mail II'])

      await createOffering(account, instance, { name: 'Delta' })
      const grown = await other('/v1/app_offerings')
      assert.equal(grown.headers['x-pagination-total-entries'], '4')
      assert.deepEqual(grown.json().map((o: { name: string }) => o.name), ['Alpha', 'Bravo II', 'Charlie', 'Delta'])
    })

    it('answers the same bytes with nothing kept and with room for one record and one page', async () => {
      const urls = [
        '/v1/app_offerings',
        `/v1/app_offerings/${offerings[0].id}`,
        '/v1/app_offerings?fields=name,reference,disabled,created_at,service_instance&sort=-created_at',
        '/v1/app_offerings?per_page=2',
        '/v1/service_instances',
      ]
      const kept = as(account, h().app)
      const none = as(account, await otherProcess({ RESULT_CACHE_BYTES: '0' }))
      const tight = as(account, await otherProcess({ RESULT_CACHE_BYTES: '16kb' }))
      for (const url of urls) {
        const expected = await kept(url)
        assert.equal(expected.statusCode, 200)
        for (const [label, get] of [['nothing kept', none], ['one of each kept', tight]] as const) {
          for (let round = 0; round < 2; round++) {
            const answer = await get(url)
            assert.equal(answer.body, expected.body, `${label}, ${url}, round ${round}`)
            for (const header of ['link', 'etag', 'x-pagination-total-entries', 'content-type']) {
              assert.equal(answer.headers[header], expected.headers[header], `${label}, ${url}: ${header}`)
            }
          }
        }
      }
    })
  })
}
