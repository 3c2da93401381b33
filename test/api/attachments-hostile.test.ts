// Hostile input to the attachment surface (issue 14: "bad input gets the 4me error body, never a
// 500 and never a changed record"), property-based: any value in a `<text>_attachments` list, any
// bytes as a multipart upload or avatar, any form fields.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import fc from 'fast-check'
import { useHarness, type TestAccount } from '../support/harness.ts'
import { createOffering, serviceInstance } from '../support/offerings.ts'
import { engines } from '../support/stores.ts'
import { multipartBody, SDK_BOUNDARY, storageOf, uploaded } from '../support/uploads.ts'

const RUNS = Number(process.env.HOSTILE_RUNS ?? 60)
const nasty = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.constantFrom('\u0000', '\ud800', '\udfff', '\ufeff', '\u202e', '😀', '\\', '"', '/', '..', '${filename}', '\r\n', '%') }),
  fc.constantFrom('x'.repeat(5000), 'attachments/', '../../etc/passwd', '${filename}'),
)

for (const engine of engines) {
  describe(`hostile attachment input (${engine})`, () => {
    const h = useHarness(engine, { ATTACHMENT_SIZE_LIMIT: '8kb', ATTACHMENT_EXTENSIONS: 'txt,png' })
    let account: TestAccount
    let record: { id: number }
    let key: string
    let snapshot: string

    before(async () => {
      account = await h().account()
      key = await uploaded(account, 'real.txt', Buffer.from('real'))
      record = await createOffering(account, await serviceInstance(account), { description_attachments: [{ key }] })
      snapshot = (await account.call('GET', `/v1/app_offerings/${record.id}`)).body
    })

    it('answers any <text>_attachments value with 200 or the 422 body, and a refused one changes nothing', async () => {
      const item = fc.oneof(
        fc.record({ key: fc.oneof(nasty, fc.constant(key)), filesize: fc.oneof(fc.anything(), fc.constant(4)), inline: fc.anything(), _destroy: fc.anything() }, { requiredKeys: ['key'] }),
        fc.anything(),
      )
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('description_attachments', 'features_attachments', 'compliance_attachments'), fc.oneof(fc.array(item, { maxLength: 4 }), fc.anything()), async (field, value) => {
          const res = await account.call('PATCH', `/v1/app_offerings/${record.id}`, { [field]: value })
          assert.ok(res.statusCode === 200 || res.statusCode === 422, `${res.statusCode} ${res.body} for ${JSON.stringify(value)}`)
          if (res.statusCode === 422) {
            assert.deepEqual(res.json(), { message: 'Validation Failed', errors: [[field, res.json().errors[0][1]]] })
            assert.equal((await account.call('GET', `/v1/app_offerings/${record.id}`)).body, snapshot, 'a refused write changes nothing')
          } else {
            // Put it back as it was, for the next run.
            await account.call('PATCH', `/v1/app_offerings/${record.id}`, { description_attachments: [{ key, inline: false }], features_attachments: [{ key, _destroy: true }], compliance_attachments: [{ key, _destroy: true }] })
            snapshot = (await account.call('GET', `/v1/app_offerings/${record.id}`)).body
          }
        }),
        { numRuns: RUNS },
      )
    })

    it('refuses keys no text column can hold (NUL, a lone surrogate) with the 422 body', async () => {
      for (const bad of ['\u0000', `${key}\u0000`, '\ud800', `attachments/${account.id}/\udfff`]) {
        const res = await account.call('PATCH', `/v1/app_offerings/${record.id}`, { features_attachments: [{ key: bad }] })
        assert.deepEqual([res.statusCode, res.json()], [422, { message: 'Validation Failed', errors: [['features_attachments', 'is invalid']] }], JSON.stringify(bad))
      }
    })

    it('answers any multipart body, field or file name with a 4xx body or 200, never a 500', async () => {
      const answer = await storageOf(account)
      const field = fc.tuple(fc.oneof(fc.constantFrom('key', 'x-4me-expiration', 'x-4me-signature', 'Content-Type', 'file', '__proto__', 'constructor'), nasty), nasty)
      await fc.assert(
        fc.asyncProperty(
          fc.array(field, { maxLength: 5 }),
          fc.boolean(),
          fc.oneof(nasty, fc.constant('a.txt')),
          fc.uint8Array({ maxLength: 9000 }),
          fc.oneof(fc.constant(''), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1'))),
          async (fields, signed, filename, content, garbage) => {
            // (Field names as a form can carry them: well-formed text, no quote or line break.)
            const form: Array<[string, string]> = [...(signed ? Object.entries(answer.local) : []), ...fields].map(([k, v]) => [k.toWellFormed().replace(/[\r\n"]/g, ''), v.replace(/\r\n/g, '')])
            const body = Buffer.concat([multipartBody(form, { field: 'file', filename: filename.replace(/[\r\n"]/g, ''), content: Buffer.from(content) }), Buffer.from(garbage, 'latin1')])
            for (const url of ['/v1/attachments', `/v1/app_offerings/${record.id}/avatar`]) {
              const res = await account.call('POST', url, body, { 'content-type': `multipart/form-data; boundary=${SDK_BOUNDARY}` })
              assert.ok(res.statusCode < 500, `${url}: ${res.statusCode} ${res.body}`)
              assert.equal(typeof res.json().message === 'string' || typeof res.json().key === 'string' || typeof res.json().id === 'number', true, res.body)
            }
          },
        ),
        { numRuns: RUNS },
      )
    })
  })
}
