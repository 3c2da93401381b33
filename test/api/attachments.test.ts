// Attachments (attachments.md; issue 14): storage answers, uploads as the official Ruby SDK sends
// them, every rule of an upload and of `<text>_attachments`, the rendered list and texts,
// downloads, publishing, audit, and the sweeper; on every database and both file stores.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { describe, it } from 'node:test'
import type { Kysely } from 'kysely'
import { setTrust } from '../../src/cli/trust.ts'
import { nowSeconds } from '../../src/storage/database.ts'
import { useHarness, type TestAccount } from '../support/harness.ts'
import { assertInvalid, createOffering, serviceInstance } from '../support/offerings.ts'
import { engines } from '../support/stores.ts'
import { EVIL_SVG, multipartBody, PNG, SDK_BOUNDARY, sdkUpload, storageOf, SVG, uploaded } from '../support/uploads.ts'

const LIMIT = 64 * 1024
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

for (const engine of engines) {
  for (const storage of ['local', 'database'] as const) {
    describe(`attachments (${engine}, ${storage} storage)`, () => {
      const h = useHarness(engine, { ATTACHMENT_STORAGE: storage, ATTACHMENT_SIZE_LIMIT: '64kb', ATTACHMENT_EXTENSIONS: 'png,pdf,txt,svg,jpg,zip' })
      const db = () => h().database.db as unknown as Kysely<any>
      const uploadsOf = async (account: string) => (await db().selectFrom('uploads').selectAll().where('account_id', '=', account).execute()).length
      /** Objects in the store: files in the folder, or distinct chunked objects. */
      const storedObjects = async () => {
        if (storage === 'database') return (await db().selectFrom('file_chunks').select('object').distinct().execute()).length
        const walk = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? walk(`${dir}/${e.name}`) : 1), 0)
        return walk(h().filesDir)
      }
      const offering = async (account: TestAccount, extra: Record<string, unknown> = {}) => createOffering(account, await serviceInstance(account), extra)

      it('answers where to upload: provider local, an absolute upload URI, the limits and signed fields for the account', async () => {
        const account = await h().account()
        const answer = await storageOf(account)
        assert.equal(answer.provider, 'local')
        assert.equal(answer.upload_uri, 'http://localhost:80/v1/attachments')
        assert.equal(answer.size_limit, LIMIT)
        assert.deepEqual(answer.allowed_extensions, ['png', 'pdf', 'txt', 'svg', 'jpg', 'zip'])
        assert.match(answer.local.key, new RegExp(`^attachments/${account.id}/[0-9a-f]{32}/\\$\\{filename\\}$`))
        const expires = Date.parse(answer.local['x-4me-expiration'])
        assert.ok(expires > Date.now() + 50 * 60_000 && expires <= Date.now() + 61 * 60_000, answer.local['x-4me-expiration'])
        assert.match(answer.local['x-4me-signature'], /^[A-Za-z0-9_-]{43}$/)
        assert.notEqual((await storageOf(account)).local.key, answer.local.key, 'a new prefix each time')
        assert.equal((await account.call('GET', '/v1/attachments/storage', undefined, { authorization: 'Bearer nope' })).statusCode, 401)
      })

      it("takes the Ruby SDK's exact upload, and the record it then writes, as the SDK expects them", async () => {
        const account = await h().account()
        const answer = await storageOf(account)
        const content = Buffer.from('foobar')
        // The SDK sends the key template unchanged and the file under its full path.
        const res = await sdkUpload(account, answer, '/tmp/4me_我attáchments_spec.txt', content)
        assert.equal(res.statusCode, 200, res.body)
        assert.match(String(res.headers['content-type']), /^application\/json/)
        const { key } = res.json()
        assert.deepEqual(Object.keys(res.json()), ['key'])
        assert.equal(key, answer.local.key.replace('${filename}', '4me_我attáchments_spec.txt'))

        // upload_attachments! then posts scalars as strings and marks referenced ones inline.
        const si = await serviceInstance(account)
        const created = await account.call('POST', '/v1/app_offerings', {
          name: 'With attachments', service_instance_id: String(si), policy_jwt_alg: 'rs256', webhook_uri_template: 'https://hooks.example.com/x',
          description: `Foo ![](${key}) bar`,
          description_attachments: [{ key, filesize: '6', inline: 'true' }],
        })
        assert.equal(created.statusCode, 201, created.body)
        const [attachment] = created.json().attachments
        assert.deepEqual(Object.keys(attachment), ['id', 'name', 'size', 'content_type', 'inline', 'field', 'uri'])
        assert.deepEqual({ ...attachment, id: 0 }, { id: 0, name: '4me_我attáchments_spec.txt', size: 6, content_type: 'text/plain', inline: true, field: 'description', uri: `http://localhost:80/v1/attachments/${attachment.id}/download` })
        assert.equal(created.json().description, `Foo ![](${attachment.uri}) bar`)

        const download = await account.call('GET', new URL(attachment.uri).pathname)
        assert.equal(download.statusCode, 200)
        assert.equal(download.body, 'foobar')
        assert.equal(download.headers['content-type'], 'text/plain')
        assert.equal(download.headers['x-content-type-options'], 'nosniff')
        assert.equal(download.headers['content-disposition'], `attachment; filename="4me__att_chments_spec.txt"; filename*=UTF-8''4me_%E6%88%91att%C3%A1chments_spec.txt`)
        assert.equal(download.headers['content-security-policy'], "default-src 'none'; sandbox")
        const again = await account.call('GET', new URL(attachment.uri).pathname, undefined, { 'if-none-match': String(download.headers.etag) })
        assert.equal(again.statusCode, 304)
        assert.equal(again.body, '')
        const head = await account.call('HEAD', new URL(attachment.uri).pathname)
        assert.deepEqual([head.statusCode, head.headers['content-length'], head.body], [200, '6', ''])
      })

      it('accepts a key filled in by the client, and gives a second file of the same name a key of its own', async () => {
        const account = await h().account()
        const answer = await storageOf(account)
        const filled = { ...answer, local: { ...answer.local, key: answer.local.key.replace('${filename}', 'terms.pdf') } }
        const first = await sdkUpload(account, filled, 'whatever.bin', Buffer.from('%PDF-1.4 one'))
        assert.equal(first.statusCode, 200, first.body)
        assert.equal(first.json().key, filled.local.key)
        const second = await sdkUpload(account, filled, 'whatever.bin', Buffer.from('%PDF-1.4 two'))
        assert.equal(second.statusCode, 200, second.body)
        assert.notEqual(second.json().key, first.json().key)
        assert.ok(second.json().key.startsWith(answer.local.key.replace('${filename}', '')) && second.json().key.endsWith('/terms.pdf'))
      })

      it('refuses a file over the size limit or with an extension not allowed: 422, nothing kept', async () => {
        const account = await h().account()
        const before = await storedObjects()
        const big = await sdkUpload(account, await storageOf(account), '/tmp/big.txt', Buffer.alloc(LIMIT + 1, 'x'))
        assertInvalid(big, [['file', `is too large (maximum is ${LIMIT} bytes)`]])
        const exact = await sdkUpload(account, await storageOf(account), '/tmp/exact.txt', Buffer.alloc(LIMIT, 'x'))
        assert.equal(exact.statusCode, 200, 'exactly the limit is allowed')
        for (const name of ['/tmp/run.exe', '/tmp/page.html', '/tmp/noextension', '/tmp/trailing.']) {
          assertInvalid(await sdkUpload(account, await storageOf(account), name, Buffer.from('x')), [['file', 'has an extension that is not allowed']])
        }
        assert.equal(await uploadsOf(account.id), 1)
        assert.equal(await storedObjects(), before + 1)
      })

      it('refuses a key outside the signed prefix, another account\'s prefix, a forged, foreign or expired signature', async () => {
        const account = await h().account()
        const other = await h().account()
        const answer = await storageOf(account)
        const upload = (local: Record<string, string>, who = account) => sdkUpload(who, { ...answer, local: local as never }, '/tmp/a.txt', Buffer.from('a'))
        const prefix = answer.local.key.replace('${filename}', '')
        assertInvalid(await upload({ ...answer.local, key: `attachments/${account.id}/${'0'.repeat(32)}/\${filename}` }), [['x-4me-signature', 'is invalid']])
        assertInvalid(await upload({ ...answer.local, key: `${prefix}../../x/\${filename}` }), [['key', 'is invalid']])
        assertInvalid(await upload({ ...answer.local, key: `${prefix}sub/a.txt` }), [['key', 'is invalid']])
        assertInvalid(await upload({ ...answer.local, key: `elsewhere/${account.id}/x/\${filename}` }), [['key', 'is invalid']])
        assertInvalid(await upload({ ...answer.local, key: '' }), [['key', "can't be blank"]])
        assertInvalid(await upload({ ...answer.local, 'x-4me-signature': answer.local['x-4me-signature'].replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }), [['x-4me-signature', 'is invalid']])
        assertInvalid(await upload({ ...answer.local, 'x-4me-expiration': '2099-01-01T00:00:00+00:00' }), [['x-4me-signature', 'is invalid']])
        // Another account's storage answer, used with this account's token: its prefix is not this account's.
        const theirs = await storageOf(other)
        assertInvalid(await sdkUpload(account, theirs, '/tmp/a.txt', Buffer.from('a')), [['key', 'is invalid']])
        // This account's prefix with another account's signature for a prefix of its own.
        assertInvalid(await upload({ ...answer.local, 'x-4me-signature': theirs.local['x-4me-signature'], 'x-4me-expiration': theirs.local['x-4me-expiration'] }), [['x-4me-signature', 'is invalid']])
        // Signed by this server, but an hour and more ago.
        const old = h().app.uploads.storage(account.id, answer.upload_uri, nowSeconds() - 3601)
        assertInvalid(await sdkUpload(account, old, '/tmp/a.txt', Buffer.from('a')), [['x-4me-expiration', 'has expired']])
        assert.equal(await uploadsOf(account.id), 0)
      })

      it('answers 400, 403, 415 for what is not an upload, never a 500', async () => {
        const account = await h().account()
        const answer = await storageOf(account)
        const missing = await account.call('POST', '/v1/attachments', multipartBody(Object.entries(answer.local)), { 'content-type': `multipart/form-data; boundary=${SDK_BOUNDARY}` })
        assertInvalid(missing, [['file', "can't be blank"]])
        const broken = await account.call('POST', '/v1/attachments', '--nope\r\ngarbage', { 'content-type': `multipart/form-data; boundary=${SDK_BOUNDARY}` })
        assert.ok([400, 422].includes(broken.statusCode), broken.body)
        assert.equal((await account.call('POST', '/v1/attachments', '{}', { 'content-type': 'multipart/form-data' })).statusCode, 400)
        assert.equal((await account.call('POST', '/v1/attachments', { key: 'x' })).statusCode, 415)
        const reader = await sdkUpload(account, answer, '/tmp/a.txt', Buffer.from('a'), { authorization: `Bearer ${account.readToken}` })
        assert.equal(reader.statusCode, 403)
        // Multipart is for uploads only.
        const json = await account.call('POST', '/v1/app_offerings', multipartBody([['name', 'x']]), { 'content-type': `multipart/form-data; boundary=${SDK_BOUNDARY}` })
        assert.equal(json.statusCode, 415)
        assert.equal((await account.call('DELETE', '/v1/attachments')).statusCode, 405)
      })

      it("refuses a key of another account, an unknown key, a wrong filesize and a key attached elsewhere, changing nothing", async () => {
        const account = await h().account()
        const other = await h().account()
        const theirs = await uploaded(other, 'theirs.pdf', Buffer.from('%PDF'))
        const mine = await uploaded(account, 'mine.pdf', Buffer.from('%PDF-mine'))
        const si = await serviceInstance(account)
        const body = (list: unknown) => ({ name: `X ${Math.random()}`, service_instance_id: si, policy_jwt_alg: 'rs256', webhook_uri_template: 'https://h.example.com/', features_attachments: list })
        assertInvalid(await account.call('POST', '/v1/app_offerings', body([{ key: theirs }])), [['features_attachments', 'is invalid']])
        assertInvalid(await account.call('POST', '/v1/app_offerings', body([{ key: `${mine}x` }])), [['features_attachments', 'is invalid']])
        assertInvalid(await account.call('POST', '/v1/app_offerings', body([{ key: mine, filesize: 1 }])), [['features_attachments', 'is invalid']])
        assertInvalid(await account.call('POST', '/v1/app_offerings', body([{ nokey: mine }])), [['features_attachments', 'is invalid']])
        assertInvalid(await account.call('POST', '/v1/app_offerings', body('not a list')), [['features_attachments', 'is invalid']])
        // With other bad fields: one 422 naming each, in field order.
        assertInvalid(await account.call('POST', '/v1/app_offerings', { ...body([{ key: theirs }]), name: '' }), [['name', "can't be blank"], ['features_attachments', 'is invalid']])
        assert.equal((await account.call('GET', '/v1/app_offerings')).json().length, 0, 'no record made')

        const first = await offering(account, { features_attachments: [{ key: mine }] })
        assert.equal(first.attachments.length, 1)
        const second = await offering(account)
        const stolen = await account.call('PATCH', `/v1/app_offerings/${second.id}`, { card_description: 'changed', compliance_attachments: [{ key: mine }] })
        assertInvalid(stolen, [['compliance_attachments', 'is invalid']])
        const after = (await account.call('GET', `/v1/app_offerings/${second.id}`)).json()
        assert.equal(after.card_description, null)
        assert.deepEqual(after.attachments, [])
        // The other account cannot take it either, nor download it.
        const otherOffering = await offering(other)
        assertInvalid(await other.call('PATCH', `/v1/app_offerings/${otherOffering.id}`, { description_attachments: [{ key: mine }] }), [['description_attachments', 'is invalid']])
        assert.equal((await other.call('GET', `/v1/attachments/${first.attachments[0].id}/download`)).statusCode, 404)
      })

      it('updates, moves and removes (_destroy) attachments, each an audited change of the record', async () => {
        const account = await h().account()
        const [a, b] = [await uploaded(account, 'a.png', PNG), await uploaded(account, 'b.pdf', Buffer.from('%PDF-b'))]
        const made = await offering(account, { description: `see ![](${a})`, description_attachments: [{ key: a, inline: true }, { key: b }] })
        assert.deepEqual(made.attachments.map((x: any) => [x.name, x.field, x.inline, x.content_type]), [['a.png', 'description', true, 'image/png'], ['b.pdf', 'description', false, 'application/pdf']])
        const tag = (await account.call('GET', `/v1/app_offerings/${made.id}`)).headers.etag

        const moved = await account.call('PATCH', `/v1/app_offerings/${made.id}`, { features_attachments: [{ key: b }] })
        assert.equal(moved.statusCode, 200, moved.body)
        assert.deepEqual(moved.json().attachments.map((x: any) => [x.name, x.field]), [['a.png', 'description'], ['b.pdf', 'features']])
        assert.notEqual(moved.headers.etag, tag)
        assert.notEqual(moved.json().updated_at === made.updated_at && moved.headers.etag === tag, true)

        assertInvalid(await account.call('PATCH', `/v1/app_offerings/${made.id}`, { description_attachments: [{ key: b, _destroy: true }] }), [['description_attachments', 'is invalid']])
        const destroyed = await account.call('PATCH', `/v1/app_offerings/${made.id}`, { features_attachments: [{ key: b, _destroy: 'true' }] })
        assert.equal(destroyed.statusCode, 200, destroyed.body)
        assert.deepEqual(destroyed.json().attachments.map((x: any) => x.name), ['a.png'])
        // Nothing to change writes nothing.
        const same = await account.call('PATCH', `/v1/app_offerings/${made.id}`, { description_attachments: [{ key: a, inline: true }] })
        assert.equal(same.headers.etag, destroyed.headers.etag)

        const trail = (await account.call('GET', `/v1/app_offerings/${made.id}/audit`)).json()
        assert.deepEqual(trail.map((e: any) => e.action), ['update', 'update', 'create'])
        assert.deepEqual(trail[0].changes, { features_attachments: [[{ key: b, inline: false }], []] })
        assert.deepEqual(trail[1].changes, { description_attachments: [[{ key: a, inline: true }, { key: b, inline: false }], [{ key: a, inline: true }]], features_attachments: [[], [{ key: b, inline: false }]] })
        assert.deepEqual(trail[2].changes.description_attachments, [null, [{ key: a, inline: true }, { key: b, inline: false }]])
      })

      it('renders inline references as download URIs, and stores a text sent back as read by key again', async () => {
        const account = await h().account()
        const image = await uploaded(account, 'diagram.png', PNG)
        const listed = await uploaded(account, 'terms.pdf', Buffer.from('%PDF'))
        const made = await offering(account, { description: `![](${image}) and ![alt](${image}) but not [${listed}] nor ![](${image}x)`, description_attachments: [{ key: image, inline: true }, { key: listed }] })
        const uri = made.attachments[0].uri
        assert.equal(made.description, `![](${uri}) and ![alt](${uri}) but not [${listed}] nor ![](${image}x)`)
        const stored = await db().selectFrom('app_offerings').select('description').where('id', '=', made.id).executeTakeFirst()
        assert.equal(stored?.description, `![](${image}) and ![alt](${image}) but not [${listed}] nor ![](${image}x)`)
        // A client edits the text as it read it: the URIs become keys again.
        const edited = await account.call('PATCH', `/v1/app_offerings/${made.id}`, { description: `${made.description} (edited)` })
        assert.equal(edited.json().description, `${made.description} (edited)`)
        const trail = (await account.call('GET', `/v1/app_offerings/${made.id}/audit`)).json()
        assert.equal(trail[0].changes.description[1], `${stored?.description} (edited)`)
        // Another text does not render this text's attachments.
        const features = await account.call('PATCH', `/v1/app_offerings/${made.id}`, { features: `![](${image})` })
        assert.equal(features.json().features, `![](${image})`)
        // Collections render them too, with fields.
        const [row] = (await account.call('GET', `/v1/app_offerings?fields=description,attachments&id=${made.id}`)).json()
        assert.equal(row.description, `${made.description} (edited)`)
        assert.deepEqual(row.attachments, edited.json().attachments)
      })

      it('shares attachments with published versions, files stored once; customers that read a version download them, others get 404', async () => {
        const provider = await h().account()
        const customer = await h().account()
        const stranger = await h().account()
        const key = await uploaded(provider, 'manual.pdf', Buffer.from('%PDF manual'))
        const objects = await storedObjects()
        const draft = await offering(provider, { compliance: 'see attached', compliance_attachments: [{ key }] })
        const version = (await provider.call('POST', `/v1/app_offerings/${draft.id}/publish`)).json()
        assert.equal(version.attachments.length, 1)
        assert.notEqual(version.attachments[0].id, draft.attachments[0].id)
        assert.deepEqual({ ...version.attachments[0], id: 0, uri: '' }, { ...draft.attachments[0], id: 0, uri: '' })
        assert.equal(await storedObjects(), objects, 'no copy of the file')
        assert.equal(await uploadsOf(provider.id), 1)
        const created = (await provider.call('GET', `/v1/app_offerings/${version.id}/audit`)).json()[0]
        assert.deepEqual(created.changes.compliance_attachments, [null, [{ key, inline: false }]])

        const path = (x: { uri: string }) => new URL(x.uri).pathname
        assert.equal((await customer.call('GET', path(version.attachments[0]))).statusCode, 404, 'not before it trusts the provider')
        await setTrust(h().database, customer.id, provider.id, true)
        const got = await customer.call('GET', path(version.attachments[0]))
        assert.equal(got.statusCode, 200)
        assert.equal(got.body, '%PDF manual')
        assert.equal((await customer.call('GET', path(draft.attachments[0]))).statusCode, 404, "never the draft's")
        assert.equal((await stranger.call('GET', path(version.attachments[0]))).statusCode, 404)
        assert.equal((await provider.call('GET', path(draft.attachments[0]))).statusCode, 200)
        for (const bad of ['0', '999999999', 'abc', '1e3']) assert.equal((await provider.call('GET', `/v1/attachments/${bad}/download`)).statusCode, 404)
        // The draft and its versions may share a key; another offering may not.
        const edited = await provider.call('PATCH', `/v1/app_offerings/${version.id}`, { compliance_attachments: [{ key, inline: true }] })
        assert.equal(edited.statusCode, 200, edited.body)
        assertInvalid(await provider.call('PATCH', `/v1/app_offerings/${(await offering(provider)).id}`, { compliance_attachments: [{ key }] }), [['compliance_attachments', 'is invalid']])
      })

      it('serves an SVG attachment so that it cannot run: a download, sandboxed, not sniffed', async () => {
        const account = await h().account()
        const key = await uploaded(account, 'evil.svg', EVIL_SVG)
        const made = await offering(account, { description_attachments: [{ key, inline: true }] })
        const res = await account.call('GET', new URL(made.attachments[0].uri).pathname)
        assert.equal(res.statusCode, 200)
        assert.equal(res.headers['content-type'], 'image/svg+xml')
        assert.match(String(res.headers['content-disposition']), /^attachment; /)
        assert.equal(res.headers['content-security-policy'], "default-src 'none'; sandbox")
        assert.equal(res.headers['x-content-type-options'], 'nosniff')
        const png = await uploaded(account, 'fine.png', PNG)
        const shown = await account.call('PATCH', `/v1/app_offerings/${made.id}`, { description_attachments: [{ key: png, inline: true }] })
        const image = await account.call('GET', new URL(shown.json().attachments[1].uri).pathname)
        assert.match(String(image.headers['content-disposition']), /^inline; filename="fine.png"/)
        assert.equal(sha(image.rawPayload), sha(PNG))
      })

      it('sweeps uploads no record refers to after 24 hours, from the database and the store', async () => {
        const account = await h().account()
        const [fresh, old, attached] = [await uploaded(account, 'fresh.txt', Buffer.from('1')), await uploaded(account, 'old.txt', Buffer.from('2')), await uploaded(account, 'kept.txt', Buffer.from('3'))]
        await offering(account, { description_attachments: [{ key: attached }] })
        const day = 24 * 3600
        await db().updateTable('uploads').set({ created_at: nowSeconds() - day - 60 }).where('key', 'in', [old, attached]).execute()
        const objects = await storedObjects()
        assert.equal(await h().app.uploads.sweep(), 1)
        const left = (await db().selectFrom('uploads').select('key').where('account_id', '=', account.id).execute()).map((r) => r.key).sort()
        assert.deepEqual(left, [fresh, attached].sort())
        assert.equal(await storedObjects(), objects - 1)
        assert.equal(await h().app.uploads.sweep(), 0, 'nothing more')
        // A swept key can no longer be attached.
        assertInvalid(await account.call('POST', '/v1/app_offerings', { name: 'late', service_instance_id: await serviceInstance(account), policy_jwt_alg: 'rs256', webhook_uri_template: 'https://h.example.com/', description_attachments: [{ key: old }] }), [['description_attachments', 'is invalid']])
      })
    })
  }
}

describe('attachment URIs follow PUBLIC_URL, or the request (sqlite)', () => {
  const h = useHarness('sqlite', { PUBLIC_URL: 'https://api.example.com/base' })
  const plain = useHarness('sqlite')

  it('answers the upload URI and download URIs under PUBLIC_URL', async () => {
    const account = await h().account()
    assert.equal((await storageOf(account)).upload_uri, 'https://api.example.com/base/v1/attachments')
    const key = await uploaded(account, 'a.png', PNG)
    const made = await createOffering(account, await serviceInstance(account), { description: `![](${key})`, description_attachments: [{ key, inline: true }] })
    assert.equal(made.attachments[0].uri, `https://api.example.com/base/v1/attachments/${made.attachments[0].id}/download`)
    assert.equal(made.description, `![](${made.attachments[0].uri})`)
  })

  it('without it, each request gets URIs of the host it asked, kept lists included', async () => {
    const account = await plain().account()
    const key = await uploaded(account, 'a.png', PNG)
    await createOffering(account, await serviceInstance(account), { description_attachments: [{ key }] })
    const list = (host: string) => account.call('GET', '/v1/app_offerings?fields=attachments', undefined, { host })
    for (const host of ['one.example.test', 'two.example.test', 'one.example.test']) {
      const [record] = (await list(host)).json()
      assert.match(record.attachments[0].uri, new RegExp(`^http://${host.replaceAll('.', '\\.')}/v1/attachments/\\d+/download$`))
    }
  })
})
