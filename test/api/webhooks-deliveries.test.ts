// Signed webhook deliveries (lifecycle.md, "Webhook deliveries" and OpenID Connect Discovery): an
// install's events reach a real receiver on 127.0.0.1 that verifies every one with jose, as a
// receiver written for the real service would: with the key set endpoint, with nothing but the
// issuer (discovery), and with the PEM of the install's answer; for all six algorithms, audience
// and expiry included. Failures are retried with growing waits; every attempt is listed.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { createRemoteJWKSet, decodeProtectedHeader, importSPKI, jwtVerify } from 'jose'
import pino from 'pino'
import { setTrust } from '../../src/cli/trust.ts'
import { DeliveryWorker, issuerTemplate, USER_AGENT } from '../../src/platform/webhooks/worker.ts'
import { engines } from '../support/stores.ts'
import { useHarness, type TestAccount } from '../support/harness.ts'
import { createOffering, serviceInstance } from '../support/offerings.ts'
import { jwtOf, Receiver, type Received } from '../support/receiver.ts'

const ALGORITHMS = ['rs256', 'rs384', 'rs512', 'es256', 'es384', 'es512'] as const
const ENV = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_BASE_MS: '200', WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT: '2', WEBHOOK_MAX_ATTEMPTS: '4' }

for (const engine of engines) {
  describe(`webhook deliveries (${engine})`, () => {
    const h = useHarness(engine, ENV)
    const receiver = new Receiver()
    let origin: string
    let worker: DeliveryWorker
    let provider: TestAccount
    let customer: TestAccount
    let service: number

    before(async () => {
      await receiver.start()
      // A real port: receivers fetch the key sets and the discovery documents from it.
      origin = (await h().app.listen({ port: 0, host: '127.0.0.1' })).replace('[::1]', 'localhost')
      worker = new DeliveryWorker(h().database, h().config, pino({ level: 'silent' }), { issuer: issuerTemplate(h().config, origin), secretKey: h().config.secretKey!, nodeIdDomain: 'localhost' })
      worker.start()
      provider = await h().account('Provider')
      customer = await h().account('Customer')
      service = await serviceInstance(provider)
      await setTrust(h().database, customer.id, provider.id, true)
    })
    after(async () => {
      await worker?.stop()
      await receiver.stop()
    })

    /** Publishes an offering whose webhooks go to `/<path>/{account}` on the receiver; installs it as the customer. */
    async function install(path: string, extra: Record<string, unknown> = {}) {
      const draft = await createOffering(provider, service, { webhook_uri_template: `${receiver.origin}/${path}/{account}`, ...extra })
      const published = await provider.call('POST', `/v1/app_offerings/${draft.id}/publish`)
      assert.equal(published.statusCode, 201, published.body)
      const res = await customer.call('POST', '/v1/app_instances', { app_offering_id: published.json().id })
      assert.equal(res.statusCode, 201, res.body)
      return { offering: published.json(), instance: res.json() }
    }

    const issuer = () => `${origin}/accounts/${provider.id}`

    /** A webhook's attempts once the worker has logged `count` of them (it logs after the receiver answered). */
    async function attemptsOf(webhook: number, count: number, query = ''): Promise<any[]> {
      for (let tries = 0; ; tries++) {
        const res = await customer.call('GET', `/v1/webhooks/${webhook}/deliveries${query}`)
        assert.equal(res.statusCode, 200, res.body)
        if (res.json().length >= count || tries > 200) return res.json()
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    }

    /** Verifies a delivery as a stock receiver would, knowing only the issuer: discovery, then its jwks_uri. */
    async function verifyByDiscovery(delivery: Received, audience: string, algorithm: string) {
      const configuration = (await (await fetch(`${issuer()}/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string }
      assert.equal(configuration.issuer, issuer())
      const keys = createRemoteJWKSet(new URL(configuration.jwks_uri))
      return jwtVerify(jwtOf(delivery), keys, { issuer: issuer(), audience, algorithms: [algorithm] })
    }

    for (const alg of ALGORITHMS) {
      it(`${alg}: an install's webhook.verify and app_instance.create verify by the key set, by discovery and by the install's PEM`, async () => {
        const audience = `https://app.example.com/${alg}`
        const { offering, instance } = await install(`hooks-${alg}`, { policy_jwt_alg: alg, policy_jwt_audience: audience, policy_jwt_claim_expires_in: 5, openid_connect_discovery: true })
        const path = `/hooks-${alg}/${customer.id}`
        await receiver.until(() => receiver.at(path).length >= 2, `two deliveries at ${path}`)
        const [verify, create] = receiver.at(path)
        const ALG = alg.toUpperCase()
        const byKeySet = createRemoteJWKSet(new URL(`${origin}/v1/accounts/${provider.id}/jwks.json`))
        const pem = await importSPKI(instance.public_key_pem, ALG)
        for (const [delivery, event] of [[verify, 'webhook.verify'], [create, 'app_instance.create']] as const) {
          assert.equal(delivery.headers['content-type'], 'application/json; charset=utf-8')
          assert.equal(delivery.headers['user-agent'], USER_AGENT)
          assert.match(String(delivery.headers['x-4me-delivery']), /^[0-9a-f-]{36}$/)
          const header = decodeProtectedHeader(jwtOf(delivery))
          assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ'])
          assert.equal(header.typ, 'JWT')
          assert.equal(header.alg, ALG)
          const checks = { issuer: issuer(), audience, algorithms: [ALG] }
          const { payload } = await jwtVerify(jwtOf(delivery), byKeySet, checks)
          assert.deepEqual((await verifyByDiscovery(delivery, audience, ALG)).payload, payload)
          assert.deepEqual((await jwtVerify(jwtOf(delivery), pem, checks)).payload, payload)
          assert.equal(payload.jti, delivery.headers['x-4me-delivery'])
          assert.equal(payload.sub, String(instance.webhook.id))
          assert.equal(payload.nbf, payload.iat)
          assert.equal(payload.exp, payload.iat! + 5 * 60)
          assert.ok(Math.abs(payload.iat! - Date.now() / 1000) < 60)
          const data = payload.data as Record<string, any>
          assert.deepEqual(Object.keys(data), ['webhook_id', 'webhook_nodeID', 'account_id', 'account', 'name', 'event', 'object_id', 'object_nodeID', 'person_id', 'person_name', 'payload'])
          assert.equal(data.webhook_id, instance.webhook.id)
          assert.equal(data.webhook_nodeID, instance.webhook.nodeID)
          assert.equal(data.account_id, customer.id)
          assert.equal(data.account, `${origin}/accounts/${customer.id}`)
          assert.equal(data.event, event)
          assert.equal(data.person_name, 'Administrator')
        }
        const created = (await jwtVerify(jwtOf(create), byKeySet, { issuer: issuer(), audience })).payload.data as Record<string, any>
        assert.equal(created.object_id, instance.id)
        assert.deepEqual(created.payload, {
          id: instance.id,
          nodeID: instance.nodeID,
          app_offering: { reference: offering.reference, id: offering.id, nodeID: offering.nodeID },
          customer_account_id: customer.id,
          enabled_by_customer: true,
          disabled: false,
          suspended: false,
        })
        // The key set of the customer's policy holds the same key, once, with kid, alg and use.
        const own = await customer.call('GET', `/v1/webhook_policies/${instance.webhook_policy.id}/jwks`)
        assert.equal(own.statusCode, 200)
        const [key] = own.json().keys
        assert.equal(own.json().keys.length, 1)
        assert.deepEqual([key.kid, key.alg, key.use], [decodeProtectedHeader(jwtOf(create)).kid, ALG, 'sig'])
        assert.equal(key.d, undefined)
      })
    }

    it('sends an instance\'s later events in order: update by the customer, delete when the provider disables it', async () => {
      const { instance } = await install('lifecycle')
      const path = `/lifecycle/${customer.id}`
      assert.equal((await customer.call('PATCH', `/v1/app_instances/${instance.id}`, { enabled_by_customer: false })).statusCode, 200)
      assert.equal((await provider.call('PATCH', `/v1/app_instances/${instance.id}`, { suspended: true })).statusCode, 200)
      assert.equal((await provider.call('PATCH', `/v1/app_instances/${instance.id}`, { disabled: true })).statusCode, 200)
      await receiver.until(() => receiver.at(path).length >= 5, 'five deliveries')
      const events = []
      for (const delivery of receiver.at(path)) {
        const { payload } = await jwtVerify(jwtOf(delivery), createRemoteJWKSet(new URL(`${origin}/v1/accounts/${provider.id}/jwks.json`)), { issuer: issuer() })
        const data = payload.data as Record<string, any>
        events.push([data.event, data.person_name, data.payload?.enabled_by_customer, data.payload?.suspended, data.payload?.disabled])
      }
      assert.deepEqual(events, [
        ['webhook.verify', 'Administrator', undefined, undefined, undefined],
        ['app_instance.create', 'Administrator', true, false, false],
        ['app_instance.update', 'Administrator', false, false, false],
        ['app_instance.update', 'Administrator', false, true, false],
        ['app_instance.delete', 'Administrator', false, true, true],
      ])
    })

    it('retries a failing receiver with growing waits, the same delivery id each time, and lists every attempt', async () => {
      receiver.on('/flaky/', (_delivery, earlier) => (earlier.length < 2 ? 503 : 200))
      const { instance } = await install('flaky')
      const path = `/flaky/${customer.id}`
      // webhook.verify fails twice, then passes; app_instance.create waits for it, then passes at once.
      await receiver.until(() => receiver.at(path).filter((d) => d.answered === 200).length >= 2, 'both delivered')
      const attempts = receiver.at(path)
      assert.deepEqual(attempts.map((d) => d.answered), [503, 503, 200, 200])
      const ids = attempts.map((d) => d.headers['x-4me-delivery'])
      assert.equal(new Set(ids.slice(0, 3)).size, 1, 'one delivery, three attempts')
      assert.notEqual(ids[3], ids[0])
      // base 200 ms: the first wait is 100-200 ms, the second 200-400 ms (and the poll adds a little).
      const waits = [attempts[1].at - attempts[0].at, attempts[2].at - attempts[1].at]
      assert.ok(waits[0] >= 100 && waits[1] >= 200, `waits ${waits}`)

      const listed = await attemptsOf(instance.webhook.id, 4)
      assert.deepEqual(listed.map((a: any) => [a.event, a.attempt, a.status, a.response_code]), [
        ['app_instance.create', 1, 'delivered', 200],
        ['webhook.verify', 3, 'delivered', 200],
        ['webhook.verify', 2, 'failed', 503],
        ['webhook.verify', 1, 'failed', 503],
      ])
      assert.equal(listed[2].error, 'answered 503')
      assert.equal(listed[0].error, null)
      assert.equal(listed[3].delivery, ids[0])
      assert.ok(listed.every((a: any) => Number.isInteger(a.duration) && a.duration >= 0))
      // Paginated and filtered like any collection.
      const page = await customer.call('GET', `/v1/webhooks/${instance.webhook.id}/deliveries?status=failed&per_page=1`)
      assert.equal(page.json().length, 1)
      assert.equal(page.headers['x-pagination-total-entries'], '2')
      assert.match(String(page.headers.link), /rel="next"/)
      // Another account's webhook has no attempts to show.
      assert.equal((await provider.call('GET', `/v1/webhooks/${instance.webhook.id}/deliveries`)).statusCode, 404)
    })

    it('follows no redirect, and reads no more of an answer than it needs', async () => {
      // A redirect to another path of the receiver: a 3xx is a failed attempt, the target never asked.
      const redirector = createServer((req, res) => {
        req.resume()
        if (req.url?.startsWith('/moved')) return void res.writeHead(302, { location: `${receiver.origin}/elsewhere` }).end()
        // An endless answer: 200 at once, then a body that never ends.
        res.writeHead(200, { 'content-type': 'text/plain' })
        const chunk = Buffer.alloc(64 * 1024, 'x')
        const pump = () => {
          while (res.write(chunk)) if (res.destroyed) return
          res.once('drain', pump)
        }
        pump()
      })
      redirector.listen(0, '127.0.0.1')
      await once(redirector, 'listening')
      const base = `http://127.0.0.1:${(redirector.address() as { port: number }).port}`
      try {
        const moved = (await customer.call('POST', '/v1/webhooks', { event: 'webhook.verify', uri: `${base}/moved` })).json()
        const endless = (await customer.call('POST', '/v1/webhooks', { event: 'webhook.verify', uri: `${base}/endless` })).json()
        const [redirected] = await attemptsOf(moved.id, 1)
        assert.deepEqual([redirected.status, redirected.response_code, redirected.error], ['failed', 302, 'answered 302'])
        assert.deepEqual(receiver.at('/elsewhere'), [])
        const [streamed] = await attemptsOf(endless.id, 1)
        assert.deepEqual([streamed.status, streamed.response_code], ['delivered', 200])
        assert.ok(streamed.duration < 1000, `read for ${streamed.duration} ms`)
      } finally {
        redirector.closeAllConnections()
        redirector.close()
      }
    })

    it('gives up after WEBHOOK_MAX_ATTEMPTS, then sends the next event; a receiver that never answers times out', async () => {
      receiver.on('/down/', (delivery) => (JSON.parse(Buffer.from(jwtOf(delivery).split('.')[1], 'base64url').toString()).data.event === 'webhook.verify' ? 'hang' : 200))
      const started = Date.now()
      const { instance } = await install('down')
      const path = `/down/${customer.id}`
      await receiver.until(() => receiver.at(path).some((d) => d.answered === 200), 'the create after the verify gave up', 40_000)
      const attempts = receiver.at(path)
      assert.equal(attempts.length, 5, 'four attempts of webhook.verify, then app_instance.create')
      const log = await attemptsOf(instance.webhook.id, 5)
      assert.deepEqual(log.map((a: any) => [a.attempt, a.status, a.error]), [
        [1, 'delivered', null],
        [4, 'failed', 'timed out'],
        [3, 'failed', 'timed out'],
        [2, 'failed', 'timed out'],
        [1, 'failed', 'timed out'],
      ])
      // WEBHOOK_TIMEOUT is 2 s: no attempt held the worker much longer.
      assert.ok(log.slice(1).every((a: any) => a.duration >= 1900 && a.duration < 4000), JSON.stringify(log))
      assert.ok(Date.now() - started < 30_000)
    })
  })
}
