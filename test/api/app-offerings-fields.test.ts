// Every field rule of app-offerings.md, both sides of each limit, on every store.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { engines } from '../support/stores.ts'
import { uniqueId, useHarness, type TestAccount } from '../support/harness.ts'
import { assertInvalid, createOffering, serviceInstance, serviceInstanceReference, validOffering } from '../support/offerings.ts'

const TOO_LONG = (max: number, unit = 'characters') => `is too long (maximum is ${max} ${unit})`
const ASTRAL = '\u{1F600}' // one code point, two UTF-16 units, four UTF-8 bytes
const MiB = 1024 * 1024

const padTo = (prefix: string, length: number, filler = 'x') => prefix + filler.repeat(length - [...prefix].length)
// An image of `bytes` bytes whose first bytes are its type's signature: the server sniffs the content.
const SIGNATURES: Record<string, Buffer> = {
  'image/png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  'image/jpeg': Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  'image/gif': Buffer.from('GIF89a'),
  'image/webp': Buffer.from('RIFF\0\0\0\0WEBP'),
  'image/svg+xml': Buffer.from('<svg xmlns="http://www.w3.org/2000/svg">'),
}
const dataUrl = (mime: string, bytes: number) => {
  const image = Buffer.alloc(bytes, mime === 'image/svg+xml' ? 0x20 : 7)
  SIGNATURES[mime]?.copy(image)
  return `data:${mime};base64,${image.toString('base64')}`
}

/** `[input, value, outcome]`: the outcome is the rendered value (under the field's name) or an error. */
type Outcome = { renders: unknown } | { error: string }
type Case = [input: string, value: unknown, outcome: Outcome]
const ok = (renders: unknown): Outcome => ({ renders })
const same = (value: unknown): Case[2] => ok(value)
const bad = (error: string): Outcome => ({ error })

const fieldOf = (input: string) => input.replace(/_id$/, '')

function cases(): Case[] {
  const http = 'https://hooks.example.com/'
  const list: Case[] = [
    // name: required, max 128 code points, trimmed
    ['name', 'n'.repeat(128), same('n'.repeat(128))],
    ['name', 'n'.repeat(129), bad(TOO_LONG(128))],
    ['name', ASTRAL.repeat(128), same(ASTRAL.repeat(128))],
    ['name', ASTRAL.repeat(129), bad(TOO_LONG(128))],
    ['name', 'é'.repeat(128), same('é'.repeat(128))],
    ['name', `  ${'n'.repeat(128)}\t\n`, ok('n'.repeat(128))],
    ['name', '  Spaced  Name ', ok('Spaced  Name')],
    ['name', '', bad("can't be blank")],
    ['name', '   ', bad("can't be blank")],
    ['name', null, bad("can't be blank")],
    // policy_jwt_alg: the enum, exact lowercase
    ...['rs256', 'rs384', 'rs512', 'es256', 'es384', 'es512'].map((alg): Case => ['policy_jwt_alg', alg, same(alg)]),
    ['policy_jwt_alg', 'RS256', bad('is not included in the list')],
    ['policy_jwt_alg', 'hs256', bad('is not included in the list')],
    ['policy_jwt_alg', ' rs256', bad('is not included in the list')],
    ['policy_jwt_alg', '', bad("can't be blank")],
    ['policy_jwt_alg', null, bad("can't be blank")],
    // webhook_uri_template: required, max 255, absolute http(s), may hold {account}
    ['webhook_uri_template', padTo(http, 255), same(padTo(http, 255))],
    ['webhook_uri_template', padTo(http, 256), bad(TOO_LONG(255))],
    ['webhook_uri_template', padTo(http, 255, 'é'), same(padTo(http, 255, 'é'))],
    ['webhook_uri_template', 'http://hooks.example.com/{account}', same('http://hooks.example.com/{account}')],
    ['webhook_uri_template', 'https://{account}.example.com/hook', same('https://{account}.example.com/hook')],
    ['webhook_uri_template', 'https://hooks.example.com:8443/a?b=c', same('https://hooks.example.com:8443/a?b=c')],
    ['webhook_uri_template', 'ftp://hooks.example.com/x', bad('is invalid')],
    ['webhook_uri_template', 'hooks.example.com/x', bad('is invalid')],
    ['webhook_uri_template', '/relative/{account}', bad('is invalid')],
    ['webhook_uri_template', 'https://', bad('is invalid')],
    ['webhook_uri_template', 'https://hooks example.com/', bad('is invalid')],
    ['webhook_uri_template', 'javascript:alert(1)', bad('is invalid')],
    ['webhook_uri_template', '', bad("can't be blank")],
    // policy_jwt_audience: optional, max 2048
    ['policy_jwt_audience', 'a'.repeat(2048), same('a'.repeat(2048))],
    ['policy_jwt_audience', 'a'.repeat(2049), bad(TOO_LONG(2048))],
    ['policy_jwt_audience', ASTRAL.repeat(2048), same(ASTRAL.repeat(2048))],
    ['policy_jwt_audience', '', ok(null)],
    ['policy_jwt_audience', null, ok(null)],
    // policy_jwt_claim_expires_in: minutes, 1..525600, "hhh:mm"
    ['policy_jwt_claim_expires_in', 1, same(1)],
    ['policy_jwt_claim_expires_in', 525_600, same(525_600)],
    ['policy_jwt_claim_expires_in', 0, bad('must be greater than or equal to 1')],
    ['policy_jwt_claim_expires_in', -5, bad('must be greater than or equal to 1')],
    ['policy_jwt_claim_expires_in', 525_601, bad('must be less than or equal to 525600')],
    ['policy_jwt_claim_expires_in', '90', ok(90)],
    ['policy_jwt_claim_expires_in', '1:30', ok(90)],
    ['policy_jwt_claim_expires_in', '001:05', ok(65)],
    ['policy_jwt_claim_expires_in', '8760:00', ok(525_600)],
    ['policy_jwt_claim_expires_in', '8760:01', bad('must be less than or equal to 525600')],
    ['policy_jwt_claim_expires_in', '0:00', bad('must be greater than or equal to 1')],
    ['policy_jwt_claim_expires_in', '1:60', bad('is invalid')],
    ['policy_jwt_claim_expires_in', '1:5', bad('is invalid')],
    ['policy_jwt_claim_expires_in', 'an hour', bad('is invalid')],
    ['policy_jwt_claim_expires_in', 1.5, bad('is invalid')],
    ['policy_jwt_claim_expires_in', '', ok(null)],
    ['policy_jwt_claim_expires_in', null, ok(null)],
    // configuration_uri_template: optional, max 255, absolute http(s), may hold {account}
    ['configuration_uri_template', padTo(http, 255), same(padTo(http, 255))],
    ['configuration_uri_template', padTo(http, 256), bad(TOO_LONG(255))],
    ['configuration_uri_template', 'https://config.example.com/{account}', same('https://config.example.com/{account}')],
    ['configuration_uri_template', 'mailto:x@example.com', bad('is invalid')],
    ['configuration_uri_template', '', ok(null)],
    // card_description: optional, max 255
    ['card_description', 'c'.repeat(255), same('c'.repeat(255))],
    ['card_description', 'c'.repeat(256), bad(TOO_LONG(255))],
    ['card_description', ASTRAL.repeat(255), same(ASTRAL.repeat(255))],
    // picture_uri: http(s) up to 2048 characters, or a data: URL image up to 2 MiB decoded
    ['picture_uri', padTo('https://cdn.example.com/', 2048), same(padTo('https://cdn.example.com/', 2048))],
    ['picture_uri', padTo('https://cdn.example.com/', 2049), bad('is invalid')],
    ['picture_uri', padTo('https://cdn.example.com/', 2048, ASTRAL), same(padTo('https://cdn.example.com/', 2048, ASTRAL))],
    ['picture_uri', padTo('https://cdn.example.com/', 2049, ASTRAL), bad('is invalid')],
    ['picture_uri', 'http://cdn.example.com/logo.png', same('http://cdn.example.com/logo.png')],
    ['picture_uri', 'ftp://cdn.example.com/logo.png', bad('is invalid')],
    ['picture_uri', 'logo.png', bad('is invalid')],
    ...['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml'].map((mime): Case => ['picture_uri', dataUrl(mime, 30), same(dataUrl(mime, 30))]),
    ['picture_uri', dataUrl('image/bmp', 30), bad('is invalid')],
    ['picture_uri', dataUrl('text/html', 30), bad('is invalid')],
    ['picture_uri', 'data:image/png;base64,not*base64', bad('is invalid')],
    ['picture_uri', 'data:image/png,rawbytes', bad('is invalid')],
    ['picture_uri', '', ok(null)],
    // booleans: JSON booleans, truthy words, anything else false
    ...(['disabled', 'requires_enabled_oauth_person'] as const).flatMap((field): Case[] => [
      [field, true, ok(true)],
      [field, false, ok(false)],
      ...['true', 'TRUE', '1', 't', 'Y', 'yes', 'on'].map((word): Case => [field, word, ok(true)]),
      ...['false', '0', 'no', 'off', 'nope', ''].map((word): Case => [field, word, ok(false)]),
      [field, 1, ok(true)],
      [field, 0, ok(false)],
      [field, null, ok(false)],
      [field, {}, bad('is invalid')],
      [field, [true], bad('is invalid')],
    ]),
    // source (max 30 in a body) and sourceID (max 128)
    ['source', 's'.repeat(30), same('s'.repeat(30))],
    ['source', 's'.repeat(31), bad(TOO_LONG(30))],
    ['source', ASTRAL.repeat(30), same(ASTRAL.repeat(30))],
    ['sourceID', 'i'.repeat(128), same('i'.repeat(128))],
    ['sourceID', 'i'.repeat(129), bad(TOO_LONG(128))],
    ['sourceID', ASTRAL.repeat(129), bad(TOO_LONG(128))],
    ['sourceID', '', ok(null)],
    // ui_extension_version: none can exist yet; clearing it is fine
    ['ui_extension_version_id', 1, bad('must exist')],
    ['ui_extension_version_id', '7', bad('must exist')],
    ['ui_extension_version_id', null, ok(null)],
    ['ui_extension_version_id', '', ok(null)],
  ]
  // Texts: 65,535 UTF-8 bytes
  for (const field of ['description', 'features', 'compliance']) {
    list.push(
      [field, 't'.repeat(65_535), same('t'.repeat(65_535))],
      [field, 't'.repeat(65_536), bad(TOO_LONG(65_535, 'bytes'))],
      [field, 'é'.repeat(32_767) + 't', same('é'.repeat(32_767) + 't')],
      [field, 'é'.repeat(32_768), bad(TOO_LONG(65_535, 'bytes'))],
      [field, ASTRAL.repeat(16_384), bad(TOO_LONG(65_535, 'bytes'))],
      [field, 'line one\nline two', same('line one\nline two')],
      [field, '', ok(null)],
    )
  }
  return list
}

const describeValue = (value: unknown) => {
  const text = typeof value === 'string' && value.length > 40 ? `${JSON.stringify(value.slice(0, 20))}… (${value.length} units)` : JSON.stringify(value)
  return text ?? String(value)
}

for (const engine of engines) {
  describe(`app offering fields (${engine})`, () => {
    const h = useHarness(engine)
    let account: TestAccount
    let si: number
    let reference = 0
    const nextReference = () => `${account.id}_ref_${++reference}`

    const post = (extra: Record<string, unknown>, headers?: Record<string, string>) =>
      account.call('POST', '/v1/app_offerings', validOffering(si, { reference: nextReference(), ...extra }), headers)

    it('sets up an account and a service instance', async () => {
      account = await h().account()
      si = await serviceInstance(account)
    })

    for (const [input, value, outcome] of cases()) {
      const field = fieldOf(input)
      it(`${input} = ${describeValue(value)} -> ${'error' in outcome ? outcome.error : 'accepted'}`, async () => {
        const res = await post({ [input]: value })
        if ('error' in outcome) {
          assertInvalid(res, [[field, outcome.error]])
          return
        }
        assert.equal(res.statusCode, 201, res.body.slice(0, 500))
        assert.deepEqual(res.json()[field], outcome.renders)
        // What was stored reads back the same.
        const read = await account.call('GET', `/v1/app_offerings/${res.json().id}`)
        assert.deepEqual(read.json()[field], outcome.renders)
      })
    }

    it('holds three 64 KiB texts and a 2 MiB picture in one body', async () => {
      const picture = dataUrl('image/png', 2 * MiB)
      const res = await post({ description: 'd'.repeat(65_535), features: 'f'.repeat(65_535), compliance: 'c'.repeat(65_535), picture_uri: picture })
      assert.equal(res.statusCode, 201, res.body.slice(0, 300))
      assert.equal(res.json().picture_uri, picture)
      assertInvalid(await post({ picture_uri: dataUrl('image/png', 2 * MiB + 1) }), [['picture_uri', 'is invalid']])
    })

    it('requires name, service_instance, policy_jwt_alg and webhook_uri_template', async () => {
      const res = await account.call('POST', '/v1/app_offerings', {})
      // The reference follows from the name, so only the name is reported (docs/architecture.md).
      assertInvalid(res, [
        ['name', "can't be blank"],
        ['service_instance', 'must exist'],
        ['policy_jwt_alg', "can't be blank"],
        ['webhook_uri_template', "can't be blank"],
      ])
    })

    it('reports at most one error per field, in the order of the fields table', async () => {
      const res = await account.call('POST', '/v1/app_offerings', {
        sourceID: 'i'.repeat(129),
        webhook_uri_template: 'x'.repeat(300),
        name: ' ',
        policy_jwt_claim_expires_in: 'soon',
        disabled: [],
      })
      assertInvalid(res, [
        ['name', "can't be blank"],
        ['service_instance', 'must exist'],
        ['policy_jwt_alg', "can't be blank"],
        ['webhook_uri_template', TOO_LONG(255)],
        ['policy_jwt_claim_expires_in', 'is invalid'],
        ['disabled', 'is invalid'],
        ['sourceID', TOO_LONG(128)],
      ])
    })

    describe('reference', () => {
      it('takes 161 characters, astral ones counted once, and refuses 162', async () => {
        const long = padTo(`${account.id}_long_`, 161)
        assert.equal((await post({ reference: long })).json().reference, long)
        const astral = padTo(`${account.id}_astral_`, 161, ASTRAL)
        assert.equal((await post({ reference: astral })).json().reference, astral)
        assertInvalid(await post({ reference: padTo(`${account.id}_longer_`, 162) }), [['reference', TOO_LONG(161)]])
      })

      it('is trimmed before validation', async () => {
        const res = await post({ reference: `  ${account.id}_trimmed\t` })
        assert.equal(res.json().reference, `${account.id}_trimmed`)
        const exact = padTo(`${account.id}_trimmed_long_`, 161)
        assert.equal((await post({ reference: ` ${exact} ` })).json().reference, exact)
      })

      it('defaults to <account>_<name in lower case, spaces as _>, also for "" and null', async () => {
        const made = async (reference: unknown, name: string) =>
          (await account.call('POST', '/v1/app_offerings', validOffering(si, { name, ...(reference !== undefined && { reference }) }))).json()
        assert.equal((await made(undefined, 'Note Dispatcher')).reference, `${account.id}_note_dispatcher`)
        assert.equal((await made('', '  Trimmed  Twice ')).reference, `${account.id}_trimmed__twice`)
        assert.equal((await made(null, 'ÄRGER Über')).reference, `${account.id}_ärger_über`)
      })

      it('answers has already been taken for a defaulted reference that exists', async () => {
        await createOffering(account, si, { name: 'Twin' })
        const res = await account.call('POST', '/v1/app_offerings', validOffering(si, { name: 'Twin' }))
        assertInvalid(res, [['reference', 'has already been taken']])
      })

      it('is unique on PATCH too, and keeps its value when the name changes', async () => {
        const first = await createOffering(account, si, { reference: nextReference() })
        const second = await createOffering(account, si, { reference: nextReference() })
        const res = await account.call('PATCH', `/v1/app_offerings/${second.id}`, { reference: first.reference })
        assertInvalid(res, [['reference', 'has already been taken']])
        assert.equal((await account.call('GET', `/v1/app_offerings/${second.id}`)).json().reference, second.reference)

        const renamed = await account.call('PATCH', `/v1/app_offerings/${second.id}`, { name: 'A New Name', reference: second.reference })
        assert.equal(renamed.statusCode, 200)
        assert.equal(renamed.json().reference, second.reference)
        const moved = await account.call('PATCH', `/v1/app_offerings/${second.id}`, { reference: `${second.reference}_moved` })
        assert.equal(moved.json().reference, `${second.reference}_moved`)
        // The old reference is free again.
        assert.equal((await post({ reference: second.reference })).statusCode, 201)
      })

      it('cannot be blanked on PATCH', async () => {
        const offering = await createOffering(account, si, { reference: nextReference() })
        assertInvalid(await account.call('PATCH', `/v1/app_offerings/${offering.id}`, { reference: '  ' }), [['reference', "can't be blank"]])
      })
    })

    describe('service_instance', () => {
      it('is written as a numeric id, "12" included, and rendered as {id, name, localized_name[, sourceID], nodeID}', async () => {
        const withSource = await account.call('POST', '/v1/service_instances', { name: 'Billing', sourceID: 'ext-1' })
        const res = await post({ service_instance_id: String(withSource.json().id) })
        assert.equal(res.statusCode, 201, res.body)
        assert.deepEqual(res.json().service_instance, serviceInstanceReference(withSource.json().id, 'Billing', 'ext-1'))
      })

      it('must exist: missing, blank, zero, unknown, or of another account', async () => {
        const other = await h().account()
        const foreign = await serviceInstance(other, 'Foreign')
        for (const value of [undefined, '', null, 0, -1, 999_999_999, foreign]) {
          const body = validOffering(si, { reference: nextReference(), service_instance_id: value })
          if (value === undefined) delete (body as Record<string, unknown>).service_instance_id
          assertInvalid(await account.call('POST', '/v1/app_offerings', body), [['service_instance', 'must exist']])
        }
        const mine = await createOffering(account, si, { reference: nextReference() })
        assertInvalid(await account.call('PATCH', `/v1/app_offerings/${mine.id}`, { service_instance_id: foreign }), [['service_instance', 'must exist']])
        assertInvalid(await account.call('PATCH', `/v1/app_offerings/${mine.id}`, { service_instance_id: null }), [['service_instance', 'must exist']])
      })

      it('is invalid when not an id', async () => {
        for (const value of ['twelve', { id: si }, [si], 1.5]) {
          assertInvalid(await post({ service_instance_id: value }), [['service_instance', 'is invalid']])
        }
      })
    })

    describe('attachments', () => {
      for (const field of ['description_attachments', 'features_attachments', 'compliance_attachments']) {
        it(`${field}: an empty list is fine, a key is a 422 on that field, and it is never rendered`, async () => {
          const fine = await post({ [field]: [] })
          assert.equal(fine.statusCode, 201)
          assert.ok(!(field in fine.json()))
          assert.deepEqual(fine.json().attachments, [])
          assertInvalid(await post({ [field]: [{ key: 'upload-1' }] }), [[field, 'is invalid']])
          assertInvalid(await post({ [field]: 'upload-1' }), [[field, 'is invalid']])
          assertInvalid(await post({ [field]: { key: 'upload-1' } }), [[field, 'is invalid']])
          assertInvalid(await account.call('PATCH', `/v1/app_offerings/${fine.json().id}`, { [field]: [{ key: 'k' }] }), [[field, 'is invalid']])
        })
      }
    })

    it('ignores read-only and unknown fields', async () => {
      const res = await post({
        id: 1,
        nodeID: 'bm9wZQ',
        created_at: '2001-01-01T00:00:00+00:00',
        updated_at: '2001-01-01T00:00:00+00:00',
        attachments: [{ key: 'x' }],
        ui_extension_version: { id: 3 },
        service_instance: { id: 999 },
        account: 'someone-else',
        account_id: 'someone-else',
        draft_id: 1,
        lock_version: 99,
        colour: 'blue',
      })
      assert.equal(res.statusCode, 201, res.body)
      const body = res.json()
      assert.notEqual(body.created_at, '2001-01-01T00:00:00+00:00')
      assert.deepEqual(body.attachments, [])
      assert.deepEqual(body.service_instance, serviceInstanceReference(si, 'Mail'))
      assert.equal(body.ui_extension_version, null)
      assert.ok(!('colour' in body) && !('account' in body) && !('lock_version' in body))
      const read = await account.call('GET', `/v1/app_offerings/${body.id}`)
      assert.deepEqual(read.json(), body)
    })

    it('drops __proto__, constructor and prototype keys like any unknown key', async () => {
      const base = validOffering(si, { reference: nextReference() })
      const raw = JSON.stringify(base).replace(
        /^\{/,
        '{"__proto__":{"disabled":true,"name":"polluted"},"constructor":{"prototype":{"disabled":true}},"prototype":{"x":1},',
      )
      const res = await account.call('POST', '/v1/app_offerings', raw)
      assert.equal(res.statusCode, 201, res.body)
      assert.equal(res.json().name, base.name)
      assert.equal(res.json().disabled, false)
      assert.equal(({} as Record<string, unknown>).disabled, undefined)
    })

    describe('PATCH and PUT', () => {
      // Backdates a record so that a change of updated_at is visible within the same second.
      const backdate = async (id: number) => {
        await h().database.db.updateTable('app_offerings').set({ created_at: 1_000_000_000, updated_at: 1_000_000_000 }).where('id', '=', id).execute()
      }
      const OLD = '2001-09-09T01:46:40+00:00'

      for (const method of ['PATCH', 'PUT']) {
        it(`${method} changes only the fields sent, and updated_at only on a real change`, async () => {
          const created = await createOffering(account, si, {
            reference: nextReference(),
            card_description: 'Before',
            policy_jwt_claim_expires_in: 30,
            disabled: true,
          })
          await backdate(created.id)

          const unchanged = await account.call(method, `/v1/app_offerings/${created.id}`, {
            name: `  ${created.name} `,
            card_description: 'Before',
            policy_jwt_claim_expires_in: '0:30',
            disabled: 'yes',
            service_instance_id: String(si),
          })
          assert.equal(unchanged.statusCode, 200, unchanged.body)
          assert.equal(unchanged.json().updated_at, OLD)

          const changed = await account.call(method, `/v1/app_offerings/${created.id}`, { card_description: 'After' })
          assert.equal(changed.statusCode, 200)
          const body = changed.json()
          assert.equal(body.card_description, 'After')
          assert.equal(body.created_at, OLD)
          assert.notEqual(body.updated_at, OLD)
          for (const field of ['name', 'reference', 'policy_jwt_alg', 'webhook_uri_template', 'policy_jwt_claim_expires_in', 'disabled', 'source', 'nodeID']) {
            assert.deepEqual(body[field], created[field], field)
          }
          assert.deepEqual((await account.call('GET', `/v1/app_offerings/${created.id}`)).json(), body)
        })
      }

      it('clears optional fields with "" and null, and refuses to blank required ones', async () => {
        const created = await createOffering(account, si, { reference: nextReference(), card_description: 'x', policy_jwt_audience: 'aud', sourceID: 'ext' })
        const cleared = await account.call('PATCH', `/v1/app_offerings/${created.id}`, { card_description: '', policy_jwt_audience: null, sourceID: '' })
        assert.deepEqual([cleared.json().card_description, cleared.json().policy_jwt_audience, cleared.json().sourceID], [null, null, null])
        const res = await account.call('PATCH', `/v1/app_offerings/${created.id}`, { name: '', policy_jwt_alg: null, webhook_uri_template: ' ' })
        assertInvalid(res, [
          ['name', "can't be blank"],
          ['policy_jwt_alg', "can't be blank"],
          ['webhook_uri_template', 'is invalid'],
        ])
      })

      it('changes nothing when a PATCH fails', async () => {
        const created = await createOffering(account, si, { reference: nextReference() })
        assertInvalid(await account.call('PATCH', `/v1/app_offerings/${created.id}`, { name: 'Fine', policy_jwt_alg: 'none' }), [['policy_jwt_alg', 'is not included in the list']])
        assert.deepEqual((await account.call('GET', `/v1/app_offerings/${created.id}`)).json(), created)
      })

      it('an empty body changes nothing', async () => {
        const created = await createOffering(account, si, { reference: nextReference() })
        const res = await account.call('PATCH', `/v1/app_offerings/${created.id}`, {})
        assert.equal(res.statusCode, 200)
        assert.deepEqual(res.json(), created)
      })
    })

    it('DELETE answers 405 Method Not Allowed and deletes nothing', async () => {
      const created = await createOffering(account, si, { reference: nextReference() })
      for (const path of [`/v1/app_offerings/${created.id}`, `/v1/app_offerings/${created.nodeID}`, '/v1/app_offerings/999999999', '/v1/app_offerings']) {
        const res = await account.call('DELETE', path)
        assert.equal(res.statusCode, 405, path)
        assert.deepEqual(res.json(), { message: 'Method Not Allowed' })
      }
      assert.equal((await account.call('GET', `/v1/app_offerings/${created.id}`)).statusCode, 200)
    })

    it('creates every field from one body, with a fresh id in another account', async () => {
      const other = await h().account()
      const otherSi = await serviceInstance(other, 'Other')
      const body = {
        name: 'Complete Offering',
        reference: `${other.id}_complete`,
        service_instance_id: otherSi,
        policy_jwt_alg: 'es512',
        webhook_uri_template: 'https://hooks.example.com/{account}',
        policy_jwt_audience: 'complete-app',
        policy_jwt_claim_expires_in: '2:00',
        configuration_uri_template: 'https://config.example.com/{account}',
        card_description: 'Card',
        description: 'Description',
        features: 'Features',
        compliance: 'Compliance',
        picture_uri: 'https://cdn.example.com/p.png',
        disabled: 'true',
        requires_enabled_oauth_person: 'false',
        ui_extension_version_id: '',
        source: 'importer',
        sourceID: uniqueId('src'),
      }
      const res = await other.call('POST', '/v1/app_offerings', body)
      assert.equal(res.statusCode, 201, res.body)
      const { id, nodeID, created_at, updated_at, attachments, ui_extension_version, service_instance, ...rest } = res.json()
      const { service_instance_id: _si, ui_extension_version_id: _ui, ...written } = body
      assert.deepEqual(rest, { ...written, policy_jwt_claim_expires_in: 120, disabled: true, requires_enabled_oauth_person: false, openid_connect_discovery: false, published: false, version: null })
      assert.deepEqual([attachments, ui_extension_version, service_instance], [[], null, serviceInstanceReference(otherSi, 'Other')])
      assert.equal(updated_at, created_at)
      assert.ok(typeof id === 'number' && typeof nodeID === 'string')
    })
  })
}
