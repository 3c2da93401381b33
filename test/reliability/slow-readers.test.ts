// Slow readers: a client asks for a large page and never reads it. Without a bound the connection
// and the unsent answer stay in the server for as long as the client likes; with SEND_TIMEOUT the
// answer is abandoned and the socket destroyed once its time is up (src/http/send-timeout.ts).
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { Client, provision, spawnServer, type ServerProcess, type Tenant } from '../support/server-process.ts'
import { engines, freshStore, type TestStore } from '../support/stores.ts'

const SEND_TIMEOUT = 2
const OFFERINGS = 50
/**
 * A description as large as a page may render: 64 KB of a control character, which JSON writes
 * as six characters. A page holds as many as fit 16 M characters (42), ~16 MB: more than the
 * loopback socket buffers hold.
 */
const text = (i: number) => `${i} `.padEnd(65_535, '\u0001')
const QUERY = 'per_page=100&fields=description'

interface Reader {
  socket: Socket
  /** Resolves when the server has closed the connection: the bytes received in all. */
  closed: Promise<number>
  /** Starts reading what is in the buffers. */
  read(): void
}

/** A client that sends one request and then does not read its answer. */
function nonReader(port: number, request: string): Reader {
  const socket = connect(port, '127.0.0.1')
  let received = 0
  const closed = new Promise<number>((resolve) => {
    socket.on('close', () => resolve(received))
    socket.on('end', () => socket.destroy())
  })
  socket.on('error', () => {})
  socket.on('data', (chunk: Buffer) => (received += chunk.length))
  socket.on('connect', () => {
    socket.write(request)
    socket.pause()
  })
  return { socket, closed, read: () => socket.resume() }
}

function residentMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

for (const engine of engines) {
  describe(`clients that do not read their answer (${engine})`, () => {
    let store: TestStore
    let server: ServerProcess
    let tenant: Tenant
    let client: Client
    let port: number
    let pageBytes: number

    before(async () => {
      store = await freshStore(engine)
      ;[tenant] = await provision(store, 1)
      server = await spawnServer(store.url, { SEND_TIMEOUT: String(SEND_TIMEOUT) })
      port = Number(new URL(server.origin).port)
      client = new Client(server.origin, tenant.token, 8)
      const si = (await client.call('POST', '/v1/service_instances', { name: 'Big texts' })).json().id
      for (let i = 0; i < OFFERINGS; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, async (_, j) => {
            const n = i + j
            const res = await client.call('POST', '/v1/app_offerings', {
              name: `Large ${n}`,
              service_instance_id: si,
              policy_jwt_alg: 'rs256',
              webhook_uri_template: 'https://hooks.example.com/{account}/notes',
              description: text(n),
            })
            assert.equal(res.status, 201, res.text)
          }),
        )
      }
      const page = await client.call('GET', `/v1/app_offerings?${QUERY}`)
      assert.equal(page.status, 200)
      pageBytes = Buffer.byteLength(page.text)
      assert.ok(pageBytes > 12 * 1024 * 1024, `a page of ${pageBytes} bytes is more than the socket buffers hold`)
    })
    after(async () => {
      await client?.close()
      await server?.stop()
      await store?.drop()
    })

    it('abandons an answer that is not read within SEND_TIMEOUT and closes the connection', async () => {
      const request =
        `GET /v1/app_offerings?${QUERY} HTTP/1.1\r\nHost: x\r\n` +
        `Authorization: Bearer ${tenant.token}\r\n\r\n`
      const rssBefore = residentMiB(server.child.pid!)
      const readers = Array.from({ length: 6 }, () => nonReader(port, request))
      // The server renders six 16 MB pages first (seconds on a busy machine), then each answer has
      // SEND_TIMEOUT to leave. Bounded wait: every one is abandoned within a minute, or the test fails.
      const abandoned = () => server.output().match(/answer not read by the client within SEND_TIMEOUT/g)?.length ?? 0
      let rssHeld = rssBefore
      for (let waited = 0; abandoned() < readers.length; waited += 250) {
        if (waited > 60_000) assert.fail(`after 60 s, ${abandoned()} of ${readers.length} unread answers were abandoned`)
        rssHeld = Math.max(rssHeld, residentMiB(server.child.pid!))
        await pause(250)
      }
      // Now read what the kernel buffers still hold: the answer ends short, and so does the connection.
      const deadline = pause(20_000).then(() => 'still open')
      for (const reader of readers) reader.read()
      for (const reader of readers) {
        const outcome = await Promise.race([reader.closed, deadline])
        assert.notEqual(outcome, 'still open', 'the server kept the connection of a client that did not read')
        assert.ok((outcome as number) < pageBytes, `the whole answer (${outcome} of ${pageBytes} bytes) was kept for the client`)
      }
      await pause(500)
      const rssAfter = residentMiB(server.child.pid!)
      console.log(`slow readers (${engine}): page ${(pageBytes / 2 ** 20).toFixed(1)} MiB, rss before ${rssBefore.toFixed(0)} MiB, while held ${rssHeld.toFixed(0)} MiB, after ${rssAfter.toFixed(0)} MiB`)
      assert.match(server.output(), /answer not read by the client within SEND_TIMEOUT/)
      const res = await client.call('GET', '/v1/app_offerings?per_page=1')
      assert.equal(res.status, 200, 'the server still serves')
    })

    it('lets a client that reads its answer have all of it', async () => {
      const res = await client.call('GET', `/v1/app_offerings?${QUERY}`)
      assert.equal(res.status, 200)
      assert.equal(Buffer.byteLength(res.text), pageBytes)
      assert.equal(res.json().length, Number(res.headers['x-pagination-per-page']))
      assert.equal(res.headers['x-pagination-total-entries'], String(OFFERINGS))
    })
  })
}
