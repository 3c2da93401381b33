// Publishing (lifecycle.md, "Drafts and published versions"): POST /v1/app_offerings/:id/publish
// makes a published copy of a draft in one unit of work (RecordWriter.publish), numbered per
// reference; the reference is locked after the first publish.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { engines } from '../support/stores.ts'
import { useHarness, type TestAccount } from '../support/harness.ts'
import { assertInvalid, createOffering, serviceInstance } from '../support/offerings.ts'
import { pagination } from '../support/collections.ts'

const LOCKED = "can't be changed after the app offering has been published"

for (const engine of engines) {
  describe(`publishing app offerings (${engine})`, () => {
    const h = useHarness(engine)

    async function draft(account: TestAccount, extra: Record<string, unknown> = {}) {
      return createOffering(account, await serviceInstance(account), extra)
    }
    const publish = (account: TestAccount, id: number | string) => account.call('POST', `/v1/app_offerings/${id}/publish`)

    it('answers 201 with a published copy: draft_id kept internal, same reference, version 1, 2, ...; the draft stays a draft', async () => {
      const account = await h().account()
      const d = await draft(account, { name: 'Publishable', description: 'Long text', policy_jwt_claim_expires_in: 90, disabled: true })
      assert.equal(d.published, false)
      assert.equal(d.version, null)
      const first = await publish(account, d.id)
      assert.equal(first.statusCode, 201, first.body)
      const v1 = first.json()
      assert.notEqual(v1.id, d.id)
      assert.match(String(first.headers.location), new RegExp(`/v1/app_offerings/${v1.id}$`))
      assert.equal(v1.published, true)
      assert.equal(v1.version, 1)
      assert.notEqual(v1.nodeID, d.nodeID)
      for (const key of ['name', 'reference', 'service_instance', 'policy_jwt_alg', 'webhook_uri_template', 'description', 'policy_jwt_claim_expires_in', 'disabled', 'source']) {
        assert.deepEqual(v1[key], d[key], key)
      }
      assert.equal(!('draft_id' in v1), true)
      const v2 = (await publish(account, d.id)).json()
      assert.equal(v2.version, 2)

      const again = (await account.call('GET', `/v1/app_offerings/${d.id}`)).json()
      assert.equal(again.published, false)
      assert.equal(again.version, null)
      assert.equal(again.updated_at, d.updated_at)
      // The draft's ETag does not move with a publish: an editor's If-Match still holds.
      assert.equal((await account.call('PATCH', `/v1/app_offerings/${d.id}`, { card_description: 'next' }, { 'if-match': (await account.call('GET', `/v1/app_offerings/${d.id}`)).headers.etag as string })).statusCode, 200)
      assert.equal((await account.call('GET', `/v1/app_offerings/${v1.id}`)).json().version, 1)
    })

    it('refuses to publish a published version, and a draft that fails validation: 422, nothing written', async () => {
      const account = await h().account()
      const d = await draft(account)
      const v1 = (await publish(account, d.id)).json()
      assertInvalid(await publish(account, v1.id), [['base', 'only a draft can be published']])
      // A draft made invalid behind the API's back (an import, a rule added later).
      const db = h().database.db as any
      await db.updateTable('app_offerings').set({ name: '' }).where('id', '=', d.id).execute()
      assertInvalid(await publish(account, d.id), [['name', "can't be blank"]])
      const list = await account.call('GET', `/v1/app_offerings?reference=${encodeURIComponent(d.reference)}`)
      assert.equal(pagination(list).totalEntries, 2, 'the draft and version 1 only')
      assert.equal((await account.call('GET', `/v1/app_offerings/${d.id}/audit`)).json().length, 2, 'create and one publish')
      assert.equal((await publish(account, 999999999)).statusCode, 404)
      const stranger = await h().account()
      assert.equal((await publish(stranger, d.id)).statusCode, 404, "another account's draft")
      const reader = await account.call('POST', `/v1/app_offerings/${d.id}/publish`, undefined, { authorization: `Bearer ${account.readToken}` })
      assert.equal(reader.statusCode, 403)
      assert.equal((await account.call('GET', `/v1/app_offerings/${d.id}/publish`)).statusCode, 405)
    })

    it('a disabled draft can be published', async () => {
      const account = await h().account()
      const d = await draft(account, { disabled: true })
      const res = await publish(account, d.id)
      assert.equal(res.statusCode, 201, res.body)
      assert.equal(res.json().disabled, true)
    })

    it('audits a publish on the draft and a create on the version', async () => {
      const account = await h().account()
      const d = await draft(account, { name: 'Traced' })
      const v1 = (await publish(account, d.id)).json()
      const v2 = (await publish(account, d.id)).json()
      const trail = (await account.call('GET', `/v1/app_offerings/${d.id}/audit`)).json()
      assert.deepEqual(trail.map((e: any) => e.action), ['publish', 'publish', 'create'])
      assert.deepEqual(trail[0].changes, { version: [1, 2] })
      assert.deepEqual(trail[1].changes, { version: [null, 1] })
      const published = (await account.call('GET', `/v1/app_offerings/${v2.id}/audit?action=create`)).json()
      assert.equal(published.length, 1)
      assert.deepEqual(published[0].changes.name, [null, 'Traced'])
      assert.equal((await account.call('GET', `/v1/app_offerings/${v1.id}/audit`)).json().length, 1)
    })

    it('locks the reference after the first publish, on the draft and on every version; other edits stay allowed', async () => {
      const account = await h().account()
      const d = await draft(account)
      assert.equal((await account.call('PATCH', `/v1/app_offerings/${d.id}`, { reference: `${d.reference}_before` })).statusCode, 200, 'unlocked before publishing')
      const ref = `${d.reference}_before`
      const v1 = (await publish(account, d.id)).json()
      assertInvalid(await account.call('PATCH', `/v1/app_offerings/${d.id}`, { reference: `${ref}_x` }), [['reference', LOCKED]])
      assertInvalid(await account.call('PATCH', `/v1/app_offerings/${v1.id}`, { reference: `${ref}_x` }), [['reference', LOCKED]])
      // The same reference is no change.
      assert.equal((await account.call('PATCH', `/v1/app_offerings/${d.id}`, { reference: ref, name: 'Renamed draft' })).statusCode, 200)
      const edited = await account.call('PATCH', `/v1/app_offerings/${v1.id}`, { card_description: 'Fixed a typo', description: 'New text', picture_uri: 'https://example.com/p.png', disabled: true })
      assert.equal(edited.statusCode, 200, edited.body)
      assert.equal(edited.json().version, 1)
      assert.equal(edited.json().published, true)
      // Read-only fields in a body are ignored.
      const ignored = await account.call('PATCH', `/v1/app_offerings/${v1.id}`, { version: 7, published: false })
      assert.equal(ignored.json().version, 1)
      assert.equal(ignored.json().published, true)
    })

    it('the reference lock holds against a change that raced the first publish (the UPDATE checks it)', async () => {
      const account = await h().account()
      const d = await draft(account)
      // Mark the draft published behind the rules' back, as a publish committing between the
      // rules and the UPDATE would.
      const { RecordWriter } = await import('../../src/records/write.ts')
      const { RecordStore } = await import('../../src/records/store.ts')
      const { appOfferings } = await import('../../src/resources/app-offerings/fields.ts')
      const { appOfferingRules } = await import('../../src/resources/app-offerings/rules.ts')
      const writer = new RecordWriter(new RecordStore(h().database, appOfferings), appOfferingRules)
      const stale = (await new RecordStore(h().database, appOfferings).find(account.id, d.id))!
      await (h().database.db as any).updateTable('app_offerings').set({ version: 1 }).where('id', '=', d.id).execute()
      await assert.rejects(writer.update({ id: account.id, name: 'x' }, stale, { reference: `${d.reference}_late` }, { actor: { id: null, name: 'x' } }), (error: any) => {
        assert.equal(error.statusCode, 422)
        assert.deepEqual(error.errors, [['reference', LOCKED]])
        return true
      })
    })

    it('latest_internal lists drafts, latest_published the newest version of each reference', async () => {
      const account = await h().account()
      const a = await draft(account, { name: 'A' })
      const b = await draft(account, { name: 'B' })
      await draft(account, { name: 'C' })
      await publish(account, a.id)
      const a2 = (await publish(account, a.id)).json()
      const b1 = (await publish(account, b.id)).json()
      const internal = await account.call('GET', '/v1/app_offerings/latest_internal?fields=name,published')
      assert.deepEqual(internal.json().map((o: any) => [o.name, o.published]), [['A', false], ['B', false], ['C', false]])
      const latest = await account.call('GET', '/v1/app_offerings/latest_published?fields=name,version&sort=name')
      assert.equal(latest.statusCode, 200, latest.body)
      assert.deepEqual(latest.json().map((o: any) => [o.id, o.name, o.version]), [[a2.id, 'A', 2], [b1.id, 'B', 1]])
      assert.equal(pagination(latest).totalEntries, 2)
      assert.equal(pagination(await account.call('GET', '/v1/app_offerings')).totalEntries, 6, 'the plain list: drafts and versions')
      // Filters, fields and cursors apply within the subset; a new version replaces the old one.
      assert.deepEqual((await account.call('GET', '/v1/app_offerings/latest_published?name=B&fields=name')).json().map((o: any) => o.name), ['B'])
      const a3 = (await publish(account, a.id)).json()
      const next = await account.call('GET', '/v1/app_offerings/latest_published?per_page=1&sort=name')
      assert.deepEqual(next.json().map((o: any) => o.id), [a3.id])
      assert.match(String(next.headers.link), /search_after/)
    })

    it('20 parallel publishes of one draft give 20 distinct versions, 1 to 20', async () => {
      const account = await h().account()
      const d = await draft(account)
      const answers = await Promise.all(Array.from({ length: 20 }, () => publish(account, d.id)))
      for (const res of answers) assert.equal(res.statusCode, 201, res.body)
      const versions = answers.map((res) => res.json().version).sort((x, y) => x - y)
      assert.deepEqual(versions, Array.from({ length: 20 }, (_, i) => i + 1))
      assert.equal((await account.call('GET', `/v1/app_offerings/${d.id}/audit?action=publish&per_page=100`)).json().length, 20)
    })
  })
}
