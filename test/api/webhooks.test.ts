// Webhook policies and webhooks as records (lifecycle.md, "App instances (installs)"): a
// provider's own, made and changed over REST; the public key shown once; the key sets; deleting
// what nothing uses; the enabled/disabled lists. Then outbound safety: without
// WEBHOOK_ALLOW_PRIVATE nothing reaches a loopback or private address, whatever the URI says,
// and a webhook whose last 20 deliveries failed is disabled.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Kysely } from 'kysely'
import pino from 'pino'
import { DeliveryWorker, FAILURES_TO_DISABLE, issuerTemplate } from '../../src/platform/webhooks/worker.ts'
import { USED_BY_WEBHOOKS } from '../../src/resources/webhook-policies/rules.ts'
import { generateSigningKey, sealPrivateKey } from '../../src/storage/signing-keys.ts'
import { engines } from '../support/stores.ts'
import { useHarness, type TestAccount } from '../support/harness.ts'
import { assertInvalid } from '../support/offerings.ts'
import { Receiver } from '../support/receiver.ts'

for (const engine of engines) {
  describe(`webhook policies and webhooks (${engine})`, () => {
    const h = useHarness(engine)
    let owner: TestAccount
    let other: TestAccount

    before(async () => {
      owner = await h().account('Owner')
      other = await h().account('Other')
    })

    const jwks = async (account: string) => (await h().app.inject({ method: 'GET', url: `/v1/accounts/${account}/jwks.json` })).json().keys

    it('creates a policy with a key pair: public_key_pem in that answer only, the key in the key sets', async () => {
      const res = await owner.call('POST', '/v1/webhook_policies', { jwt_alg: 'es384', jwt_audience: 'my-app', jwt_claim_expires_in: '1:30' })
      assert.equal(res.statusCode, 201, res.body)
      const policy = res.json()
      assert.match(policy.public_key_pem, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----$/)
      assert.match(policy.name, /^ES384 policy /)
      assert.deepEqual([policy.jwt_alg, policy.jwt_audience, policy.jwt_claim_expires_in, policy.disabled], ['es384', 'my-app', 90, false])
      const shown = (await owner.call('GET', `/v1/webhook_policies/${policy.id}`)).json()
      assert.equal(shown.public_key_pem, undefined)
      assert.ok(!JSON.stringify((await owner.call('GET', '/v1/webhook_policies')).json()).includes('BEGIN PUBLIC KEY'))
      const [key] = (await owner.call('GET', `/v1/webhook_policies/${policy.id}/jwks`)).json().keys
      assert.deepEqual([key.kty, key.crv, key.alg, key.use, typeof key.kid, key.d], ['EC', 'P-384', 'ES384', 'sig', 'string', undefined])
      assert.ok((await jwks(owner.id)).some((k: any) => k.kid === key.kid))
      // Another account's policy: not found, key set included.
      assert.equal((await other.call('GET', `/v1/webhook_policies/${policy.id}`)).statusCode, 404)
      assert.equal((await other.call('GET', `/v1/webhook_policies/${policy.id}/jwks`)).statusCode, 404)
      assert.deepEqual(await jwks(other.id), [])
    })

    it('a new jwt_alg brings a new key; the old one stays in the set until the policy is deleted', async () => {
      const policy = (await owner.call('POST', '/v1/webhook_policies', { jwt_alg: 'rs256' })).json()
      const changed = await owner.call('PATCH', `/v1/webhook_policies/${policy.id}`, { jwt_alg: 'es256' })
      assert.equal(changed.statusCode, 200, changed.body)
      assert.match(changed.json().name, /^ES256 policy /)
      const keys = (await owner.call('GET', `/v1/webhook_policies/${policy.id}/jwks`)).json().keys
      assert.deepEqual(keys.map((k: any) => k.alg), ['RS256', 'ES256'])
      // A change of anything else makes no key.
      await owner.call('PATCH', `/v1/webhook_policies/${policy.id}`, { jwt_audience: 'x' })
      assert.equal((await owner.call('GET', `/v1/webhook_policies/${policy.id}/jwks`)).json().keys.length, 2)
      assert.equal((await owner.call('DELETE', `/v1/webhook_policies/${policy.id}`)).statusCode, 204)
      assert.equal((await owner.call('GET', `/v1/webhook_policies/${policy.id}`)).statusCode, 404)
      const left = new Set((await jwks(owner.id)).map((k: any) => k.kid))
      for (const key of keys) assert.ok(!left.has(key.kid))
    })

    it('refuses bad policies and webhooks with 422s, never a 500', async () => {
      assertInvalid(await owner.call('POST', '/v1/webhook_policies', {}), [['jwt_alg', "can't be blank"]])
      assertInvalid(await owner.call('POST', '/v1/webhook_policies', { jwt_alg: 'hs256', jwt_claim_expires_in: 0 }), [
        ['jwt_alg', 'is not included in the list'],
        ['jwt_claim_expires_in', 'must be greater than or equal to 1'],
      ])
      const foreign = (await other.call('POST', '/v1/webhook_policies', { jwt_alg: 'es256' })).json()
      assertInvalid(await owner.call('POST', '/v1/webhooks', { event: 'app_instance.create', uri: 'ftp://example.com/hook', webhook_policy_id: foreign.id }), [
        ['uri', 'is invalid'],
        ['webhook_policy', 'must exist'],
      ])
      assertInvalid(await owner.call('POST', '/v1/webhooks', { event: 'request.update', uri: 'https://example.com/hook', app_offering_references: 'x' }), [
        ['event', 'is not included in the list'],
        ['app_offering_references', 'is invalid'],
      ])
      assertInvalid(await owner.call('POST', '/v1/webhooks', {}), [['event', "can't be blank"], ['uri', "can't be blank"]])
    })

    it('makes, lists, changes and deletes webhooks; a policy in use is not deleted', async () => {
      const policy = (await owner.call('POST', '/v1/webhook_policies', { jwt_alg: 'es256' })).json()
      const made = await owner.call('POST', '/v1/webhooks', {
        event: 'app_instance.secrets-update',
        uri: 'https://hooks.example.com/secrets',
        webhook_policy_id: policy.id,
        description: 'rotations',
        app_offering_references: ['ref_a', 'ref_b', 'ref_a'],
      })
      assert.equal(made.statusCode, 201, made.body)
      const hook = made.json()
      assert.deepEqual(
        [hook.event, hook.uri, hook.webhook_policy.id, hook.name, hook.description, hook.disabled, hook.openid_connect_discovery, hook.app_offering_references],
        ['app_instance.secrets-update', 'https://hooks.example.com/secrets', policy.id, 'app_instance.secrets-update', 'rotations', false, false, ['ref_a', 'ref_b']],
      )
      const off = (await owner.call('POST', '/v1/webhooks', { event: 'webhook.verify', uri: 'https://hooks.example.com/off', disabled: true, name: 'Off' })).json()
      const ids = async (path: string) => (await owner.call('GET', path)).json().map((w: any) => w.id)
      assert.deepEqual(await ids('/v1/webhooks/enabled'), [hook.id])
      assert.deepEqual(await ids('/v1/webhooks/disabled'), [off.id])
      assert.deepEqual(await ids('/v1/webhooks?name=Off'), [off.id])
      assert.deepEqual(await ids('/v1/webhooks?event=webhook.verify'), [off.id])
      assert.deepEqual((await other.call('GET', '/v1/webhooks')).json(), [])

      assertInvalid(await owner.call('DELETE', `/v1/webhook_policies/${policy.id}`), [['base', USED_BY_WEBHOOKS]])
      // The URI changed: webhook.verify again, in the outbox with the change.
      const db = h().database.db as unknown as Kysely<any>
      const events = async () => (await db.selectFrom('webhook_deliveries').select('event').where('webhook_id', '=', hook.id).orderBy('id').execute()).map((r) => r.event)
      assert.deepEqual(await events(), ['webhook.verify'])
      assert.equal((await owner.call('PATCH', `/v1/webhooks/${hook.id}`, { description: 'same URI' })).statusCode, 200)
      assert.deepEqual(await events(), ['webhook.verify'])
      assert.equal((await owner.call('PATCH', `/v1/webhooks/${hook.id}`, { uri: 'https://hooks.example.com/moved' })).statusCode, 200)
      assert.deepEqual(await events(), ['webhook.verify', 'webhook.verify'])
      // A disabled webhook is not sent anything.
      assert.equal((await db.selectFrom('webhook_deliveries').select('id').where('webhook_id', '=', off.id).execute()).length, 0)

      assert.equal((await other.call('DELETE', `/v1/webhooks/${hook.id}`)).statusCode, 404)
      const readOnly = await h().app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: { authorization: `Bearer ${owner.readToken}` } })
      assert.equal(readOnly.statusCode, 403)
      assert.equal((await owner.call('DELETE', `/v1/webhooks/${hook.id}`)).statusCode, 204)
      assert.deepEqual(await events(), [], 'its deliveries went with it')
      assert.equal((await owner.call('GET', `/v1/webhooks/${hook.id}`)).statusCode, 404)
      assert.equal((await owner.call('DELETE', `/v1/webhooks/${hook.id}`)).statusCode, 404)
      assert.equal((await owner.call('DELETE', `/v1/webhook_policies/${policy.id}`)).statusCode, 204)
      // The trail keeps the deletion.
      const trail = await db.selectFrom('audit_entries').select(['action', 'changes']).where('record_type', '=', 'webhooks').where('record_id', '=', hook.id).orderBy('id').execute()
      assert.deepEqual(trail.map((e) => e.action), ['create', 'update', 'update', 'delete'])
      assert.deepEqual(JSON.parse(trail[3].changes).uri, ['https://hooks.example.com/moved', null])
    })

    it("refuses to delete an install's webhook or policy, and PUT/POST on a record answer 405", async () => {
      assert.equal((await owner.call('POST', '/v1/webhooks/1')).statusCode, 405)
      assert.equal((await owner.call('DELETE', '/v1/webhooks')).statusCode, 405)
      assert.match(String((await owner.call('POST', '/v1/webhook_policies/1')).headers.allow), /DELETE/)
    })
  })

  describe(`outbound safety (${engine})`, () => {
    // No WEBHOOK_ALLOW_PRIVATE: the receiver on 127.0.0.1 must never be reached.
    const h = useHarness(engine, { WEBHOOK_RETRY_BASE_MS: '1', WEBHOOK_POLL_MS: '20', WEBHOOK_MAX_ATTEMPTS: '1' })
    const receiver = new Receiver()
    let worker: DeliveryWorker
    let owner: TestAccount

    before(async () => {
      await receiver.start()
      worker = new DeliveryWorker(h().database, h().config, pino({ level: 'silent' }), { issuer: issuerTemplate(h().config, 'http://localhost'), secretKey: h().config.secretKey!, nodeIdDomain: 'localhost' })
      worker.start()
      owner = await h().account('Owner')
    })
    after(async () => {
      await worker?.stop()
      await receiver.stop()
    })

    async function attempts(webhook: number, count: number): Promise<any[]> {
      for (let tries = 0; ; tries++) {
        const listed = (await owner.call('GET', `/v1/webhooks/${webhook}/deliveries?per_page=100`)).json()
        if (listed.length >= count || tries > 400) return listed
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    }

    it('refuses loopback and private targets: a name that resolves to them, literals in every spelling', async () => {
      const port = new URL(receiver.origin).port
      const uris = [
        `http://localhost:${port}/by-name`,
        `http://127.0.0.1:${port}/literal`,
        `http://[::ffff:127.0.0.1]:${port}/mapped`,
        `http://[::1]:${port}/v6-loopback`,
        `http://0.0.0.0:${port}/any`,
        `http://2130706433:${port}/decimal`,
        `http://169.254.169.254/latest/meta-data`,
        `http://10.1.2.3/private`,
      ]
      const expected = [
        /^refused: localhost \((127\.0\.0\.1|::1)\) is not a public address/,
        /^refused: 127\.0\.0\.1 is not/,
        /^refused: ::ffff:7f00:1 is not/,
        /^refused: ::1 is not/,
        /^refused: 0\.0\.0\.0 is not/,
        /^refused: 127\.0\.0\.1 is not/,
        /^refused: 169\.254\.169\.254 is not/,
        /^refused: 10\.1\.2\.3 is not/,
      ]
      for (const [i, uri] of uris.entries()) {
        const hook = await owner.call('POST', '/v1/webhooks', { event: 'webhook.verify', uri })
        assert.equal(hook.statusCode, 201, hook.body)
        const [attempt] = await attempts(hook.json().id, 1)
        assert.equal(attempt?.status, 'failed', `${uri}: ${JSON.stringify(attempt)}`)
        assert.equal(attempt.response_code, null)
        assert.match(attempt.error, expected[i], uri)
      }
      assert.deepEqual(receiver.received, [], 'the receiver was reached')
    })

    it('never sends a delivery unsigned when its key does not open (sealed under another SECRET_KEY)', async () => {
      const policy = (await owner.call('POST', '/v1/webhook_policies', { jwt_alg: 'es256' })).json()
      const db = h().database.db as unknown as Kysely<any>
      const { kid } = await db.selectFrom('webhook_keys').select('kid').where('policy_id', '=', policy.id).executeTakeFirstOrThrow()
      const foreign = await generateSigningKey('es256')
      await db.updateTable('webhook_keys').set({ private_key: sealPrivateKey('another-secret-key-0123456789abcdefgh', kid, foreign.privateJwk) }).where('kid', '=', kid).execute()
      const hook = (await owner.call('POST', '/v1/webhooks', { event: 'webhook.verify', uri: 'https://hooks.example.com/x', webhook_policy_id: policy.id })).json()
      const [attempt] = await attempts(hook.id, 1)
      assert.deepEqual([attempt.status, attempt.response_code, attempt.error], ['failed', null, 'no key to sign with (see the log)'])
    })

    it(`disables a webhook after ${FAILURES_TO_DISABLE} failed deliveries in a row, as the worker`, async () => {
      const port = new URL(receiver.origin).port
      const hook = (await owner.call('POST', '/v1/webhooks', { event: 'webhook.verify', uri: `http://localhost:${port}/0` })).json()
      // Each new URI is one more delivery of webhook.verify.
      for (let i = 1; i < FAILURES_TO_DISABLE; i++) {
        const res = await owner.call('PATCH', `/v1/webhooks/${hook.id}`, { uri: `http://localhost:${port}/${i}` })
        assert.equal(res.statusCode, 200, res.body)
      }
      const deadline = Date.now() + 30_000
      while (!(await owner.call('GET', `/v1/webhooks/${hook.id}`)).json().disabled) {
        assert.ok(Date.now() < deadline, `not disabled; attempts: ${(await attempts(hook.id, 0)).length}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      assert.equal((await attempts(hook.id, FAILURES_TO_DISABLE)).length, FAILURES_TO_DISABLE)
      const trail = (await owner.call('GET', `/v1/webhooks/${hook.id}/audit`)).json()
      assert.deepEqual(trail[0].changes, { disabled: [false, true] })
      assert.deepEqual(trail[0].created_by, { id: null, name: 'webhook deliveries' })
      assert.deepEqual(receiver.received, [])
    })
  })
}
