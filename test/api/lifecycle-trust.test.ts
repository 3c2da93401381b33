// Trust between accounts (app-offerings.md, "Predefined filters"): a customer that trusts a
// provider reads the provider's newest published versions through all_latest_published, with
// every collection feature, and never anything else of it; the collection's kept answers follow
// every change of the provider's rows and of the trust at once, in this process and another.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { setTrust, trustedBy } from '../../src/cli/trust.ts'
import { engines } from '../support/stores.ts'
import { request, secondApp, useHarness, type TestAccount } from '../support/harness.ts'
import { createOffering, serviceInstance, serviceInstanceReference } from '../support/offerings.ts'
import { pagination, walk } from '../support/collections.ts'

interface World {
  p1: TestAccount
  p2: TestAccount
  c1: TestAccount
  c2: TestAccount
  /** p1's offering A: a draft with versions 1 and 2; offering B: only a draft. */
  a: { draft: any; v1: any; v2: any }
  bDraft: any
  /** p2's offering C: its draft and version 1. */
  cDraft: any
  c: any
  /** c1's own offering, version 1. */
  own: any
}

const names = (res: { json(): any }) => res.json().map((o: any) => o.name)

for (const engine of engines) {
  describe(`trust between accounts: all_latest_published (${engine})`, () => {
    const h = useHarness(engine)
    const others: FastifyInstance[] = []
    let w: World

    const publish = async (account: TestAccount, id: number) => {
      const res = await account.call('POST', `/v1/app_offerings/${id}/publish`)
      assert.equal(res.statusCode, 201, res.body)
      return res.json()
    }

    before(async () => {
      const p1 = await h().account('Provider One')
      const p2 = await h().account('Provider Two')
      const c1 = await h().account('Customer One')
      const c2 = await h().account('Customer Two')
      const si1 = await serviceInstance(p1, 'P1 service')
      const aDraft = await createOffering(p1, si1, { name: 'A offering' })
      const v1 = await publish(p1, aDraft.id)
      const v2 = await publish(p1, aDraft.id)
      const bDraft = await createOffering(p1, si1, { name: 'B draft only' })
      const cDraft = await createOffering(p2, await serviceInstance(p2, 'P2 service'), { name: 'C offering' })
      const c = await publish(p2, cDraft.id)
      const ownDraft = await createOffering(c1, await serviceInstance(c1, 'C1 service'), { name: 'Own offering' })
      const own = await publish(c1, ownDraft.id)
      // Crossed trust: c1 trusts p1, c2 trusts p2, and p2 trusts p1 (a provider may be a customer too).
      await setTrust(h().database, c1.id, p1.id, true)
      await setTrust(h().database, c2.id, p2.id, true)
      await setTrust(h().database, p2.id, p1.id, true)
      w = { p1, p2, c1, c2, a: { draft: aDraft, v1, v2 }, bDraft, cDraft, c, own }
    })
    after(async () => {
      for (const app of others) await app.close()
    })

    async function otherProcess(): Promise<FastifyInstance> {
      const app = await secondApp(h())
      others.push(app)
      return app
    }

    it('shows the newest published version of its own and of the trusted providers, foreign ones with their account', async () => {
      const res = await w.c1.call('GET', '/v1/app_offerings/all_latest_published?sort=name')
      assert.equal(res.statusCode, 200, res.body)
      assert.deepEqual(names(res), ['A offering', 'Own offering'])
      const [a, own] = res.json()
      assert.equal(a.id, w.a.v2.id)
      assert.deepEqual(a.account, { id: w.p1.id, name: 'Provider One' })
      assert.deepEqual(a.service_instance, serviceInstanceReference(w.a.v2.service_instance.id, 'P1 service'), "the provider's service instance")
      assert.ok(!('account' in own), 'left out of the account\'s own records')
      assert.equal(pagination(res).totalEntries, 2)
      // The collection fields, and the owner; the plain list's collection fields stay the spec's.
      assert.ok('account' in a && 'reference' in a && !('description' in a))
      assert.ok(!('account' in (await w.c1.call('GET', '/v1/app_offerings')).json()[0]))
      assert.ok('account' in (await w.c1.call('GET', '/v1/app_offerings/all_latest_published?fields=')).json()[0])
      // p2 trusts p1; c2 trusts p2 only; trust does not run backwards.
      assert.deepEqual(names(await w.p2.call('GET', '/v1/app_offerings/all_latest_published?sort=name')), ['A offering', 'C offering'])
      assert.deepEqual(names(await w.c2.call('GET', '/v1/app_offerings/all_latest_published?sort=name')), ['C offering'])
      assert.deepEqual(names(await w.p1.call('GET', '/v1/app_offerings/all_latest_published?sort=name')), ['A offering'])
      assert.deepEqual(await trustedBy(h().database, w.p2.id), [w.p1.id])
    })

    it('latest_published and every other list stay the account\'s own', async () => {
      assert.deepEqual(names(await w.c1.call('GET', '/v1/app_offerings/latest_published')), ['Own offering'])
      assert.deepEqual(names(await w.c1.call('GET', '/v1/app_offerings?sort=name')), ['Own offering', 'Own offering'])
      assert.deepEqual(names(await w.c1.call('GET', '/v1/app_offerings/latest_internal')), ['Own offering'])
    })

    it('isolation: a customer reads a trusted provider\'s published versions by id, never its drafts, and changes, publishes or audits nothing of it', async () => {
      for (const id of [w.a.draft.id, w.bDraft.id]) {
        assert.equal((await w.c1.call('GET', `/v1/app_offerings/${id}`)).statusCode, 404, 'a draft')
        assert.equal((await w.c2.call('GET', `/v1/app_offerings/${id}`)).statusCode, 404, 'a draft')
      }
      const read = await w.c1.call('GET', `/v1/app_offerings/${w.a.v1.id}`)
      assert.equal(read.statusCode, 200, read.body)
      assert.equal(read.json().version, 1)
      assert.deepEqual(read.json().account, { id: w.p1.id, name: 'Provider One' })
      assert.deepEqual(read.json().service_instance, serviceInstanceReference(w.a.v1.service_instance.id, 'P1 service'))
      assert.equal((await w.c2.call('GET', `/v1/app_offerings/${w.a.v1.id}`)).statusCode, 404, 'c2 does not trust p1')
      assert.equal((await w.p1.call('GET', `/v1/app_offerings/${w.a.v1.id}`)).json().account, undefined, 'the owner reads its own, without `account`')
      for (const id of [w.a.draft.id, w.bDraft.id, w.a.v1.id, w.a.v2.id]) {
        assert.equal((await w.c1.call('GET', `/v1/app_offerings/${id}/audit`)).statusCode, 404)
        assert.equal((await w.c1.call('PATCH', `/v1/app_offerings/${id}`, { name: 'Hijacked' })).statusCode, 404)
        assert.equal((await w.c1.call('POST', `/v1/app_offerings/${id}/publish`)).statusCode, 404)
      }
      const all = await walk(w.c1, '/v1/app_offerings/all_latest_published?per_page=1', 'next')
      assert.ok(!all.ids.includes(w.a.draft.id) && !all.ids.includes(w.bDraft.id) && !all.ids.includes(w.a.v1.id))
      // Filters reach no further than the subset: no draft by its name, no service instance of the provider.
      assert.deepEqual(names(await w.c1.call('GET', '/v1/app_offerings/all_latest_published?name=B draft only')), [])
      assert.equal((await w.c1.call('GET', `/v1/service_instances/${w.a.v2.service_instance.id}`)).statusCode, 404)
      assert.equal(pagination(await w.c1.call('GET', '/v1/service_instances')).totalEntries, 1)
      assert.equal((await w.p1.call('GET', `/v1/app_offerings/${w.own.id}`)).statusCode, 404, 'nor a provider the customer\'s')
    })

    it('every collection feature: filters, fields, sort, cursors both ways, counts', async () => {
      const filtered = await w.c1.call('GET', `/v1/app_offerings/all_latest_published?reference=${encodeURIComponent(w.a.draft.reference)}&fields=name,version,account`)
      assert.deepEqual(filtered.json(), [{ id: w.a.v2.id, nodeID: w.a.v2.nodeID, name: 'A offering', version: 2, account: { id: w.p1.id, name: 'Provider One' } }])
      assert.equal(pagination(filtered).totalEntries, 1)
      const sorted = await w.c1.call('GET', '/v1/app_offerings/all_latest_published?sort=-name&fields=name')
      assert.deepEqual(names(sorted), ['Own offering', 'A offering'])
      const forward = await walk(w.c1, '/v1/app_offerings/all_latest_published?per_page=1&sort=-id', 'next')
      assert.deepEqual(forward.ids, [w.own.id, w.a.v2.id].sort((x, y) => y - x))
      const byPage = await w.c1.call('GET', '/v1/app_offerings/all_latest_published?per_page=1&page=2&sort=name&fields=name')
      assert.deepEqual(names(byPage), ['Own offering'])
      assert.equal(pagination(byPage).totalEntries, 2)
      assert.equal((await w.c1.call('GET', '/v1/app_offerings/all_latest_published?sort=reference')).statusCode, 400)
    })

    it("a provider's change, and a change of trust, is seen at the customer's next list, in this process and another", async () => {
      const other = await otherProcess()
      const viaOther = (url: string) => request(other, 'GET', url, undefined, { authorization: `Bearer ${w.c2.token}` })
      const path = '/v1/app_offerings/all_latest_published?sort=name&fields=name,version,service_instance'
      const both = async () => [(await w.c2.call('GET', path)).json(), (await viaOther(path)).json()]
      const show = (list: any[]) => list.map((o) => `${o.name} v${o.version} ${o.service_instance.name}`)

      for (const list of await both()) assert.deepEqual(show(list), ['C offering v1 P2 service'])
      for (const list of await both()) assert.deepEqual(show(list), ['C offering v1 P2 service'], 'kept, unchanged')
      // The provider publishes a new version.
      await publish(w.p2, w.cDraft.id)
      for (const list of await both()) assert.deepEqual(show(list), ['C offering v2 P2 service'])
      // The provider edits the published version, and renames its service instance.
      const latest = (await w.p2.call('GET', '/v1/app_offerings/latest_published')).json()[0]
      assert.equal((await w.p2.call('PATCH', `/v1/app_offerings/${latest.id}`, { name: 'C renamed' })).statusCode, 200)
      for (const list of await both()) assert.deepEqual(show(list), ['C renamed v2 P2 service'])
      assert.equal((await w.p2.call('PATCH', `/v1/service_instances/${latest.service_instance.id}`, { name: 'P2 renamed' })).statusCode, 200)
      for (const list of await both()) assert.deepEqual(show(list), ['C renamed v2 P2 renamed'])
      // Trust, and untrust, by the administrator.
      await setTrust(h().database, w.c2.id, w.p1.id, true)
      for (const list of await both()) assert.deepEqual(show(list), ['A offering v2 P1 service', 'C renamed v2 P2 renamed'])
      const p1Latest = (await w.p1.call('PATCH', `/v1/app_offerings/${w.a.v2.id}`, { card_description: 'seen' })).json()
      assert.equal(p1Latest.card_description, 'seen')
      await setTrust(h().database, w.c2.id, w.p2.id, false)
      for (const list of await both()) assert.deepEqual(show(list), ['A offering v2 P1 service'])
      const counted = await viaOther('/v1/app_offerings/all_latest_published')
      assert.equal(pagination(counted).totalEntries, 1)
      await setTrust(h().database, w.c2.id, w.p1.id, false)
      for (const list of await both()) assert.deepEqual(list, [], 'untrusting hides the provider again')
      assert.equal((await viaOther(`/v1/app_offerings/${w.a.v2.id}`)).statusCode, 404, 'by id too')
      assert.equal(await setTrust(h().database, w.c2.id, w.p1.id, false), false, 'untrusting twice changes nothing')
    })

    it('trust is audited as a write of the customer, and refuses an account trusting itself or an unknown one', async () => {
      const rows = await (h().database.db as any).selectFrom('audit_entries').select(['action', 'changes', 'created_by_name']).where('account_id', '=', w.c1.id).where('record_type', '=', 'trusts').execute()
      assert.equal(rows.length, 1)
      assert.equal(rows[0].action, 'create')
      assert.deepEqual(JSON.parse(rows[0].changes).provider_account, [null, w.p1.id])
      assert.equal(rows[0].created_by_name, 'administrator')
      await assert.rejects(setTrust(h().database, w.c1.id, w.c1.id, true), /cannot trust itself/)
      await assert.rejects(setTrust(h().database, w.c1.id, 'nobody-here', true), /does not exist/)
    })
  })
}
