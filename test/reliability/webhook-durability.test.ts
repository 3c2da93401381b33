// Durable deliveries (lifecycle.md, "Webhook deliveries"): a server killed with SIGKILL while
// deliveries wait loses none of them, and after the restart each is accepted once, in order per
// webhook; on PostgreSQL two `app-offerings worker` processes share the outbox without ever
// sending one delivery twice or two deliveries of one webhook at once.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import type { Kysely } from 'kysely'
import { Client, provision, spawnServer, spawnWorker, type ServerProcess, type Tenant } from '../support/server-process.ts'
import { engines, freshStore, type TestStore } from '../support/stores.ts'
import { jwtOf, Receiver, type Received } from '../support/receiver.ts'

const WEBHOOKS = 3
const EVENTS = 8
const SHARED_WEBHOOKS = 8
const FAST = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT: '1', WEBHOOK_MAX_ATTEMPTS: '100' }

/**
 * Webhook i and event k of a delivery: its webhook.verify names the URI it was made for,
 * `/w<i>/<k>` (it is sent to the webhook's URI as it is when sent, the newest).
 */
function placeOf(delivery: Received): [number, number] {
  const made = (decodeJwt(jwtOf(delivery)).data as { payload: { uri: string } }).payload.uri
  const [, webhook, event] = new URL(made).pathname.split('/')
  return [Number(webhook.slice(1)), Number(event)]
}
const idOf = (delivery: Received) => String(delivery.headers['x-4me-delivery'])

/**
 * `WEBHOOKS` webhooks of the tenant signed by one policy, each given `EVENTS` URIs in turn: one
 * webhook.verify per URI, to `/w<i>/<k>`, k = 0, 1, ...
 */
async function makeEvents(client: Client, receiver: Receiver, webhooks = WEBHOOKS, events = EVENTS): Promise<void> {
  const policy = await client.call('POST', '/v1/webhook_policies', { jwt_alg: 'es256' })
  assert.equal(policy.status, 201, policy.text)
  for (let i = 0; i < webhooks; i++) {
    const hook = await client.call('POST', '/v1/webhooks', { event: 'webhook.verify', uri: `${receiver.origin}/w${i}/0`, webhook_policy_id: policy.json().id })
    assert.equal(hook.status, 201, hook.text)
    for (let k = 1; k < events; k++) assert.equal((await client.call('PATCH', `/v1/webhooks/${hook.json().id}`, { uri: `${receiver.origin}/w${i}/${k}` })).status, 200)
  }
}

async function deliveries(store: TestStore): Promise<Array<{ uuid: string; status: string }>> {
  const database = store.open()
  try {
    return (await (database.db as Kysely<any>).selectFrom('webhook_deliveries').select(['uuid', 'status']).orderBy('id').execute()) as Array<{ uuid: string; status: string }>
  } finally {
    await database.close()
  }
}

async function allDelivered(store: TestStore, expected: number, timeoutMs = 60_000): Promise<Array<{ uuid: string; status: string }>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const rows = await deliveries(store)
    if (rows.length === expected && rows.every((r) => r.status === 'delivered')) return rows
    assert.ok(Date.now() < deadline, `not all delivered: ${JSON.stringify(rows.map((r) => r.status))}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Each delivery accepted once; per webhook, accepted in the order made, never after a later one. */
function assertOnceInOrder(receiver: Receiver, uuids: string[], webhooks = WEBHOOKS): void {
  const accepted = receiver.received.filter((d) => d.answered === 200)
  const counts = new Map<string, number>()
  for (const d of accepted) counts.set(idOf(d), (counts.get(idOf(d)) ?? 0) + 1)
  assert.deepEqual([...counts.values()].filter((n) => n !== 1), [], 'a delivery accepted twice')
  assert.deepEqual([...counts.keys()].sort(), [...uuids].sort(), 'every delivery accepted')
  for (let i = 0; i < webhooks; i++) {
    const order = accepted.filter((d) => placeOf(d)[0] === i).map((d) => placeOf(d)[1])
    assert.deepEqual(order, [...order.keys()], `webhook ${i} out of order: ${order}`)
  }
  // Nothing is sent again once accepted.
  for (const d of receiver.received) {
    const first = accepted.find((a) => idOf(a) === idOf(d))!
    assert.ok(d.at <= first.at, `${idOf(d)} sent again after it was accepted`)
  }
}

for (const engine of engines) {
  describe(`webhook durability (${engine})`, () => {
    let store: TestStore
    let tenant: Tenant
    const receiver = new Receiver()
    const processes: Array<{ kill(): Promise<void> }> = []

    before(async () => {
      await receiver.start()
      store = await freshStore(engine)
      ;[tenant] = await provision(store, 1)
    })
    after(async () => {
      for (const process of processes) await process.kill()
      await receiver.stop()
      await store?.drop()
    })

    it('loses no delivery to a SIGKILL: after the restart each is accepted once, in order per webhook', async (t) => {
      let up = false
      receiver.on('/w', () => (up ? 200 : 503))
      const first: ServerProcess = await spawnServer(store.url, FAST)
      processes.push(first)
      const client = new Client(first.origin, tenant.token)
      try {
        await makeEvents(client, receiver)
      } finally {
        await client.close()
      }
      await receiver.until(() => receiver.received.length >= WEBHOOKS * 2, 'failing attempts before the kill')
      await first.kill()
      const waiting = await deliveries(store)
      assert.equal(waiting.length, WEBHOOKS * EVENTS)
      assert.ok(waiting.every((d) => d.status !== 'delivered'), 'nothing was accepted before the kill')
      const before = receiver.received.length

      up = true
      const second = await spawnServer(store.url, FAST)
      processes.push(second)
      const rows = await allDelivered(store, WEBHOOKS * EVENTS)
      assertOnceInOrder(receiver, rows.map((r) => r.uuid))
      t.diagnostic(`${before} refused attempts before the kill, ${receiver.received.length - before} after the restart`)
      await second.stop()
    })

    it('two worker processes share one outbox: no delivery sent twice, one delivery of a webhook at a time, order kept', { skip: engine !== 'postgres' && 'several workers need PostgreSQL' }, async (t) => {
      receiver.received.length = 0
      // The API alone, so that the events wait for the two workers.
      const api = await spawnServer(store.url, { ...FAST, WEBHOOK_WORKER: 'false' })
      processes.push(api)
      const client = new Client(api.origin, tenant.token)
      const made = (await deliveries(store)).length
      try {
        await makeEvents(client, receiver, SHARED_WEBHOOKS, 6)
      } finally {
        await client.close()
      }
      // Answers take a while; a quarter of the deliveries are refused once (a retry, while later ones wait).
      const sending = new Set<string>()
      const overlaps: string[] = []
      const seen = new Set<string>()
      receiver.on('/w', async (delivery) => {
        const again = seen.has(idOf(delivery))
        seen.add(idOf(delivery))
        const webhook = `w${placeOf(delivery)[0]}`
        for (const key of [idOf(delivery), webhook]) {
          if (sending.has(key)) overlaps.push(key)
          sending.add(key)
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 30))
        sending.delete(idOf(delivery))
        sending.delete(webhook)
        return !again && parseInt(idOf(delivery).slice(0, 2), 16) % 4 === 0 ? 503 : 200
      })
      // Two at a time each: neither worker can take every webhook's turn.
      const env = { ...FAST, LOG_LEVEL: 'debug', WEBHOOK_CONCURRENCY: '2' }
      const workers = await Promise.all([spawnWorker(store.url, env), spawnWorker(store.url, env)])
      processes.push(...workers)
      const rows = (await allDelivered(store, made + SHARED_WEBHOOKS * 6)).slice(made)
      assert.deepEqual(overlaps, [], 'one delivery, or two of one webhook, sent at the same time')
      assertOnceInOrder(receiver, rows.map((r) => r.uuid), SHARED_WEBHOOKS)
      for (const worker of workers) await worker.stop()
      const sent = workers.map((w) => w.output().split('\n').filter((line) => line.includes('"msg":"webhook delivery attempt"')).length)
      t.diagnostic(`attempts by worker: ${sent.join(', ')}; ${receiver.received.length} received for ${rows.length} deliveries`)
      assert.ok(sent.every((n) => n > 0), `both workers sent: ${sent}`)
      assert.equal(sent[0] + sent[1], receiver.received.length)
    })
  })
}
