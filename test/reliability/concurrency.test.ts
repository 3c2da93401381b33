// Concurrency against a real server process: parallel updates of one record lose nothing,
// parallel creates of one reference make one record, and a burst of mixed requests from several
// accounts never answers 500 and never shows one account another's records.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Client, provision, spawnServer, type ServerProcess, type Tenant } from '../support/server-process.ts'
import { engines, freshStore, type TestStore } from '../support/stores.ts'
import { offeringBody } from '../support/workload.ts'

const TENANTS = 4
const BURST = 1200

for (const engine of engines) {
  describe(`concurrency (${engine})`, () => {
    let store: TestStore
    let server: ServerProcess
    let tenants: Tenant[]
    const clients = new Map<string, Client>()
    const serviceInstances = new Map<string, number>()
    const client = (tenant: Tenant) => clients.get(tenant.id)!

    before(async () => {
      store = await freshStore(engine)
      tenants = await provision(store, TENANTS)
      server = await spawnServer(store.url)
      for (const tenant of tenants) {
        clients.set(tenant.id, new Client(server.origin, tenant.token, 8))
        const res = await client(tenant).call('POST', '/v1/service_instances', { name: `Mail of ${tenant.id}` })
        assert.equal(res.status, 201, res.text)
        serviceInstances.set(tenant.id, res.json().id)
      }
    })
    after(async () => {
      for (const c of clients.values()) await c.close()
      await server?.stop()
      await store?.drop()
    })

    const create = async (tenant: Tenant, name: string, extra: Record<string, unknown> = {}) => {
      const res = await client(tenant).call('POST', '/v1/app_offerings', { ...offeringBody(serviceInstances.get(tenant.id)!, name), ...extra })
      assert.equal(res.status, 201, res.text)
      return res.json()
    }

    it('parallel PATCHes of different fields of one offering keep every one of them', async () => {
      const [tenant] = tenants
      for (let round = 0; round < 5; round++) {
        const record = await create(tenant, `Patched ${tenant.id} ${round}`)
        const changes: Record<string, unknown>[] = [
          { name: `Renamed ${tenant.id} ${round}` },
          { description: `description ${round}` },
          { features: `features ${round}` },
          { compliance: `compliance ${round}` },
          { card_description: `card ${round}` },
          { policy_jwt_audience: `audience ${round}` },
          { policy_jwt_claim_expires_in: 100 + round },
          { configuration_uri_template: `https://config.example.com/${round}/{account}` },
          { disabled: !record.disabled },
          { requires_enabled_oauth_person: true },
          { policy_jwt_alg: 'rs512' },
          { sourceID: `src-${round}` },
        ]
        const answers = await Promise.all(changes.map((change) => client(tenant).call('PATCH', `/v1/app_offerings/${record.id}`, change)))
        for (const res of answers) assert.equal(res.status, 200, res.text)
        const now = (await client(tenant).call('GET', `/v1/app_offerings/${record.id}`)).json()
        for (const change of changes) {
          for (const [field, value] of Object.entries(change)) assert.equal(now[field], value, `${field} lost in round ${round}`)
        }
      }
    })

    it('parallel creates of one reference make exactly one record, across accounts too', async () => {
      const reference = `shared_${Date.now().toString(36)}`
      const attempts = Array.from({ length: 24 }, (_, i) => {
        const tenant = tenants[i % tenants.length]
        return client(tenant).call('POST', '/v1/app_offerings', { ...offeringBody(serviceInstances.get(tenant.id)!, `Racer ${i}`), reference })
      })
      const answers = await Promise.all(attempts)
      const won = answers.filter((res) => res.status === 201)
      assert.equal(won.length, 1, answers.map((res) => res.status).join(' '))
      for (const res of answers.filter((r) => r.status !== 201)) {
        assert.equal(res.status, 422, res.text)
        assert.deepEqual(res.json(), { message: 'Validation Failed', errors: [['reference', 'has already been taken']] })
      }
      let found = 0
      for (const tenant of tenants) {
        const res = await client(tenant).call('GET', `/v1/app_offerings?reference=${reference}`)
        found += res.json().length
      }
      assert.equal(found, 1)
    })

    it(`a burst of ${BURST} mixed requests from ${TENANTS} accounts: no 5xx, no account mixed up`, async (t) => {
      const own = new Map<string, Set<number>>(tenants.map((tenant) => [tenant.id, new Set<number>()]))
      for (const tenant of tenants) {
        for (let i = 0; i < 5; i++) await create(tenant, `Seed ${tenant.id} ${i}`)
        for (const record of (await client(tenant).call('GET', '/v1/app_offerings?per_page=100')).json()) own.get(tenant.id)!.add(record.id)
      }
      const statuses = new Map<number, number>()
      const mixups: string[] = []

      const one = async (n: number) => {
        const tenant = tenants[n % tenants.length]
        const mine = [...own.get(tenant.id)!]
        const theirs = [...own.get(tenants[(n + 1) % tenants.length].id)!]
        const pick = (ids: number[]) => ids[n % ids.length]
        const c = client(tenant)
        const requests = [
          () => c.call('GET', '/v1/app_offerings?per_page=5&sort=-id'),
          () => c.call('GET', `/v1/app_offerings/${pick(mine)}`),
          () => c.call('GET', `/v1/app_offerings/${pick(theirs)}`),
          () => c.call('POST', '/v1/app_offerings', offeringBody(serviceInstances.get(tenant.id)!, `Burst ${tenant.id} ${n}`)),
          () => c.call('PATCH', `/v1/app_offerings/${pick(mine)}`, { card_description: `burst ${n}` }),
          () => c.call('PATCH', `/v1/app_offerings/${pick(theirs)}`, { card_description: `stolen by ${tenant.id}` }),
          () => c.call('GET', `/v1/app_offerings?fields=service_instance,disabled&disabled=false&per_page=3`),
          () => c.call('GET', '/v1/service_instances'),
          () => c.call('GET', '/v1/app_offerings', undefined, { 'x-4me-account': tenants[(n + 1) % tenants.length].id }),
        ]
        const res = await requests[n % requests.length]()
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        if (res.status >= 500) mixups.push(`${res.status} ${res.text}`)
        if (res.status === 201) own.get(tenant.id)!.add(res.json().id)
        const seen = `${res.text} ${res.headers.link ?? ''} ${res.headers.location ?? ''}`
        for (const other of tenants) {
          if (other !== tenant && seen.includes(other.id)) mixups.push(`${tenant.id} saw ${other.id}: ${res.text.slice(0, 200)}`)
        }
      }

      // A fixed number of requests, 32 in flight at a time.
      let next = 0
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < BURST) await one(next++)
        }),
      )
      assert.deepEqual(mixups, [])
      t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)

      // Another account's record was never changed by the PATCHes aimed at it.
      for (const tenant of tenants) {
        const res = await client(tenant).call('GET', `/v1/app_offerings?per_page=100&fields=card_description,reference`)
        for (const record of res.json()) {
          assert.ok(own.get(tenant.id)!.has(record.id), `${tenant.id} lists ${record.id}, not created through it`)
          assert.doesNotMatch(record.card_description ?? '', /stolen/)
        }
        assert.equal(Number(res.headers['x-pagination-total-entries']), own.get(tenant.id)!.size, `count of ${tenant.id}`)
      }
    })
  })
}
