// Pictures (app-offerings.md: picture_uri, POST /v1/app_offerings/:id/avatar): a data: URL or an
// upload of a JPG, GIF, WEBP, PNG or SVG image of at most 2 MiB, judged by its bytes, not by its
// name or label; an SVG that could run script or load anything is refused.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { useHarness, type TestAccount } from '../support/harness.ts'
import { assertInvalid, createOffering, serviceInstance } from '../support/offerings.ts'
import { engines } from '../support/stores.ts'
import { EVIL_SVG, GIF, multipartBody, PNG, SDK_BOUNDARY, SVG } from '../support/uploads.ts'

const MiB = 1024 * 1024
const dataUrl = (type: string, bytes: Buffer) => `data:${type};base64,${bytes.toString('base64')}`

/** SVGs that would run script or load something, each in its own way. */
const HOSTILE_SVGS = [
  EVIL_SVG,
  '<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><text>x</text></a></svg>',
  '<svg xmlns="http://www.w3.org/2000/svg"><image href="https://tracker.example/pixel.png"/></svg>',
  '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><iframe src="https://evil.example"/></foreignObject></svg>',
  '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
  '<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/x.css)</style></svg>',
  '<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://evil.example/p)"/></svg>',
  '<svg xmlns="http://www.w3.org/2000/svg"><a xlink:href="&#106;avascript:alert(1)"/></svg>',
  '<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="href" to="javascript:alert(1)"/></svg>',
].map((svg) => Buffer.from(svg))

for (const engine of engines) {
  describe(`pictures (${engine})`, () => {
    const h = useHarness(engine)

    const avatar = (account: TestAccount, id: number, file: { name: string; content: Buffer; type?: string } | undefined, headers: Record<string, string> = {}) =>
      account.call(
        'POST',
        `/v1/app_offerings/${id}/avatar`,
        multipartBody(file ? [['avatar_file_name', file.name]] : [['avatar_file_name', 'x.png']], file && { field: 'avatar', filename: file.name, content: file.content, type: file.type ?? 'image/png' }, 'AvatarBoundary'),
        { 'content-type': 'multipart/form-data; boundary=AvatarBoundary', ...headers },
      )

    it('keeps a data: URL of an allowed image, labelled with the type its bytes are', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const png = await createOffering(account, si, { picture_uri: dataUrl('image/png', PNG) })
      assert.equal(png.picture_uri, dataUrl('image/png', PNG))
      // A PNG labelled as a JPEG (or a GIF, or an SVG) is stored as the PNG it is.
      for (const label of ['image/jpeg', 'image/jpg', 'image/gif', 'image/svg+xml']) {
        const mislabelled = await createOffering(account, si, { picture_uri: dataUrl(label, PNG) })
        assert.equal(mislabelled.picture_uri, dataUrl('image/png', PNG), label)
      }
      assert.equal((await createOffering(account, si, { picture_uri: dataUrl('image/png', GIF) })).picture_uri, dataUrl('image/gif', GIF))
      assert.equal((await createOffering(account, si, { picture_uri: dataUrl('image/svg+xml', SVG) })).picture_uri, dataUrl('image/svg+xml', SVG))
      const audit = (await account.call('GET', `/v1/app_offerings/${png.id}/audit`)).json()
      assert.equal(audit[0].changes.picture_uri[1], dataUrl('image/png', PNG))
    })

    it('refuses a data: URL whose bytes are no allowed image, or an SVG that could run or load anything', async () => {
      const account = await h().account()
      const si = await serviceInstance(account)
      const made = await createOffering(account, si, { picture_uri: 'https://cdn.example.com/p.png' })
      const refused = [
        dataUrl('image/png', Buffer.from('<html><script>alert(1)</script></html>')),
        dataUrl('image/png', Buffer.from('BM' + 'x'.repeat(40))), // a BMP
        dataUrl('image/png', Buffer.alloc(0)),
        ...HOSTILE_SVGS.map((svg) => dataUrl('image/svg+xml', svg)),
        ...HOSTILE_SVGS.map((svg) => dataUrl('image/png', svg)),
      ]
      for (const picture of refused) {
        assertInvalid(await account.call('PATCH', `/v1/app_offerings/${made.id}`, { picture_uri: picture }), [['picture_uri', 'is invalid']])
        assertInvalid(await account.call('POST', '/v1/app_offerings', { name: 'x', service_instance_id: si, policy_jwt_alg: 'rs256', webhook_uri_template: 'https://h.example.com/', picture_uri: picture }), [['picture_uri', 'is invalid']])
      }
      assert.equal((await account.call('GET', `/v1/app_offerings/${made.id}`)).json().picture_uri, 'https://cdn.example.com/p.png')
    })

    it('sets the picture from an avatar upload (the app builder\'s form), judged by its bytes', async () => {
      const account = await h().account()
      const made = await createOffering(account, await serviceInstance(account))
      const res = await avatar(account, made.id, { name: 'logo.png', content: PNG })
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(res.json().picture_uri, dataUrl('image/png', PNG))
      assert.equal(res.json().id, made.id)
      // Named and typed as a JPEG, it is the PNG it is.
      const mislabelled = await avatar(account, made.id, { name: 'logo.jpg', content: GIF, type: 'image/jpeg' })
      assert.equal(mislabelled.json().picture_uri, dataUrl('image/gif', GIF))
      const svg = await avatar(account, made.id, { name: 'logo.svg', content: SVG, type: 'image/svg+xml' })
      assert.equal(svg.json().picture_uri, dataUrl('image/svg+xml', SVG))
      const trail = (await account.call('GET', `/v1/app_offerings/${made.id}/audit`)).json()
      assert.deepEqual(trail.slice(0, 3).map((e: any) => e.changes.picture_uri[1]), [dataUrl('image/svg+xml', SVG), dataUrl('image/gif', GIF), dataUrl('image/png', PNG)])
    })

    it('refuses a hostile, unknown, empty or too large avatar with a 422 and keeps the picture; 404, 403, 415 as for any write', async () => {
      const account = await h().account()
      const made = await createOffering(account, await serviceInstance(account), { picture_uri: dataUrl('image/png', PNG) })
      for (const svg of HOSTILE_SVGS) assertInvalid(await avatar(account, made.id, { name: 'evil.svg', content: svg, type: 'image/svg+xml' }), [['avatar', 'is invalid']])
      assertInvalid(await avatar(account, made.id, { name: 'page.png', content: Buffer.from('<html></html>') }), [['avatar', 'is invalid']])
      assertInvalid(await avatar(account, made.id, { name: 'empty.png', content: Buffer.alloc(0) }), [['avatar', 'is invalid']])
      const big = Buffer.alloc(2 * MiB + 1, 7)
      PNG.copy(big)
      assertInvalid(await avatar(account, made.id, { name: 'big.png', content: big }), [['avatar', 'is too large (maximum is 2097152 bytes)']])
      assertInvalid(await avatar(account, made.id, undefined), [['avatar', "can't be blank"]])
      assert.equal((await account.call('GET', `/v1/app_offerings/${made.id}`)).json().picture_uri, dataUrl('image/png', PNG))
      assert.equal((await account.call('GET', `/v1/app_offerings/${made.id}/audit`)).json().length, 1, 'nothing written')

      const stranger = await h().account()
      assert.equal((await avatar(stranger, made.id, { name: 'x.png', content: PNG })).statusCode, 404)
      assert.equal((await avatar(account, 999_999_999, { name: 'x.png', content: PNG })).statusCode, 404)
      assert.equal((await avatar(account, made.id, { name: 'x.png', content: PNG }, { authorization: `Bearer ${account.readToken}` })).statusCode, 403)
      assert.equal((await account.call('POST', `/v1/app_offerings/${made.id}/avatar`, { avatar: 'x' })).statusCode, 415)
      assert.equal((await account.call('GET', `/v1/app_offerings/${made.id}/avatar`)).statusCode, 405)
      const stale = await avatar(account, made.id, { name: 'x.png', content: PNG }, { 'if-match': 'W/"stale"' })
      assert.equal(stale.statusCode, 409)
      const garbage = await account.call('POST', `/v1/app_offerings/${made.id}/avatar`, 'not multipart at all', { 'content-type': `multipart/form-data; boundary=${SDK_BOUNDARY}` })
      assert.equal(garbage.statusCode, 400, garbage.body)
    })
  })
}
