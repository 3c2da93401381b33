// UI extensions (lifecycle.md, "UI extension versions"): activating an extension makes an
// immutable version, numbered per extension, the only active one; versions are read under their
// extension; an app offering's ui_extension_version points at a version of its account.
import assert from 'node:assert/strict'
import { encodeNodeId } from '../../src/catalogue/node-id.ts'
import { describe, it } from 'node:test'
import { engines } from '../support/stores.ts'
import { useHarness, type TestAccount } from '../support/harness.ts'
import { assertInvalid, createOffering, serviceInstance } from '../support/offerings.ts'
import { pagination } from '../support/collections.ts'

for (const engine of engines) {
  describe(`UI extensions and their versions (${engine})`, () => {
    const h = useHarness(engine)

    async function extension(account: TestAccount, body: Record<string, unknown> = {}) {
      const res = await account.call('POST', '/v1/ui_extensions', { name: 'Panel', html: '<p>one</p>', css: 'p{}', javascript: 'go()', ...body })
      assert.equal(res.statusCode, 201, res.body)
      return res.json()
    }
    const activate = (account: TestAccount, id: number) => account.call('POST', `/v1/ui_extensions/${id}/activate`)

    it('creates, reads and changes an extension like any record', async () => {
      const account = await h().account()
      const made = await extension(account, { name: 'Side panel' })
      assert.deepEqual([made.name, made.html, made.css, made.javascript], ['Side panel', '<p>one</p>', 'p{}', 'go()'])
      assert.equal(typeof made.nodeID, 'string')
      assertInvalid(await account.call('POST', '/v1/ui_extensions', {}), [['name', "can't be blank"]])
      assert.equal((await account.call('PATCH', `/v1/ui_extensions/${made.id}`, { html: '<p>two</p>' })).json().html, '<p>two</p>')
      assert.deepEqual((await account.call('GET', '/v1/ui_extensions?fields=name')).json(), [{ id: made.id, nodeID: made.nodeID, name: 'Side panel' }])
    })

    it('activating makes an immutable version, the only active one; the previous is archived', async () => {
      const account = await h().account()
      const ext = await extension(account)
      const first = await activate(account, ext.id)
      assert.equal(first.statusCode, 201, first.body)
      const v1 = first.json()
      assert.match(String(first.headers.location), new RegExp(`/v1/ui_extensions/${ext.id}/versions/${v1.id}$`))
      assert.deepEqual([v1.version_nr, v1.status, v1.archived_at, v1.html, v1.css, v1.javascript], [1, 'active', null, '<p>one</p>', 'p{}', 'go()'])
      assert.match(v1.activated_at, /^\d{4}-\d\d-\d\dT/)
      assert.deepEqual(Object.keys(v1).sort(), ['activated_at', 'archived_at', 'css', 'html', 'id', 'javascript', 'status', 'version_nr'])
      // The working copy changes; the version does not.
      await account.call('PATCH', `/v1/ui_extensions/${ext.id}`, { html: '<p>two</p>' })
      const v2 = (await activate(account, ext.id)).json()
      assert.deepEqual([v2.version_nr, v2.status, v2.html], [2, 'active', '<p>two</p>'])
      const old = await account.call('GET', `/v1/ui_extensions/${ext.id}/versions/${v1.id}`)
      assert.equal(old.statusCode, 200, old.body)
      assert.deepEqual([old.json().status, old.json().html], ['archived', '<p>one</p>'])
      assert.match(old.json().archived_at, /^\d{4}-/)
      const list = await account.call('GET', `/v1/ui_extensions/${ext.id}/versions`)
      assert.deepEqual(list.json().map((v: any) => [v.version_nr, v.status]), [[2, 'active'], [1, 'archived']])
      assert.equal(pagination(list).totalEntries, 2)
      assert.deepEqual(Object.keys((await account.call('GET', `/v1/ui_extensions/${ext.id}/versions?fields=status`)).json()[0]).sort(), ['id', 'status'])
      // Immutable: no writes to a version, and no version outside its extension or account.
      for (const [method, url] of [['PATCH', `/v1/ui_extensions/${ext.id}/versions/${v1.id}`], ['POST', `/v1/ui_extensions/${ext.id}/versions`], ['DELETE', `/v1/ui_extensions/${ext.id}/versions/${v1.id}`], ['GET', `/v1/ui_extensions/${ext.id}/activate`]]) {
        assert.equal((await account.call(method, url, method === 'GET' || method === 'DELETE' ? undefined : { html: 'x' })).statusCode, 405, `${method} ${url}`)
      }
      const other = await extension(account, { name: 'Other' })
      assert.equal((await account.call('GET', `/v1/ui_extensions/${other.id}/versions/${v1.id}`)).statusCode, 404)
      const stranger = await h().account()
      assert.equal((await stranger.call('GET', `/v1/ui_extensions/${ext.id}/versions/${v1.id}`)).statusCode, 404)
      assert.equal((await stranger.call('GET', `/v1/ui_extensions/${ext.id}/versions`)).statusCode, 404)
      assert.equal((await activate(stranger, ext.id)).statusCode, 404)
      // Audited: a publish entry on the extension per activation.
      const trail = (await account.call('GET', `/v1/ui_extensions/${ext.id}/audit?action=publish`)).json()
      assert.deepEqual(trail.map((e: any) => e.changes), [{ version_nr: [1, 2] }, { version_nr: [null, 1] }])
    })

    it('20 parallel activations give versions 1 to 20, exactly one of them active', async () => {
      const account = await h().account()
      const ext = await extension(account)
      const answers = await Promise.all(Array.from({ length: 20 }, () => activate(account, ext.id)))
      for (const res of answers) assert.equal(res.statusCode, 201, res.body)
      assert.deepEqual(answers.map((res) => res.json().version_nr).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1))
      const all = (await account.call('GET', `/v1/ui_extensions/${ext.id}/versions?per_page=100`)).json()
      assert.deepEqual(all.filter((v: any) => v.status === 'active').map((v: any) => v.version_nr), [20])
    })

    it("an app offering points at a version of its account's extensions", async () => {
      const account = await h().account()
      const v1 = (await activate(account, (await extension(account, { name: 'Offering panel' })).id)).json()
      const offering = await createOffering(account, await serviceInstance(account), { ui_extension_version_id: v1.id })
      assert.deepEqual(offering.ui_extension_version, { id: v1.id, name: 'Offering panel', nodeID: encodeNodeId('localhost', 'UiExtensionVersion', v1.id) })
      const stranger = await h().account()
      const theirs = (await activate(stranger, (await extension(stranger)).id)).json()
      assertInvalid(await account.call('PATCH', `/v1/app_offerings/${offering.id}`, { ui_extension_version_id: theirs.id }), [['ui_extension_version', 'must exist']])
    })
  })
}
