// Isolation: every route the app has (read from the router, so a new route is covered the day it
// lands) x every way of asking for another account's data. The answers carry the right status and
// not one byte of the other account's data: not in a body, a list, a count, a Link or an error.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Kysely } from 'kysely'
import { request, useHarness, type TestAccount } from '../support/harness.ts'
import { engines } from '../support/stores.ts'
import { createToken, revokeToken } from '../../src/storage/tokens.ts'
import { offeringBody } from '../support/workload.ts'
import { setTrust } from '../../src/cli/trust.ts'
import { uploaded } from '../support/uploads.ts'

// Answered without a token (conventions.md, top).
const PUBLIC = new Set([
  'GET /v1', 'GET /v1/openapi.json', 'GET /healthz', 'GET /readyz', 'GET /docs', 'GET /docs/assets/:file',
  // Key sets and discovery documents of webhook issuers: public keys, for receivers without a token.
  'GET /v1/accounts/:account/jwks', 'GET /accounts/:account/.well-known/openid-configuration',
])
const MISSING_ID = 999_999_999

interface Route {
  method: string
  url: string
}

/** Every method and path the router knows, from `printRoutes` (one node per line, 4 columns a level). */
export function routesOf(app: FastifyInstance): Route[] {
  const routes: Route[] = []
  const path: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line)
    if (!match) continue
    const depth = match[1].length / 4
    path.length = depth
    path.push(match[2])
    const url = path.join('').replace(/\/$/, '') || '/'
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean)) routes.push({ method, url })
  }
  return routes
}

const nodeId = (type: string, id: number) => Buffer.from(`localhost/${type}/${id}`).toString('base64url')

for (const engine of engines) {
  describe(`isolation (${engine})`, () => {
    const h = useHarness(engine)
    let victim: TestAccount
    let intruder: TestAccount
    let revoked: string
    /** The victim's records by collection: what every :id route is tried with. */
    const victims = new Map<string, { id: number; type: string }>()
    /** Strings that only the victim's data contains. */
    let secrets: string[]
    let routes: Route[]
    const snapshots = new Map<string, string>()

    before(async () => {
      victim = await h().account(`Victim ${Math.random().toString(36).slice(2)}`)
      intruder = await h().account('Intruder')
      const si = await victim.call('POST', '/v1/service_instances', { name: `Victim mail ${victim.id}`, sourceID: `vsrc-${victim.id}` })
      assert.equal(si.statusCode, 201, si.body)
      // The victim's offering carries an attachment, whose download is tried like any record.
      const fileName = `victim-${victim.id}.txt`
      const key = await uploaded(victim, fileName, Buffer.from(`victim file ${victim.id}`))
      const offering = await victim.call('POST', '/v1/app_offerings', { ...offeringBody(si.json().id, `Victim app ${victim.id}`), sourceID: `vsrc-${victim.id}`, description_attachments: [{ key }] })
      assert.equal(offering.statusCode, 201, offering.body)
      victims.set('attachments', { id: offering.json().attachments[0].id, type: 'Attachment' })
      victims.set('service_instances', { id: si.json().id, type: 'ServiceInstance' })
      victims.set('app_offerings', { id: offering.json().id, type: 'AppOffering' })
      // The victim installs a provider's published offering (neither the provider nor the victim
      // is the intruder): an instance of its own.
      const provider = await h().account('Provider')
      const psi = await provider.call('POST', '/v1/service_instances', { name: 'Provider mail' })
      const draft = await provider.call('POST', '/v1/app_offerings', { ...offeringBody(psi.json().id, 'Provider app'), disabled: false })
      const published = await provider.call('POST', `/v1/app_offerings/${draft.json().id}/publish`)
      assert.equal(published.statusCode, 201, published.body)
      await setTrust(h().database, victim.id, provider.id, true)
      const instance = await victim.call('POST', '/v1/app_instances', { app_offering_id: published.json().id })
      assert.equal(instance.statusCode, 201, instance.body)
      victims.set('app_instances', { id: instance.json().id, type: 'AppInstance' })
      // The install made the victim's webhook and policy.
      victims.set('webhooks', { id: instance.json().webhook.id, type: 'Webhook' })
      victims.set('webhook_policies', { id: instance.json().webhook_policy.id, type: 'WebhookPolicy' })
      const extension = await victim.call('POST', '/v1/ui_extensions', { name: `Victim extension ${victim.id}`, html: '<p>victim</p>' })
      assert.equal(extension.statusCode, 201, extension.body)
      assert.equal((await victim.call('POST', `/v1/ui_extensions/${extension.json().id}/activate`)).statusCode, 201)
      victims.set('ui_extensions', { id: extension.json().id, type: 'UiExtension' })
      victims.set('people', { id: (await victim.call('GET', '/v1/me')).json().id, type: 'Person' })
      const policyKid = (await victim.call('GET', `/v1/webhook_policies/${instance.json().webhook_policy.id}/jwks`)).json().keys[0].kid
      secrets = [fileName, `victim file ${victim.id}`, victim.id, offering.json().reference, offering.json().nodeID, si.json().nodeID, `vsrc-${victim.id}`, offering.json().policy_jwt_audience, instance.json().nodeID, instance.json().webhook.nodeID, instance.json().webhook_policy.nodeID, policyKid]
      // The intruder has records of its own, with ids beside the victim's.
      const own = await intruder.call('POST', '/v1/service_instances', { name: 'Intruder mail' })
      await intruder.call('POST', '/v1/app_offerings', offeringBody(own.json().id, 'Intruder app'))
      const old = await createToken(h().database, intruder.id, { scope: 'write' })
      await revokeToken(h().database, old.id)
      revoked = old.token
      routes = routesOf(h().app)
      for (const [collection, { id }] of victims) snapshots.set(collection, (await victim.call('GET', `/v1/${collection}/${id}`)).body)
    })

    const send = (route: Route, url: string, headers: Record<string, string>) =>
      request(h().app, route.method, url, ['POST', 'PATCH', 'PUT'].includes(route.method) ? { name: 'stolen', card_description: 'stolen' } : undefined, headers)

    /** The route's URL pointed at the victim's record, and at a record that does not exist. */
    const targets = (route: Route) => {
      if (!route.url.includes(':id')) return { victim: [route.url], missing: [route.url] }
      const collection = route.url.split('/')[2]
      const record = victims.get(collection)
      assert.ok(record, `no victim record for ${route.url}: add one to this test`)
      const at = (id: string) => route.url.replace(':id', id)
      return {
        victim: [at(String(record.id)), at(nodeId(record.type, record.id))],
        missing: [at(String(MISSING_ID)), at(nodeId(record.type, MISSING_ID))],
      }
    }

    const idsOf = async (table: string, account: string) => {
      const rows = await (h().database.db as Kysely<any>).selectFrom(table).select('id').where('account_id', '=', account).execute()
      return new Set(rows.map((row) => Number(row.id)))
    }

    const leaks = (res: LightMyRequestResponse) => {
      const seen = `${res.body}\n${JSON.stringify(res.headers)}`
      return secrets.filter((secret) => seen.includes(secret))
    }

    const credentials = () => ({
      'no token': {},
      'a revoked token': { authorization: `Bearer ${revoked}` },
      'a malformed token': { authorization: 'Bearer not a token' },
      'basic auth': { authorization: `Basic ${Buffer.from(`${victim.id}:${victim.token}`).toString('base64')}` },
      "another account's read token": { authorization: `Bearer ${intruder.readToken}` },
      "another account's write token": { authorization: `Bearer ${intruder.token}` },
      'the victim named in X-4me-Account': { authorization: `Bearer ${intruder.token}`, 'x-4me-account': victim.id },
      'the victim named in X-Xurrent-Account': { authorization: `Bearer ${intruder.token}`, 'x-4me-account': intruder.id, 'x-xurrent-account': victim.id },
      'an account that does not exist in the header': { authorization: `Bearer ${intruder.token}`, 'x-4me-account': 'nosuchaccount' },
    })

    it('covers every route the router has', () => {
      const paths = new Set(routes.map((r) => r.url))
      for (const expected of ['/v1/app_offerings', '/v1/app_offerings/:id', '/v1/service_instances/:id', '/v1/app_offerings/latest_internal']) {
        assert.ok(paths.has(expected), `${expected} not found in ${[...paths].join(' ')}`)
      }
    })

    it('answers every route x credential with the right status and none of the victim data', async (t) => {
      let checked = 0
      for (const route of routes) {
        const isPublic = PUBLIC.has(`${route.method === 'HEAD' ? 'GET' : route.method} ${route.url}`)
        const { victim: urls, missing } = targets(route)
        for (const [name, headers] of Object.entries(credentials())) {
          for (const [i, url] of urls.entries()) {
            const res = await send(route, url, headers)
            const what = `${route.method} ${url} with ${name}`
            checked++
            assert.deepEqual(leaks(res), [], `${what} leaks: ${res.statusCode} ${res.body.slice(0, 300)}`)
            assert.ok(res.statusCode < 500, `${what}: ${res.statusCode} ${res.body}`)
            if (isPublic) continue
            const body = route.method === 'HEAD' ? undefined : res.json()
            if (['no token', 'a revoked token', 'a malformed token', 'basic auth'].includes(name)) {
              assert.equal(res.statusCode, 401, what)
              if (body) assert.deepEqual(body, { message: 'Unauthorized' })
            } else if (name.includes('header')) {
              assert.equal(res.statusCode, 403, what)
              if (body) assert.deepEqual(body, { message: 'Forbidden' })
            } else {
              // Another account's record answers exactly as a record that does not exist.
              const absent = await send(route, missing[i], headers)
              assert.equal(res.statusCode, absent.statusCode, `${what}: ${res.body} / ${absent.body}`)
              if (route.url.includes(':id')) assert.equal(res.body, absent.body, what)
              if (name.includes('read') && route.method !== 'GET' && route.method !== 'HEAD') assert.ok(res.statusCode >= 400, what)
              if (res.statusCode === 200 && Array.isArray(body)) {
                // Writes above may have added intruder records: the database says which are its.
                const own = await idsOf(route.url.split('/')[2], intruder.id)
                for (const record of body) assert.ok(own.has(record.id), `${what} lists record ${record.id}`)
                const total = Number(res.headers['x-pagination-total-entries'])
                assert.ok(total <= own.size, `${what} counts ${total} records; the intruder has ${own.size}`)
              }
            }
          }
        }
      }
      t.diagnostic(`${routes.length} routes, ${checked} requests`)
    })

    it('finds nothing of the victim through filters, sorting, fields or cursors', async () => {
      const { id } = victims.get('app_offerings')!
      const queries = [
        `id=${id}`, `reference=${secrets[1]}`, `name=Victim app ${victim.id}`, `sourceID=vsrc-${victim.id}`, `id=>0&per_page=1`,
        `sort=-id&per_page=1&fields=nodeID,reference,service_instance`, `service_instance_id=${victims.get('service_instances')!.id}`,
      ]
      for (const path of ['/v1/app_offerings', '/v1/app_offerings/latest_internal', '/v1/service_instances']) {
        for (const query of queries) {
          const res = await intruder.call('GET', `${path}?${query.replaceAll(' ', '%20')}`)
          assert.deepEqual(leaks(res), [], `${path}?${query}`)
          if (res.statusCode !== 200) continue
          for (const record of res.json()) assert.notEqual(record.id === id && path.includes('offering'), true, `${path}?${query} lists the victim's record`)
          // Follow every Link: the next pages are the intruder's too.
          const link = String(res.headers.link ?? '')
          for (const [, next] of link.matchAll(/<([^>]+)>/g)) {
            const follow = await intruder.call('GET', new URL(next).pathname + new URL(next).search)
            assert.deepEqual(leaks(follow), [], next)
          }
        }
      }
    })

    it("refuses to point an intruder's record at the victim's service instance, revealing nothing", async () => {
      const own = (await intruder.call('GET', '/v1/app_offerings')).json()[0]
      const res = await intruder.call('PATCH', `/v1/app_offerings/${own.id}`, { service_instance_id: victims.get('service_instances')!.id })
      assert.equal(res.statusCode, 422)
      assert.deepEqual(res.json(), { message: 'Validation Failed', errors: [['service_instance', 'must exist']] })
    })

    it("leaves the victim's records exactly as they were", async () => {
      for (const [collection, { id }] of victims) {
        assert.equal((await victim.call('GET', `/v1/${collection}/${id}`)).body, snapshots.get(collection))
      }
    })
  })
}
