import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { PassThrough } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import pino from 'pino'
import { request } from 'undici'
import { loadConfig } from '../../src/config.ts'
import { createAccount } from '../../src/storage/accounts.ts'
import { migrateToLatest } from '../../src/storage/migrate.ts'
import { createToken } from '../../src/storage/tokens.ts'
import { startServer } from '../../src/server.ts'
import { uniqueId } from '../support/harness.ts'
import { spawnServer } from '../support/server-process.ts'
import { engines, freshStore, type TestStore } from '../support/stores.ts'
import { command } from '../support/command.ts'

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

async function accountWithToken(store: TestStore): Promise<string> {
  const database = store.open()
  try {
    await migrateToLatest(database)
    const id = uniqueId()
    await createAccount(database, id, 'Process')
    return (await createToken(database, id)).token
  } finally {
    await database.close()
  }
}

/** Runs `app-offerings serve` to its end; its exit code and what it wrote. */
async function serveOnce(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [command(), 'serve', ...args], { env: { PATH: process.env.PATH, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk))
  const [code] = await once(child, 'exit')
  return { code, output }
}

describe('graceful shutdown (sqlite)', () => {
  let store: TestStore
  before(async () => {
    store = await freshStore('sqlite')
  })
  after(async () => store.drop())

  it('finishes a request in flight on SIGTERM, then closes the database and exits 0', async () => {
    const token = await accountWithToken(store)
    const server = await spawnServer(store.url, { LOG_LEVEL: 'info' })
    const { port } = new URL(server.origin)
    const body = JSON.stringify({ name: 'Written during shutdown' })
    const socket = connect(Number(port), '127.0.0.1')
    socket.setEncoding('utf8')
    let answer = ''
    socket.on('data', (chunk) => (answer += chunk))
    socket.write(
      `POST /v1/service_instances HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
    )
    // "100 Continue" means the server has taken the request in: it is in flight.
    while (!answer.includes('100 Continue')) await once(socket, 'data')
    server.child.kill('SIGTERM')
    while (!server.output().includes('shutting down')) await new Promise((resolve) => setTimeout(resolve, 50))
    socket.write(body)
    const exit = server.stop()
    await once(socket, 'close')
    assert.match(answer, /HTTP\/1\.1 201 Created/)
    assert.match(answer, /Written during shutdown/)
    assert.equal(await exit, 0)
    assert.match(server.output(), /stopped: requests finished, database closed/)
  })

  it('refuses several workers on SQLite with one clear line', async () => {
    const { code, output } = await serveOnce({ DATABASE_URL: store.url }, ['--workers', '2'])
    assert.equal(code, 2)
    assert.equal(output, 'app-offerings: WORKERS: more than one worker needs PostgreSQL (DATABASE_URL=postgres://...)\n')
  })

  it('stops on a wrong setting with one line naming it', async () => {
    const { code, output } = await serveOnce({ DATABASE_URL: store.url, RATE_LIMIT_BURST: 'many' })
    assert.equal(code, 2)
    assert.match(output, /^app-offerings: RATE_LIMIT_BURST: must be a whole number, got "many"\n$/)
  })
})

if (engines.includes('postgres')) {
  describe('several processes on PostgreSQL', () => {
    let store: TestStore
    before(async () => {
      store = await freshStore('postgres')
    })
    after(async () => store.drop())

    it('refuses several workers without REDIS_URL', async () => {
      const { code, output } = await serveOnce({ DATABASE_URL: store.url, WORKERS: '2' })
      assert.equal(code, 2)
      assert.match(output, /^app-offerings: WORKERS: more than one worker needs REDIS_URL/)
    })

    it('starts two servers together on an empty database: both serve, one bootstrap', async () => {
      const config = loadConfig({ DATABASE_URL: store.url, PORT: '0', RATE_LIMIT: 'off', LOG_LEVEL: 'silent' })
      const outputs = [new PassThrough(), new PassThrough()]
      const texts = ['', '']
      outputs.forEach((out, i) => out.setEncoding('utf8').on('data', (chunk) => (texts[i] += chunk)))
      const servers = await Promise.all(outputs.map((out) => startServer(config, pino({ level: 'silent' }), out)))
      try {
        for (const server of servers) assert.equal((await fetch(server.url)).status, 200)
        assert.equal(texts.filter((text) => text.includes('First start')).length, 1)
      } finally {
        await Promise.all(servers.map((server) => server.close()))
      }
    })

    it('serve --workers 2 shares the port and one rate limit', async () => {
      const token = await accountWithToken(store)
      const server = await spawnServer(store.url, {
        WORKERS: '2',
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: `${uniqueId('test')}:`,
        RATE_LIMIT: 'on',
        RATE_LIMIT_BURST: '4',
        RATE_LIMIT_BURST_SECONDS: '600',
        LOG_LEVEL: 'info',
      })
      try {
        while ((server.output().match(/"msg":"listening"/g) ?? []).length < 2) await new Promise((resolve) => setTimeout(resolve, 100))
        const statuses = []
        for (let i = 0; i < 6; i++) {
          // A new connection each time: the primary hands connections to the workers in turn.
          const res = await request(`${server.origin}/v1/service_instances`, { headers: { authorization: `Bearer ${token}` }, reset: true })
          await res.body.arrayBuffer()
          statuses.push(res.statusCode)
        }
        assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429])
      } finally {
        assert.equal(await server.stop(), 0)
      }
      // Request lines are buffered until a worker exits.
      const pids = new Set([...server.output().matchAll(/"pid":(\d+),[^\n]*"route":"\/v1\/service_instances"/g)].map((m) => m[1]))
      assert.equal(pids.size, 2, 'both workers answered')
      assert.match(server.output(), /all workers stopped/)
    })
  })
}
