// Bytes a client should not send: bodies that are not valid UTF-8 or name another charset (400 /
// 415, never a U+FFFD stored in their place), and URLs that do not decode, answered before any
// route is found (the 4me error body with X-Request-Id and the /v1 headers, never Fastify's).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { engines } from '../support/stores.ts'
import { useHarness, type TestAccount } from '../support/harness.ts'

const INVALID_JSON = { message: 'Invalid JSON string posted' }
const UNSUPPORTED = { message: 'Unsupported Media Type' }
/** `{"name":"<bytes>"}` with the given bytes inside the string. */
const nameWith = (...bytes: number[]) => Buffer.concat([Buffer.from('{"name":"'), Buffer.from(bytes), Buffer.from('"}')])

for (const engine of engines) {
  describe(`bodies that are not UTF-8 (${engine})`, () => {
    const h = useHarness(engine)
    let account: TestAccount

    const send = (method: 'POST' | 'PATCH' | 'PUT', url: string, payload: Buffer, contentType?: string) =>
      h().app.inject({
        method,
        url,
        payload,
        headers: { authorization: `Bearer ${account.token}`, ...(contentType ? { 'content-type': contentType } : {}) },
      })

    it('sets up', async () => {
      account = await h().account()
    })

    for (const [label, bytes] of [
      ['a Latin-1 é', [0xe9]],
      ['an overlong encoding', [0xc0, 0xaf]],
      ['a truncated sequence', [0xe2, 0x82]],
      ['an encoded surrogate', [0xed, 0xa0, 0x80]],
      ['0xFF', [0xff]],
    ] as const) {
      it(`answers 400 Invalid JSON string posted for ${label}, and stores nothing`, async () => {
        const before = (await account.call('GET', '/v1/service_instances')).json().length
        for (const contentType of ['application/json', 'application/json; charset=utf-8', undefined]) {
          const res = await send('POST', '/v1/service_instances', nameWith(...bytes), contentType)
          assert.equal(res.statusCode, 400, `${contentType}: ${res.body}`)
          assert.deepEqual(res.json(), INVALID_JSON)
        }
        assert.equal((await account.call('GET', '/v1/service_instances')).json().length, before, 'nothing created')
      })
    }

    it('refuses invalid UTF-8 in a PATCH and PUT and leaves the record as it was', async () => {
      const created = await account.call('POST', '/v1/service_instances', { name: 'Intact é' })
      assert.equal(created.statusCode, 201)
      for (const method of ['PATCH', 'PUT'] as const) {
        const res = await send(method, `/v1/service_instances/${created.json().id}`, nameWith(0x41, 0xe9, 0x42), 'application/json')
        assert.equal(res.statusCode, 400)
        assert.deepEqual(res.json(), INVALID_JSON)
      }
      assert.equal((await account.call('GET', `/v1/service_instances/${created.json().id}`)).json().name, 'Intact é')
    })

    it('still answers 404 before judging the bytes (spec order)', async () => {
      const res = await send('PATCH', '/v1/service_instances/999999999', nameWith(0xe9), 'application/json')
      assert.equal(res.statusCode, 404)
    })

    it('answers 415 for a charset other than UTF-8, even when the bytes happen to be UTF-8', async () => {
      for (const contentType of ['application/json; charset=iso-8859-1', 'application/json; charset=latin1', 'application/json; charset="utf-16"', 'application/json;charset=windows-1252']) {
        const res = await send('POST', '/v1/service_instances', Buffer.from('{"name":"x"}'), contentType)
        assert.equal(res.statusCode, 415, contentType)
        assert.deepEqual(res.json(), UNSUPPORTED)
      }
      assert.equal((await account.call('GET', '/v1/service_instances')).json().some((r: { name: string }) => r.name === 'x'), false)
    })

    it('takes UTF-8 named as utf-8, UTF-8 or utf8, and stores it exactly', async () => {
      for (const [i, charset] of ['utf-8', 'UTF-8', 'utf8', '"utf-8"'].entries()) {
        const name = `Ünïcödé ${i} 😀`
        const res = await send('POST', '/v1/service_instances', Buffer.from(JSON.stringify({ name }), 'utf8'), `application/json; charset=${charset}`)
        assert.equal(res.statusCode, 201, `${charset}: ${res.body}`)
        assert.equal(res.json().name, name)
        assert.equal((await account.call('GET', `/v1/service_instances/${res.json().id}`)).json().name, name)
      }
    })
  })
}

describe('URLs that do not decode', () => {
  const h = useHarness('sqlite')

  for (const url of ['/v1/app_offerings/%C0', '/v1/%FF', '/v1/app_offerings/%E0%A4%A', '/healthz%FF', `/v1/app_offerings/${'9'.repeat(300)}`]) {
    it(`answers ${url.slice(0, 40)} with a 4me body, a request id and the security headers`, async () => {
      for (const headers of [{}, { authorization: 'Bearer ao_not-a-real-token-at-all', 'x-request-id': 'given-id-1' }]) {
        const res = await h().app.inject({ method: 'GET', url, headers })
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${res.statusCode}`)
        const body = res.json()
        assert.deepEqual(Object.keys(body), ['message'], res.body)
        assert.equal(typeof body.message, 'string')
        assert.doesNotMatch(res.body, /FST_ERR|statusCode|"error"/)
        assert.match(res.headers['content-type'] as string, /^application\/json; charset=utf-8$/)
        assert.match(res.headers['x-request-id'] as string, 'x-request-id' in headers ? /^given-id-1$/ : /^[0-9a-f-]{36}$/)
        assert.equal(res.headers['cache-control'], 'no-store')
        assert.equal(res.headers['x-content-type-options'], 'nosniff')
        assert.equal(res.headers['content-security-policy'], "default-src 'none'")
      }
    })
  }

  it('answers a bad percent-encoding as a 400 naming the problem', async () => {
    const res = await h().app.inject({ method: 'GET', url: '/v1/app_offerings/%C0' })
    assert.equal(res.statusCode, 400)
    assert.deepEqual(res.json(), { message: 'Invalid URL: malformed percent-encoding' })
  })
})
