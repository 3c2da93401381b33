// App instances (lifecycle.md, "App instances (installs)"): a customer installs a published,
// enabled version of a provider it trusts; both read the instance, each changes its own fields;
// the version moves only forward; one instance per customer and offering reference. The
// provider sees its instances and nothing else of the customer.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { setTrust } from '../../src/cli/trust.ts'
import { DISABLED, NOT_NEWER, NOT_PUBLISHED, ONLY_CUSTOMER, ONLY_PROVIDER } from '../../src/resources/app-instances/rules.ts'
import { engines } from '../support/stores.ts'
import { request, secondApp, useHarness, type TestAccount } from '../support/harness.ts'
import { assertInvalid, createOffering, serviceInstance } from '../support/offerings.ts'
import { pagination } from '../support/collections.ts'

const ids = (res: { json(): any }) => res.json().map((o: any) => o.id)

for (const engine of engines) {
  describe(`app instances (${engine})`, () => {
    const h = useHarness(engine)
    const others: FastifyInstance[] = []
    after(async () => {
      for (const app of others) await app.close()
    })
    let p1: TestAccount, p2: TestAccount, c1: TestAccount, c2: TestAccount
    let a: { draft: any; v1: any; v2: any; v3off: any }
    let bDraft: any
    let c: { draft: any; v1: any }

    const publish = async (account: TestAccount, id: number) => {
      const res = await account.call('POST', `/v1/app_offerings/${id}/publish`)
      assert.equal(res.statusCode, 201, res.body)
      return res.json()
    }
    const install = (account: TestAccount, offering: number, extra: Record<string, unknown> = {}) => account.call('POST', '/v1/app_instances', { app_offering_id: offering, ...extra })

    before(async () => {
      p1 = await h().account('Provider One')
      p2 = await h().account('Provider Two')
      c1 = await h().account('Customer One')
      c2 = await h().account('Customer Two')
      const si1 = await serviceInstance(p1, 'P1 service')
      const aDraft = await createOffering(p1, si1, { name: 'A offering' })
      const v1 = await publish(p1, aDraft.id)
      const v2 = await publish(p1, aDraft.id)
      const v3off = await publish(p1, aDraft.id)
      assert.equal((await p1.call('PATCH', `/v1/app_offerings/${v3off.id}`, { disabled: true })).statusCode, 200)
      a = { draft: aDraft, v1, v2, v3off }
      bDraft = await createOffering(p1, si1, { name: 'B draft only' })
      const cDraft = await createOffering(p2, await serviceInstance(p2, 'P2 service'), { name: 'C offering' })
      c = { draft: cDraft, v1: await publish(p2, cDraft.id) }
      // Crossed trust: c1 trusts both providers, c2 only p2.
      await setTrust(h().database, c1.id, p1.id, true)
      await setTrust(h().database, c1.id, p2.id, true)
      await setTrust(h().database, c2.id, p2.id, true)
    })

    async function otherProcess(): Promise<FastifyInstance> {
      const app = await secondApp(h())
      others.push(app)
      return app
    }

    it('installs a published, enabled version of a trusted provider: 201 with every field', async () => {
      const res = await install(c2, c.v1.id)
      assert.equal(res.statusCode, 201, res.body)
      const made = res.json()
      assert.match(String(res.headers.location), new RegExp(`/v1/app_instances/${made.id}$`))
      assert.deepEqual(made.app_offering, { id: c.v1.id, name: 'C offering', reference: c.draft.reference, nodeID: c.v1.nodeID })
      assert.deepEqual(made.customer_account, { id: c2.id, name: 'Customer Two' })
      assert.equal(made.enabled_by_customer, true)
      assert.equal(made.disabled, false)
      assert.equal(made.suspended, false)
      assert.equal(made.suspension_comment, null)
      assert.equal(typeof made.nodeID, 'string')
      // The install made the customer's webhook and policy; the key's PEM is in this answer only.
      assert.equal(made.webhook.name, 'C offering')
      assert.match(made.webhook_policy.name, /^RS256 policy /)
      assert.match(made.public_key_pem, /^-----BEGIN PUBLIC KEY-----\n/)
      const { public_key_pem: _, ...stored } = made
      assert.deepEqual((await c2.call('GET', `/v1/app_instances/${made.id}`)).json(), stored)
    })

    it('refuses a draft, a disabled version, an untrusted or unknown offering, and provider fields from the customer: 422', async () => {
      assertInvalid(await install(c1, a.draft.id), [['app_offering', NOT_PUBLISHED]])
      assertInvalid(await install(c1, bDraft.id), [['app_offering', NOT_PUBLISHED]])
      assertInvalid(await install(c1, a.v3off.id), [['app_offering', DISABLED]])
      assertInvalid(await install(c2, a.v1.id), [['app_offering', 'must exist']])
      assertInvalid(await install(c2, 999999999), [['app_offering', 'must exist']])
      assertInvalid(await c2.call('POST', '/v1/app_instances', {}), [['app_offering', 'must exist']])
      assertInvalid(await install(c1, a.v1.id, { disabled: true, suspension_comment: 'x' }), [['disabled', ONLY_PROVIDER], ['suspension_comment', ONLY_PROVIDER]])
      assert.equal((await c1.call('GET', '/v1/app_instances')).json().length, 0, 'nothing written')
      const reader = await c1.call('POST', '/v1/app_instances', { app_offering_id: a.v1.id }, { authorization: `Bearer ${c1.readToken}` })
      assert.equal(reader.statusCode, 403)
    })

    it('20 parallel installs of one offering give one instance; the rest 422, and another version of it is taken too', async () => {
      const customer = await h().account('Racing customer')
      await setTrust(h().database, customer.id, p1.id, true)
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => install(customer, i % 2 ? a.v1.id : a.v2.id)))
      const created = answers.filter((res) => res.statusCode === 201)
      assert.equal(created.length, 1, answers.map((res) => res.statusCode).join(','))
      for (const res of answers) if (res.statusCode !== 201) assertInvalid(res, [['app_offering', 'has already been taken']])
      assert.equal(pagination(await customer.call('GET', '/v1/app_instances')).totalEntries, 1)
    })

    it('both sides read an instance; each changes only its own fields; nobody else sees it', async () => {
      const made = (await install(c1, a.v1.id)).json()
      const path = `/v1/app_instances/${made.id}`
      // Reads: the customer and the provider; not another customer, not another provider.
      assert.deepEqual(ids(await c1.call('GET', '/v1/app_instances')), [made.id])
      assert.ok(ids(await p1.call('GET', '/v1/app_instances')).includes(made.id))
      assert.deepEqual((await p1.call('GET', path)).json().customer_account, { id: c1.id, name: 'Customer One' })
      for (const stranger of [c2, p2]) {
        assert.equal((await stranger.call('GET', path)).statusCode, 404)
        assert.equal((await stranger.call('PATCH', path, { enabled_by_customer: false })).statusCode, 404)
        assert.ok(!ids(await stranger.call('GET', '/v1/app_instances')).includes(made.id))
      }
      // The customer's side.
      const off = await c1.call('PATCH', path, { enabled_by_customer: false })
      assert.equal(off.statusCode, 200, off.body)
      assert.equal(off.json().enabled_by_customer, false)
      assertInvalid(await c1.call('PATCH', path, { disabled: true, suspended: true }), [['disabled', ONLY_PROVIDER], ['suspended', ONLY_PROVIDER]])
      assert.equal((await c1.call('PATCH', path, { disabled: false })).statusCode, 200, 'the current value is no change')
      // The provider's side.
      const suspended = await p1.call('PATCH', path, { disabled: true, suspended: true, suspension_comment: 'Unpaid' })
      assert.equal(suspended.statusCode, 200, suspended.body)
      assert.deepEqual([suspended.json().disabled, suspended.json().suspended, suspended.json().suspension_comment], [true, true, 'Unpaid'])
      assertInvalid(await p1.call('PATCH', path, { enabled_by_customer: true, app_offering_id: a.v2.id }), [['app_offering', ONLY_CUSTOMER], ['enabled_by_customer', ONLY_CUSTOMER]])
      // Predefined filters, from either side.
      assert.ok(!ids(await c1.call('GET', '/v1/app_instances/enabled')).includes(made.id))
      assert.ok(ids(await p1.call('GET', '/v1/app_instances/disabled')).includes(made.id))
      assert.equal((await p1.call('PATCH', path, { disabled: false, suspended: false })).statusCode, 200)
      assert.equal((await c1.call('PATCH', path, { enabled_by_customer: true })).statusCode, 200)
      assert.ok(ids(await c1.call('GET', '/v1/app_instances/enabled')).includes(made.id))
      assert.ok(!ids(await p1.call('GET', '/v1/app_instances/disabled')).includes(made.id))

      // The trail, in either side's read: who did what (each token's person).
      const customerPerson = (await c1.call('GET', '/v1/me')).json().id
      const providerPerson = (await p1.call('GET', '/v1/me')).json().id
      assert.notEqual(customerPerson, providerPerson)
      for (const reader of [c1, p1]) {
        const trail = await reader.call('GET', `${path}/audit`)
        assert.equal(trail.statusCode, 200, trail.body)
        const entries = trail.json()
        assert.deepEqual(entries.map((e: any) => e.action), ['update', 'update', 'update', 'update', 'create'])
        assert.deepEqual(entries.at(-1).changes.app_offering, [null, a.v1.id])
        assert.equal(entries.at(-1).created_by.id, customerPerson)
        assert.deepEqual(entries[1].changes, { disabled: [true, false], suspended: [true, false] })
        assert.equal(entries[1].created_by.id, providerPerson)
      }
      assert.equal((await c2.call('GET', `${path}/audit`)).statusCode, 404)
      assert.equal((await c1.call('DELETE', path)).statusCode, 405)
    })

    it('the provider lists an offering\'s instances (any version\'s id); the customer and other providers cannot', async () => {
      const listed = await p1.call('GET', `/v1/app_offerings/${a.draft.id}/app_instances`)
      assert.equal(listed.statusCode, 200, listed.body)
      const mine = ids(listed)
      assert.ok(mine.length >= 2, 'c1 and the racing customer')
      assert.deepEqual(ids(await p1.call('GET', `/v1/app_offerings/${a.v2.id}/app_instances`)), mine)
      assert.deepEqual(ids(await p1.call('GET', `/v1/app_offerings/${bDraft.id}/app_instances`)), [])
      assert.equal(pagination(listed).totalEntries, mine.length)
      const fields = await p1.call('GET', `/v1/app_offerings/${a.draft.id}/app_instances?fields=customer_account&per_page=1`)
      assert.deepEqual(Object.keys(fields.json()[0]).sort(), ['customer_account', 'id', 'nodeID'])
      assert.match(String(fields.headers.link), /search_after/)
      assert.equal((await c1.call('GET', `/v1/app_offerings/${a.v1.id}/app_instances`)).statusCode, 404)
      assert.equal((await p2.call('GET', `/v1/app_offerings/${a.draft.id}/app_instances`)).statusCode, 404)
    })

    it('moves only forward, to a newer enabled version of the same offering', async () => {
      const made = (await c1.call('GET', '/v1/app_instances')).json()[0]
      const path = `/v1/app_instances/${made.id}`
      const moved = await c1.call('PATCH', path, { app_offering_id: a.v2.id })
      assert.equal(moved.statusCode, 200, moved.body)
      assert.equal(moved.json().app_offering.id, a.v2.id)
      assertInvalid(await c1.call('PATCH', path, { app_offering_id: a.v1.id }), [['app_offering', NOT_NEWER]])
      assertInvalid(await c1.call('PATCH', path, { app_offering_id: c.v1.id }), [['app_offering', NOT_NEWER]])
      assertInvalid(await c1.call('PATCH', path, { app_offering_id: a.v3off.id }), [['app_offering', DISABLED]])
      assertInvalid(await c1.call('PATCH', path, { app_offering_id: a.draft.id }), [['app_offering', NOT_PUBLISHED]])
      assert.equal((await c1.call('PATCH', path, { app_offering_id: a.v2.id })).statusCode, 200, 'the same version is no change')
    })

    it('consumed lists the versions the account\'s instances use, readable by id, even once the trust is gone', async () => {
      const consumed = await c1.call('GET', '/v1/app_offerings/consumed')
      assert.equal(consumed.statusCode, 200, consumed.body)
      assert.deepEqual(ids(consumed), [a.v2.id])
      assert.deepEqual(consumed.json()[0].account, { id: p1.id, name: 'Provider One' })
      assert.deepEqual(ids(await c2.call('GET', '/v1/app_offerings/consumed')), [c.v1.id])
      assert.deepEqual(ids(await p1.call('GET', '/v1/app_offerings/consumed')), [], 'the provider consumes nothing')
      // The provider sees none of the customer's other data.
      assert.equal(pagination(await p1.call('GET', '/v1/service_instances')).totalEntries, 1)
      assert.ok(!ids(await p1.call('GET', '/v1/app_offerings/all_latest_published')).some((id: number) => id === c.v1.id))
      const stranger = await h().account('Lapsed')
      await setTrust(h().database, stranger.id, p2.id, true)
      const kept = (await install(stranger, c.v1.id)).json()
      await setTrust(h().database, stranger.id, p2.id, false)
      assert.deepEqual(ids(await stranger.call('GET', '/v1/app_offerings/all_latest_published')), [])
      assert.deepEqual(ids(await stranger.call('GET', '/v1/app_offerings/consumed')), [c.v1.id])
      assert.equal((await stranger.call('GET', `/v1/app_offerings/${c.v1.id}`)).statusCode, 200)
      assert.equal((await stranger.call('GET', `/v1/app_instances/${kept.id}`)).json().app_offering.name, 'C offering')
      assert.equal((await stranger.call('GET', `/v1/app_offerings/${c.draft.id}`)).statusCode, 404, 'never the draft')
    })

    it("a provider's change is seen at the customer's next read of its instances and consumed list, in this process and another", async () => {
      const other = await otherProcess()
      const viaOther = (url: string) => request(other, 'GET', url, undefined, { authorization: `Bearer ${c2.token}` })
      const both = async (url: string) => [(await c2.call('GET', url)).json(), (await viaOther(url)).json()]
      const instances = '/v1/app_instances?fields=app_offering,disabled'
      for (const list of await both(instances)) assert.deepEqual(list.map((i: any) => [i.app_offering.name, i.disabled]), [['C offering', false]])
      assert.equal((await p2.call('PATCH', `/v1/app_offerings/${c.v1.id}`, { name: 'C renamed' })).statusCode, 200)
      for (const list of await both(instances)) assert.deepEqual(list.map((i: any) => [i.app_offering.name, i.disabled]), [['C renamed', false]])
      for (const list of await both('/v1/app_offerings/consumed?fields=name')) assert.deepEqual(list.map((o: any) => o.name), ['C renamed'])
      const id = (await c2.call('GET', '/v1/app_instances')).json()[0].id
      assert.equal((await p2.call('PATCH', `/v1/app_instances/${id}`, { disabled: true })).statusCode, 200)
      for (const list of await both(instances)) assert.deepEqual(list.map((i: any) => [i.app_offering.name, i.disabled]), [['C renamed', true]])
      // And the provider's lists follow the customer's changes.
      const providerPath = '/v1/app_instances/enabled?fields=enabled_by_customer'
      const before = ids(await p2.call('GET', providerPath))
      assert.equal((await p2.call('PATCH', `/v1/app_instances/${id}`, { disabled: false })).statusCode, 200)
      assert.ok(ids(await p2.call('GET', providerPath)).includes(id))
      assert.equal((await c2.call('PATCH', `/v1/app_instances/${id}`, { enabled_by_customer: false })).statusCode, 200)
      assert.ok(!ids(await p2.call('GET', providerPath)).includes(id))
      assert.ok(!before.includes(id))
    })
  })
}
